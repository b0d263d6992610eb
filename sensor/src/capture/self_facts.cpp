#include "self_facts.h"

#include <unistd.h>

#include <array>
#include <charconv>

#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/core/procfs/proc_fs.h"

namespace sandwatch::sensor {

namespace {

std::string ReadLinkText(const std::string& path) {
  std::array<char, 256> buf;
  ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
  if (n <= 0) return {};
  return {buf.data(), static_cast<size_t>(n)};
}

}  // namespace

bool SelfFacts::InInitPidNs() const {
  if (pid_ns_ino != 0) return pid_ns_ino == kInitPidNsIno;
  return nspid_levels <= 1;
}

bool SelfFacts::InInitUserNs() const { return user_ns_ino == 0 || user_ns_ino == kInitUserNsIno; }

void ParseStatusFacts(std::string_view status, SelfFacts* facts) {
  std::string_view cap = procfs::StatusValue(status, "CapEff").value_or("");
  uint64_t value = 0;
  if (std::from_chars(cap.data(), cap.data() + cap.size(), value, 16).ec == std::errc()) {
    facts->cap_eff = value;
  }
  int levels = 0;
  bool in_token = false;
  for (char c : procfs::StatusValue(status, "NSpid").value_or("")) {
    bool digit = c >= '0' && c <= '9';
    if (digit && !in_token) ++levels;
    in_token = digit;
  }
  facts->nspid_levels = levels;
}

SelfFacts ReadSelfFacts() {
  SelfFacts facts;
  const procfs::ProcFs fs;
  auto status = fs.ReadRootFile("self/status");
  if (status.ok()) ParseStatusFacts(*status, &facts);
  facts.pid_ns_ino = procfs::ParseNsLink(ReadLinkText(fs.root() + "/self/ns/pid"));
  facts.user_ns_ino = procfs::ParseNsLink(ReadLinkText(fs.root() + "/self/ns/user"));
  return facts;
}

}  // namespace sandwatch::sensor
