#include "netlink_decode.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <cstring>

namespace sandwatch::sensor {

ProcConnDecodeStats DecodeProcConnector(std::span<const uint8_t> buf,
                                        std::vector<ProcConnEvent>* out) {
  ProcConnDecodeStats stats;
  size_t off = 0;
  while (off + sizeof(nlmsghdr) <= buf.size()) {
    nlmsghdr hdr;
    std::memcpy(&hdr, buf.data() + off, sizeof(hdr));
    if (hdr.nlmsg_len < sizeof(nlmsghdr) || off + hdr.nlmsg_len > buf.size()) {
      ++stats.malformed;
      break;
    }
    ++stats.messages;
    const size_t payload_off = off + NLMSG_HDRLEN;
    const size_t payload_len = hdr.nlmsg_len - NLMSG_HDRLEN;
    off += NLMSG_ALIGN(hdr.nlmsg_len);
    if (hdr.nlmsg_type == NLMSG_ERROR) {
      ++stats.errors;
      continue;
    }
    if (hdr.nlmsg_type == NLMSG_NOOP) continue;
    if (payload_len < sizeof(cn_msg)) {
      ++stats.malformed;
      continue;
    }
    cn_msg msg;
    std::memcpy(&msg, buf.data() + payload_off, sizeof(msg));
    if (msg.id.idx != CN_IDX_PROC || msg.id.val != CN_VAL_PROC ||
        msg.len > payload_len - sizeof(cn_msg) || msg.len < offsetof(proc_event, event_data)) {
      ++stats.malformed;
      continue;
    }
    proc_event ev;
    std::memset(&ev, 0, sizeof(ev));
    std::memcpy(&ev, buf.data() + payload_off + sizeof(cn_msg),
                msg.len < sizeof(ev) ? msg.len : sizeof(ev));
    ProcConnEvent e;
    e.kernel_ns = ev.timestamp_ns;
    switch (ev.what) {
      case proc_event::PROC_EVENT_FORK:
        e.what = ProcConnEvent::What::kFork;
        e.pid = ev.event_data.fork.child_pid;
        e.tgid = ev.event_data.fork.child_tgid;
        e.parent_pid = ev.event_data.fork.parent_pid;
        e.parent_tgid = ev.event_data.fork.parent_tgid;
        break;
      case proc_event::PROC_EVENT_EXEC:
        e.what = ProcConnEvent::What::kExec;
        e.pid = ev.event_data.exec.process_pid;
        e.tgid = ev.event_data.exec.process_tgid;
        break;
      case proc_event::PROC_EVENT_EXIT:
        e.what = ProcConnEvent::What::kExit;
        e.pid = ev.event_data.exit.process_pid;
        e.tgid = ev.event_data.exit.process_tgid;
        e.exit_code = ev.event_data.exit.exit_code;
        break;
      default:
        continue;  // uid/gid/sid/ptrace/comm/coredump and the subscribe ack
    }
    out->push_back(e);
  }
  if (off < buf.size() && off + sizeof(nlmsghdr) > buf.size() && stats.malformed == 0) {
    ++stats.malformed;  // trailing bytes too short for a header
  }
  return stats;
}

std::vector<uint8_t> BuildProcConnectorRequest(bool listen, uint32_t nl_pid) {
  const size_t len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(uint32_t));
  std::vector<uint8_t> out(len, 0);
  nlmsghdr hdr{};
  hdr.nlmsg_len = static_cast<uint32_t>(len);
  hdr.nlmsg_type = NLMSG_DONE;
  hdr.nlmsg_pid = nl_pid;
  cn_msg msg{};
  msg.id.idx = CN_IDX_PROC;
  msg.id.val = CN_VAL_PROC;
  msg.len = sizeof(uint32_t);
  uint32_t op = listen ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE;
  std::memcpy(out.data(), &hdr, sizeof(hdr));
  std::memcpy(out.data() + NLMSG_HDRLEN, &msg, sizeof(msg));
  std::memcpy(out.data() + NLMSG_HDRLEN + sizeof(cn_msg), &op, sizeof(op));
  return out;
}

}  // namespace sandwatch::sensor
