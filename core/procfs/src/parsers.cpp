#include "sandwatch/core/procfs/parsers.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace sandwatch::procfs {
namespace {

template <class T>
bool ParseNum(std::string_view s, T* out, int base = 10) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, *out, base);
  return ec == std::errc() && p == end;
}

// Splits on runs of spaces/tabs; at most `max` tokens.
size_t SplitWs(std::string_view s, std::string_view* out, size_t max) {
  size_t n = 0, i = 0;
  while (i < s.size() && n < max) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i >= s.size()) break;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n') ++j;
    out[n++] = s.substr(i, j - i);
    if (j < s.size() && s[j] == '\n') break;
    i = j;
  }
  return n;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "type:[123]" -> 123 when s starts with prefix "type:[".
bool BracketInode(std::string_view s, std::string_view prefix, uint64_t* inode) {
  if (!StartsWith(s, prefix) || s.size() < prefix.size() + 2 || s.back() != ']') return false;
  return ParseNum(s.substr(prefix.size(), s.size() - prefix.size() - 1), inode);
}

constexpr std::string_view kDeleted = " (deleted)";

}  // namespace

namespace {

// The pieces of a stat line: text before '(' , comm (first '(' to LAST ')'), and the
// first 20 fields after ')' (field 3, state, is tok[0]; starttime, field 22, is tok[19]).
struct StatSplit {
  std::string_view head;
  std::string_view comm;
  std::array<std::string_view, 20> tok;
};

Status SplitStat(std::string_view text, StatSplit* out) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return MakeError("stat: no (comm)");
  }
  out->head = text.substr(0, open);
  out->comm = text.substr(open + 1, close - open - 1);
  if (SplitWs(text.substr(close + 1), out->tok.data(), 20) < 20)
    return MakeError("stat: truncated");
  return OkStatus();
}

}  // namespace

Result<StatKey> ParseStatKey(std::string_view text) {
  StatSplit sp;
  if (Status st = SplitStat(text, &sp); !st.ok()) return st.error();
  StatKey key;
  key.comm = sp.comm;
  if (!ParseNum(sp.tok[19], &key.start_ticks)) return MakeError("stat: bad start time");
  return key;
}

Result<StatFields> ParseStat(std::string_view text) {
  StatSplit sp;
  if (Status st = SplitStat(text, &sp); !st.ok()) return st.error();
  StatFields f;
  std::string_view pid_text = sp.head;
  while (!pid_text.empty() && pid_text.back() == ' ') pid_text.remove_suffix(1);
  if (!ParseNum(pid_text, &f.pid)) return MakeError("stat: bad pid");
  f.comm = std::string(sp.comm);
  const std::string_view* tok = sp.tok.data();
  if (tok[0].size() != 1) return MakeError("stat: bad state");
  f.state = tok[0][0];
  if (!ParseNum(tok[1], &f.ppid) || !ParseNum(tok[6], &f.flags) ||
      !ParseNum(tok[19], &f.start_ticks)) {
    return MakeError("stat: bad number");
  }
  return f;
}

Result<uint64_t> ParseStatCpuTicks(std::string_view text) {
  StatSplit sp;
  if (Status st = SplitStat(text, &sp); !st.ok()) return st.error();
  uint64_t utime = 0;
  uint64_t stime = 0;
  if (!ParseNum(sp.tok[11], &utime) || !ParseNum(sp.tok[12], &stime)) {
    return MakeError("stat: bad cpu time");
  }
  return utime + stime;
}

std::optional<std::string_view> StatusValue(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.size() <= key.size() || line[key.size()] != ':' || !StartsWith(line, key)) continue;
    line.remove_prefix(key.size() + 1);
    while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
    return line;
  }
  return std::nullopt;
}

std::optional<int64_t> ParseStatusKib(std::string_view text, std::string_view key) {
  auto value = StatusValue(text, key);
  std::array<std::string_view, 1> tok;
  int64_t kib = 0;
  if (!value || SplitWs(*value, tok.data(), 1) != 1 || !ParseNum(tok[0], &kib)) return std::nullopt;
  return kib;
}

std::optional<uint64_t> ParseSchedstatNs(std::string_view text) {
  std::array<std::string_view, 1> tok;
  uint64_t ns = 0;
  if (SplitWs(text, tok.data(), 1) != 1 || !ParseNum(tok[0], &ns)) return std::nullopt;
  return ns;
}

Result<StatusFields> ParseStatus(std::string_view text) {
  StatusFields f;
  bool have_name = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view val = line.substr(colon + 1);
    if (key == "Name") {
      while (!val.empty() && (val.front() == '\t' || val.front() == ' ')) val.remove_prefix(1);
      f.name = std::string(val);
      have_name = true;
    } else if (key == "PPid") {
      std::array<std::string_view, 1> tok;
      if (SplitWs(val, tok.data(), 1) == 1) (void)ParseNum(tok[0], &f.ppid);
    } else if (key == "Uid") {
      std::array<std::string_view, 2> tok;
      size_t n = SplitWs(val, tok.data(), 2);
      if (n >= 1 && !ParseNum(tok[0], &f.uid)) f.uid = -1;
      if (n >= 2 && !ParseNum(tok[1], &f.euid)) f.euid = -1;
    }
  }
  if (!have_name) return MakeError("status: no Name line");
  return f;
}

std::vector<std::string> ParseCmdline(std::string_view text) {
  std::vector<std::string> args;
  if (text.empty()) return args;
  if (text.back() == '\0') text.remove_suffix(1);
  size_t start = 0;
  while (true) {
    size_t nul = text.find('\0', start);
    if (nul == std::string_view::npos) {
      args.emplace_back(text.substr(start));
      break;
    }
    args.emplace_back(text.substr(start, nul - start));
    start = nul + 1;
  }
  return args;
}

Result<std::string> DecodeEndpoint(std::string_view hex) {
  size_t colon = hex.find(':');
  if (colon == std::string_view::npos) return MakeError("endpoint: no port");
  std::string_view addr = hex.substr(0, colon);
  uint32_t port = 0;
  if (!ParseNum(hex.substr(colon + 1), &port, 16) || port > 0xffff) {
    return MakeError("endpoint: bad port");
  }
  // The kernel prints each 32-bit word of the address as it sits in memory,
  // read as a host-order integer (%08X). On this little-endian host the bytes of
  // word w are therefore (w, w>>8, w>>16, w>>24).
  std::array<unsigned char, 16> bytes;
  size_t words = addr.size() / 8;
  if ((words != 1 && words != 4) || addr.size() % 8 != 0) return MakeError("endpoint: bad address");
  for (size_t w = 0; w < words; ++w) {
    uint32_t v = 0;
    if (!ParseNum(addr.substr(w * 8, 8), &v, 16)) return MakeError("endpoint: bad hex");
    for (int b = 0; b < 4; ++b) bytes[w * 4 + b] = static_cast<unsigned char>(v >> (8 * b));
  }
  std::array<char, INET6_ADDRSTRLEN> buf;
  if (inet_ntop(words == 1 ? AF_INET : AF_INET6, bytes.data(), buf.data(), buf.size()) == nullptr) {
    return MakeError("endpoint: inet_ntop");
  }
  std::string out;
  if (words == 4) out += '[';
  out += buf.data();
  if (words == 4) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

std::vector<SocketInfo> ParseNetTable(std::string_view text, std::string_view proto,
                                      int* bad_lines) {
  std::vector<SocketInfo> out;
  int bad = 0;
  bool header = true;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (header) {
      header = false;
      continue;
    }
    std::array<std::string_view, 10> tok;
    size_t n = SplitWs(line, tok.data(), 10);
    if (n == 0) continue;
    SocketInfo s;
    uint32_t state = 0;
    auto local = n == 10 ? DecodeEndpoint(tok[1]) : Result<std::string>(MakeError(""));
    auto remote = n == 10 ? DecodeEndpoint(tok[2]) : Result<std::string>(MakeError(""));
    if (n < 10 || !local.ok() || !remote.ok() || !ParseNum(tok[3], &state, 16) ||
        !ParseNum(tok[9], &s.inode)) {
      ++bad;
      continue;
    }
    s.proto = std::string(proto);
    s.local = std::move(local).value();
    s.remote = std::move(remote).value();
    s.state = static_cast<int>(state);
    out.push_back(std::move(s));
  }
  if (bad_lines != nullptr) *bad_lines = bad;
  return out;
}

FdInfo ParseFdLink(int fd, std::string_view link) {
  FdInfo info;
  info.fd = fd;
  info.path = std::string(link);
  if (BracketInode(link, "socket:[", &info.inode)) {
    info.kind = FdKind::kSocket;
  } else if (BracketInode(link, "pipe:[", &info.inode)) {
    info.kind = FdKind::kPipe;
  } else if (StartsWith(link, "anon_inode:")) {
    info.kind = FdKind::kAnon;
  } else if (StartsWith(link, "/dev/pts/") || StartsWith(link, "/dev/tty") ||
             link == "/dev/console" || link == "/dev/ptmx") {
    info.kind = FdKind::kTty;
  } else if (StartsWith(link, "/")) {
    info.kind = FdKind::kFile;
  } else if (link.empty()) {
    info.kind = FdKind::kNone;
  } else {
    info.kind = FdKind::kOther;
  }
  return info;
}

ExeLink ParseExeLink(std::string_view link) {
  ExeLink e;
  if (link.size() >= kDeleted.size() && link.substr(link.size() - kDeleted.size()) == kDeleted) {
    e.deleted = true;
    link.remove_suffix(kDeleted.size());
  }
  e.memfd = StartsWith(link, "/memfd:");
  if (e.memfd) e.deleted = true;
  e.path = std::string(link);
  return e;
}

uint64_t ParseNsLink(std::string_view link) {
  size_t open = link.find(":[");
  uint64_t v = 0;
  if (open == std::string_view::npos || link.empty() || link.back() != ']') return 0;
  if (!ParseNum(link.substr(open + 2, link.size() - open - 3), &v)) return 0;
  return v;
}

namespace {

// The kernel writes ' ', '\t', '\n' and '\\' of a mount path as a backslash and three octal
// digits.
std::string DecodeMountEscapes(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    const auto octal = [&](size_t k) {
      return k < field.size() && field[k] >= '0' && field[k] <= '7';
    };
    if (field[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> ParseMountPoints(std::string_view mountinfo) {
  std::vector<std::string> out;
  while (!mountinfo.empty()) {
    const size_t eol = std::min(mountinfo.find('\n'), mountinfo.size());
    std::string_view line = mountinfo.substr(0, eol);
    mountinfo.remove_prefix(std::min(eol + 1, mountinfo.size()));
    std::string_view field;
    int fields = 0;
    while (fields < 5) {
      const size_t start = line.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      line.remove_prefix(start);
      const size_t end = std::min(line.find(' '), line.size());
      field = line.substr(0, end);
      line.remove_prefix(end);
      ++fields;
    }
    if (fields == 5) out.push_back(DecodeMountEscapes(field));
  }
  return out;
}

}  // namespace sandwatch::procfs
