#include "inotify_decode.h"

#include <sys/inotify.h>

#include <algorithm>
#include <cstring>

namespace sandwatch::sensor {

bool DecodeInotify(std::span<const uint8_t> buf, std::vector<InotifyRecord>* out) {
  size_t off = 0;
  while (off < buf.size()) {
    if (buf.size() - off < sizeof(inotify_event)) return false;
    inotify_event ev;
    std::memcpy(&ev, buf.data() + off, sizeof(ev));
    if (ev.len > buf.size() - off - sizeof(inotify_event)) return false;
    InotifyRecord rec;
    rec.wd = ev.wd;
    rec.mask = ev.mask;
    const char* name = reinterpret_cast<const char*>(buf.data() + off + sizeof(inotify_event));
    rec.name.assign(name, strnlen(name, ev.len));
    out->push_back(std::move(rec));
    off += sizeof(inotify_event) + ev.len;
  }
  return true;
}

bool ScanCoalescer::Fire(int64_t now_ns) {
  pending_ = false;
  last_scan_ns_ = now_ns;
  ++scans_;
  return true;
}

bool ScanCoalescer::OnEvent(int64_t now_ns, int64_t delay_ns, int64_t gap_ns) {
  ++events_;
  int64_t due = std::max(now_ns + delay_ns, last_scan_ns_ + (gap_ns >= 0 ? gap_ns : min_gap_ns_));
  if (!pending_ || due < due_ns_) {
    pending_ = true;
    due_ns_ = due;
  }
  if (due_ns_ <= now_ns) return Fire(now_ns);
  return false;
}

bool ScanCoalescer::OnTimer(int64_t now_ns) {
  if (pending_ && due_ns_ <= now_ns) return Fire(now_ns);
  return false;
}

}  // namespace sandwatch::sensor
