#include "fanotify_decode.h"

#include <sys/fanotify.h>

#include <cstring>

namespace sandwatch::sensor {

bool FanEvent::exec() const { return (mask & FAN_OPEN_EXEC) != 0; }
bool FanEvent::open() const { return (mask & FAN_OPEN) != 0; }
bool FanEvent::overflow() const { return (mask & FAN_Q_OVERFLOW) != 0; }

FanDecodeStats DecodeFanotify(std::span<const uint8_t> buf, std::vector<FanEvent>* out) {
  FanDecodeStats stats;
  size_t off = 0;
  while (buf.size() - off >= sizeof(fanotify_event_metadata)) {
    fanotify_event_metadata md;
    std::memcpy(&md, buf.data() + off, sizeof(md));
    if (md.vers != FANOTIFY_METADATA_VERSION) {
      ++stats.bad_version;
      break;
    }
    if (md.event_len < sizeof(md) || md.event_len > buf.size() - off) {
      ++stats.truncated;
      break;
    }
    FanEvent ev;
    ev.mask = md.mask;
    ev.fd = md.fd;
    ev.pid = md.pid;
    out->push_back(ev);
    ++stats.events;
    off += md.event_len;
  }
  if (off < buf.size() && stats.bad_version == 0 && stats.truncated == 0) ++stats.truncated;
  return stats;
}

bool IsElfInterpreterPath(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (base == "ld.so") return true;
  if (base.rfind("ld-linux", 0) == 0 && base.find(".so") != std::string_view::npos) return true;
  if (base.rfind("ld-musl-", 0) == 0 && base.find(".so") != std::string_view::npos) return true;
  return false;
}

}  // namespace sandwatch::sensor
