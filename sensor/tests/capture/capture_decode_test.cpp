// Decoders on canned records: proc connector datagrams, fanotify metadata,
// inotify buffers. No sockets, no privileges.
#include <gtest/gtest.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>

#include <cstring>
#include <string>
#include <vector>

#include "fanotify_decode.h"
#include "inotify_decode.h"
#include "netlink_decode.h"

namespace sandwatch::sensor {
namespace {

// One netlink datagram holding a cn_msg with `ev` (what the kernel sends).
std::vector<uint8_t> ProcMsg(const proc_event& ev, uint32_t idx = CN_IDX_PROC) {
  const size_t len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_event));
  std::vector<uint8_t> out(NLMSG_ALIGN(len), 0);
  nlmsghdr hdr{};
  hdr.nlmsg_len = static_cast<uint32_t>(len);
  hdr.nlmsg_type = NLMSG_DONE;
  cn_msg msg{};
  msg.id.idx = idx;
  msg.id.val = CN_VAL_PROC;
  msg.len = sizeof(proc_event);
  std::memcpy(out.data(), &hdr, sizeof(hdr));
  std::memcpy(out.data() + NLMSG_HDRLEN, &msg, sizeof(msg));
  std::memcpy(out.data() + NLMSG_HDRLEN + sizeof(cn_msg), &ev, sizeof(ev));
  return out;
}

proc_event Exec(int pid, int tgid, uint64_t ts) {
  proc_event ev{};
  ev.what = proc_event::PROC_EVENT_EXEC;
  ev.timestamp_ns = ts;
  ev.event_data.exec.process_pid = pid;
  ev.event_data.exec.process_tgid = tgid;
  return ev;
}

TEST(NetlinkDecode, ExecForkExit) {
  proc_event fork{};
  fork.what = proc_event::PROC_EVENT_FORK;
  fork.event_data.fork.parent_pid = 10;
  fork.event_data.fork.parent_tgid = 10;
  fork.event_data.fork.child_pid = 11;
  fork.event_data.fork.child_tgid = 11;
  proc_event exit{};
  exit.what = proc_event::PROC_EVENT_EXIT;
  exit.event_data.exit.process_pid = 11;
  exit.event_data.exit.process_tgid = 11;
  exit.event_data.exit.exit_code = 256;

  std::vector<uint8_t> buf = ProcMsg(fork);
  for (const auto& part : {ProcMsg(Exec(11, 11, 777)), ProcMsg(exit)}) {
    buf.insert(buf.end(), part.begin(), part.end());
  }
  std::vector<ProcConnEvent> out;
  ProcConnDecodeStats stats = DecodeProcConnector(buf, &out);
  EXPECT_EQ(stats.messages, 3);
  EXPECT_EQ(stats.malformed, 0);
  ASSERT_EQ(out.size(), 3U);
  EXPECT_EQ(out[0].what, ProcConnEvent::What::kFork);
  EXPECT_EQ(out[0].parent_tgid, 10);
  EXPECT_EQ(out[0].tgid, 11);
  EXPECT_EQ(out[1].what, ProcConnEvent::What::kExec);
  EXPECT_EQ(out[1].tgid, 11);
  EXPECT_EQ(out[1].kernel_ns, 777U);
  EXPECT_EQ(out[2].what, ProcConnEvent::What::kExit);
  EXPECT_EQ(out[2].exit_code, 256U);
}

TEST(NetlinkDecode, IgnoresOtherEventsAndForeignConnectors) {
  proc_event uid{};
  uid.what = proc_event::PROC_EVENT_UID;
  std::vector<uint8_t> buf = ProcMsg(uid);
  auto foreign = ProcMsg(Exec(5, 5, 1), CN_IDX_PROC + 1);
  buf.insert(buf.end(), foreign.begin(), foreign.end());
  std::vector<ProcConnEvent> out;
  ProcConnDecodeStats stats = DecodeProcConnector(buf, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(stats.messages, 2);
  EXPECT_EQ(stats.malformed, 1);  // the foreign connector message
}

TEST(NetlinkDecode, TruncatedDatagramIsCountedNotRead) {
  std::vector<uint8_t> buf = ProcMsg(Exec(5, 5, 1));
  buf.resize(buf.size() - 8);  // nlmsg_len now claims more than we have
  std::vector<ProcConnEvent> out;
  ProcConnDecodeStats stats = DecodeProcConnector(buf, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(stats.malformed, 1);
  std::vector<uint8_t> tiny(6, 0);
  stats = DecodeProcConnector(tiny, &out);
  EXPECT_EQ(stats.malformed, 1);
  EXPECT_TRUE(out.empty());
}

TEST(NetlinkDecode, ErrorMessageCounted) {
  std::vector<uint8_t> buf(NLMSG_LENGTH(sizeof(nlmsgerr)), 0);
  nlmsghdr hdr{};
  hdr.nlmsg_len = static_cast<uint32_t>(buf.size());
  hdr.nlmsg_type = NLMSG_ERROR;
  std::memcpy(buf.data(), &hdr, sizeof(hdr));
  std::vector<ProcConnEvent> out;
  EXPECT_EQ(DecodeProcConnector(buf, &out).errors, 1);
}

TEST(NetlinkDecode, SubscribeRequestRoundTrips) {
  std::vector<uint8_t> req = BuildProcConnectorRequest(true, 42);
  nlmsghdr hdr;
  std::memcpy(&hdr, req.data(), sizeof(hdr));
  EXPECT_EQ(hdr.nlmsg_len, req.size());
  EXPECT_EQ(hdr.nlmsg_pid, 42U);
  cn_msg msg;
  std::memcpy(&msg, req.data() + NLMSG_HDRLEN, sizeof(msg));
  EXPECT_EQ(msg.id.idx, static_cast<uint32_t>(CN_IDX_PROC));
  uint32_t op = 0;
  std::memcpy(&op, req.data() + NLMSG_HDRLEN + sizeof(cn_msg), sizeof(op));
  EXPECT_EQ(op, static_cast<uint32_t>(PROC_CN_MCAST_LISTEN));
  std::memcpy(&op, BuildProcConnectorRequest(false, 0).data() + NLMSG_HDRLEN + sizeof(cn_msg), 4);
  EXPECT_EQ(op, static_cast<uint32_t>(PROC_CN_MCAST_IGNORE));
}

std::vector<uint8_t> FanRecord(uint64_t mask, int fd, int pid,
                               uint8_t vers = FANOTIFY_METADATA_VERSION) {
  fanotify_event_metadata md{};
  md.event_len = sizeof(md);
  md.vers = vers;
  md.metadata_len = sizeof(md);
  md.mask = mask;
  md.fd = fd;
  md.pid = pid;
  std::vector<uint8_t> out(sizeof(md));
  std::memcpy(out.data(), &md, sizeof(md));
  return out;
}

TEST(FanotifyDecode, ExecOpenAndOverflow) {
  std::vector<uint8_t> buf = FanRecord(FAN_OPEN_EXEC, 7, 100);
  for (const auto& part : {FanRecord(FAN_OPEN, 8, 101), FanRecord(FAN_Q_OVERFLOW, FAN_NOFD, 0)}) {
    buf.insert(buf.end(), part.begin(), part.end());
  }
  std::vector<FanEvent> out;
  FanDecodeStats stats = DecodeFanotify(buf, &out);
  EXPECT_EQ(stats.events, 3);
  ASSERT_EQ(out.size(), 3U);
  EXPECT_TRUE(out[0].exec());
  EXPECT_FALSE(out[0].open());
  EXPECT_EQ(out[0].fd, 7);
  EXPECT_EQ(out[0].pid, 100);
  EXPECT_TRUE(out[1].open());
  EXPECT_EQ(out[1].pid, 101);
  EXPECT_TRUE(out[2].overflow());
  EXPECT_EQ(out[2].fd, FAN_NOFD);
}

TEST(FanotifyDecode, BadVersionAndTruncationStop) {
  std::vector<FanEvent> out;
  EXPECT_EQ(DecodeFanotify(FanRecord(FAN_OPEN, 3, 1, 2), &out).bad_version, 1);
  EXPECT_TRUE(out.empty());
  std::vector<uint8_t> buf = FanRecord(FAN_OPEN, 3, 1);
  buf.resize(buf.size() + 5, 0);  // a partial record after a whole one
  FanDecodeStats stats = DecodeFanotify(buf, &out);
  EXPECT_EQ(stats.events, 1);
  EXPECT_EQ(stats.truncated, 1);
}

TEST(FanotifyDecode, ElfInterpreterPaths) {
  EXPECT_TRUE(IsElfInterpreterPath("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"));
  EXPECT_TRUE(IsElfInterpreterPath("/lib/ld-musl-x86_64.so.1"));
  EXPECT_TRUE(IsElfInterpreterPath("/usr/bin/ld.so"));
  EXPECT_FALSE(IsElfInterpreterPath("/usr/bin/ld"));
  EXPECT_FALSE(IsElfInterpreterPath("/usr/bin/ldd"));
  EXPECT_FALSE(IsElfInterpreterPath("/tmp/ld-linux-evil"));
}

std::vector<uint8_t> InRecord(int wd, uint32_t mask, const std::string& name) {
  size_t len = name.empty() ? 0 : (name.size() + 1 + 15) / 16 * 16;  // NUL-padded like the kernel
  std::vector<uint8_t> out(sizeof(inotify_event) + len, 0);
  inotify_event ev{};
  ev.wd = wd;
  ev.mask = mask;
  ev.len = static_cast<uint32_t>(len);
  std::memcpy(out.data(), &ev, sizeof(ev));
  std::memcpy(out.data() + sizeof(ev), name.data(), name.size());
  return out;
}

TEST(InotifyDecode, RecordsWithAndWithoutNames) {
  std::vector<uint8_t> buf = InRecord(1, IN_OPEN, "");
  auto named = InRecord(2, IN_OPEN, "cat");
  buf.insert(buf.end(), named.begin(), named.end());
  auto overflow = InRecord(-1, IN_Q_OVERFLOW, "");
  buf.insert(buf.end(), overflow.begin(), overflow.end());
  std::vector<InotifyRecord> out;
  EXPECT_TRUE(DecodeInotify(buf, &out));
  ASSERT_EQ(out.size(), 3U);
  EXPECT_EQ(out[0].wd, 1);
  EXPECT_EQ(out[0].name, "");
  EXPECT_EQ(out[1].name, "cat");
  EXPECT_EQ(out[1].mask, static_cast<uint32_t>(IN_OPEN));
  EXPECT_EQ(out[2].mask, static_cast<uint32_t>(IN_Q_OVERFLOW));
}

TEST(InotifyDecode, TruncatedNameRejected) {
  std::vector<uint8_t> buf = InRecord(2, IN_OPEN, "a-long-file-name");
  buf.resize(buf.size() - 4);
  std::vector<InotifyRecord> out;
  EXPECT_FALSE(DecodeInotify(buf, &out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace sandwatch::sensor
