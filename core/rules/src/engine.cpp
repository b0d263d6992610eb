#include "sandwatch/core/rules/engine.h"

#include <arpa/inet.h>
#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace sandwatch::rules {
namespace {

constexpr int kTcpEstablished = 1;
constexpr int kTcpSynSent = 2;
constexpr int kTcpListen = 10;

bool Glob(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

bool AnyGlob(const std::vector<std::string>& patterns, const std::string& text) {
  if (text.empty()) return false;
  for (const auto& p : patterns) {
    if (Glob(p, text)) return true;
  }
  return false;
}

bool NameMatches(const std::vector<std::string>& patterns, const ProcessInfo& p) {
  if (AnyGlob(patterns, p.name)) return true;
  if (!p.exe.empty() && AnyGlob(patterns, std::string(Basename(p.exe)))) return true;
  if (!p.cmdline.empty() && AnyGlob(patterns, std::string(Basename(p.cmdline[0])))) return true;
  return false;
}

ConnectionRef ToRef(const SocketInfo& s) { return ConnectionRef{s.proto, s.local, s.remote}; }

const SocketInfo* FindSocket(const ProcessInfo& p, uint64_t inode) {
  for (const auto& s : p.sockets) {
    if (s.inode == inode) return &s;
  }
  return nullptr;
}

bool IsTcp(const SocketInfo& s) { return s.proto.rfind("tcp", 0) == 0; }

// The connection behind fds first..last: an inet socket, or a pipe whose other end a
// networked process holds.
std::optional<ConnectionRef> StdioConnection(const ProcessInfo& p, int first, int last,
                                             const RuleWorld& world) {
  for (const auto& fd : p.fds) {
    if (fd.fd < first || fd.fd > last) continue;
    if (fd.kind == FdKind::kSocket) {
      if (const SocketInfo* s = FindSocket(p, fd.inode)) return ToRef(*s);
      if (auto parent = world.ParentConnection(p)) return ToRef(*parent);  // a socketpair
    } else if (fd.kind == FdKind::kPipe) {
      if (auto peer = world.PipePeerConnection(fd.inode, p.key.pid)) return ToRef(*peer);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view Basename(std::string_view path) {
  auto pos = path.rfind('/');
  return pos == std::string_view::npos ? path : path.substr(pos + 1);
}

std::string JoinCmdline(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i) out += ' ';
    out += argv[i];
  }
  return out;
}

bool ParseIp(std::string_view text, std::array<uint8_t, 16>* out) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 63) return false;
  std::string s(text);
  out->fill(0);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    (*out)[10] = 0xff;
    (*out)[11] = 0xff;
    std::memcpy(out->data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out->data(), &v6, 16);
    return true;
  }
  return false;
}

Result<Cidr> ParseCidr(std::string_view text) {
  Cidr c;
  c.text = std::string(text);
  auto slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  if (!ParseIp(addr, &c.addr)) return MakeError("bad network address \"" + c.text + "\"");
  bool v4 = addr.find(':') == std::string_view::npos;
  int max = v4 ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc() || ptr != p.data() + p.size() || prefix < 0 || prefix > max) {
      return MakeError("bad prefix length in \"" + c.text + "\"");
    }
  }
  c.prefix = v4 ? prefix + 96 : prefix;
  return c;
}

bool CidrContains(const Cidr& net, const std::array<uint8_t, 16>& ip) {
  int bits = net.prefix;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    auto mask = static_cast<uint8_t>(bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
    if ((net.addr[i] & mask) != (ip[i] & mask)) return false;
  }
  return true;
}

bool SplitEndpoint(std::string_view endpoint, std::array<uint8_t, 16>* ip, int* port) {
  auto colon = endpoint.rfind(':');
  if (colon == std::string_view::npos) return false;
  auto p = endpoint.substr(colon + 1);
  int value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || ptr != p.data() + p.size()) return false;
  *port = value;
  return ParseIp(endpoint.substr(0, colon), ip);
}

std::vector<const SocketInfo*> OutboundConnections(const ProcessInfo& p) {
  std::vector<int> listening;
  for (const auto& s : p.sockets) {
    std::array<uint8_t, 16> ip{};
    int port = 0;
    if (IsTcp(s) && s.state == kTcpListen && SplitEndpoint(s.local, &ip, &port)) {
      listening.push_back(port);
    }
  }
  std::vector<const SocketInfo*> out;
  for (const auto& s : p.sockets) {
    if (IsTcp(s) && s.state != kTcpEstablished && s.state != kTcpSynSent) continue;
    std::array<uint8_t, 16> rip{}, lip{};
    int rport = 0, lport = 0;
    if (!SplitEndpoint(s.remote, &rip, &rport) || rport == 0) continue;
    if (SplitEndpoint(s.local, &lip, &lport) &&
        std::find(listening.begin(), listening.end(), lport) != listening.end()) {
      continue;  // accepted on one of our listening ports: inbound
    }
    // A listener that closed its listening socket after accepting (ncat -l): the local
    // port is a service port and the peer's is ephemeral (Linux's default range).
    auto ephemeral = [](int port) { return port >= 32768 && port <= 60999; };
    if (lport > 0 && !ephemeral(lport) && ephemeral(rport)) continue;
    out.push_back(&s);
  }
  return out;
}

std::string InterpreterScript(const ProcessInfo& p) {
  // `#!/usr/bin/env bash` scripts run as `env bash SCRIPT ARGS`: look past env, its
  // options and NAME=VALUE assignments, at the interpreter it starts.
  if (!p.cmdline.empty() && Basename(p.cmdline[0]) == "env") {
    size_t i = 1;
    while (i < p.cmdline.size() &&
           (p.cmdline[i].rfind('-', 0) == 0 || p.cmdline[i].find('=') != std::string::npos)) {
      ++i;
    }
    if (i >= p.cmdline.size()) return {};
    ProcessInfo inner;
    inner.cwd = p.cwd;
    inner.cmdline.assign(p.cmdline.begin() + static_cast<std::ptrdiff_t>(i), p.cmdline.end());
    return InterpreterScript(inner);
  }
  // Options that take the next argument as their value (python -W x, -X x; sh -o x).
  auto takes_value = [](const std::string& a) { return a == "-W" || a == "-X" || a == "-o"; };
  std::string name = p.cmdline.empty() ? p.name : std::string(Basename(p.cmdline[0]));
  std::string inline_flags = "cem";
  if (name.rfind("perl", 0) == 0) inline_flags += 'E';
  if (name.rfind("php", 0) == 0) inline_flags += 'r';
  if (name.rfind("node", 0) == 0) inline_flags += 'p';
  for (size_t i = 1; i < p.cmdline.size(); ++i) {
    const std::string& a = p.cmdline[i];
    if (a == "--") {
      if (i + 1 >= p.cmdline.size()) return {};
      i += 1;
    } else if (a.size() > 1 && (a[0] == '-' || a[0] == '+')) {
      // Inline code or a module instead of a script file: -c (shells, python), -e
      // (perl, ruby, node), -m (python), -E (perl), -r (php), -p (node); also inside
      // a cluster (-ic).
      if (a[1] != '-' && a.find_first_of(inline_flags, 1) != std::string::npos) return {};
      if (a == "--eval" || a == "--command") return {};
      if (takes_value(a)) ++i;
      continue;
    } else if (a == "-") {
      return {};  // stdin
    }
    const std::string& script = p.cmdline[i];
    if (script.empty()) return {};
    if (script[0] == '/' || p.cwd.empty()) return script;
    return p.cwd == "/" ? "/" + script : p.cwd + "/" + script;
  }
  return {};
}

bool Conditions::Empty() const {
  return proc_name.empty() && exe.empty() && cmdline.empty() && args.empty() &&
         parent_name.empty() && ancestor_name.empty() && file_open.empty() && !exe_new &&
         !stdio_network && !remote_not_in && !expected && !parent_outside && !root &&
         not_proc_name.empty() && script_in.empty() && !stdin_network;
}

size_t RuleSet::EnabledCount() const {
  return static_cast<size_t>(
      std::count_if(rules.begin(), rules.end(), [](const Rule& r) { return r.enabled; }));
}

RuleEngine::RuleEngine(RuleSet rules, std::vector<std::string> expected)
    : rules_(std::move(rules)), expected_(expected.begin(), expected.end()) {}

bool RuleEngine::IsExpected(const ProcessInfo& p) const {
  if (expected_.empty()) return false;
  if (expected_.count(p.name)) return true;
  if (!p.exe.empty() && expected_.count(std::string(Basename(p.exe)))) return true;
  return false;
}

bool RuleEngine::BlockHolds(const Conditions& c, const RuleInput& in, const RuleWorld& world,
                            Match* m) const {
  const ProcessInfo& p = *in.process;
  // Cheapest first; regexes last.
  if (c.expected && IsExpected(p) != *c.expected) return false;
  if (c.parent_outside && (p.ppid == 0) != *c.parent_outside) return false;
  if (c.root && (p.uid == 0) != *c.root) return false;
  if (!c.proc_name.empty() && !NameMatches(c.proc_name, p)) return false;
  if (!c.exe.empty() && !AnyGlob(c.exe, p.exe)) return false;
  if (!c.parent_name.empty()) {
    if (p.ancestors.empty() || !AnyGlob(c.parent_name, p.ancestors.front().name)) return false;
  }
  if (!c.ancestor_name.empty()) {
    bool any = std::any_of(p.ancestors.begin(), p.ancestors.end(),
                           [&](const AncestorRef& a) { return AnyGlob(c.ancestor_name, a.name); });
    if (!any) return false;
  }
  if (!c.args.empty()) {
    bool any = false;
    for (size_t i = 1; i < p.cmdline.size() && !any; ++i) any = AnyGlob(c.args, p.cmdline[i]);
    if (!any) return false;
  }
  // Long exclusion lists: after the cheaper filters above.
  if (!c.not_proc_name.empty() && NameMatches(c.not_proc_name, p)) return false;
  if (!c.file_open.empty()) {
    std::optional<std::string> hit;
    if (in.observed_path && AnyGlob(c.file_open, *in.observed_path)) hit = in.observed_path;
    for (size_t i = 0; i < p.fds.size() && !hit; ++i) {
      if (p.fds[i].kind == FdKind::kFile && AnyGlob(c.file_open, p.fds[i].path)) {
        hit = p.fds[i].path;
      }
    }
    if (!hit) return false;
    m->file_path = hit;
  }
  if (!c.script_in.empty() && !AnyGlob(c.script_in, InterpreterScript(p))) return false;
  if (c.exe_new) {
    bool is_new;
    if (p.exe_deleted || p.exe_memfd) {
      is_new = true;
    } else if (p.exe.empty()) {
      return false;  // unknown executable: cannot say either way
    } else {
      is_new = !world.ExeInBaseline(p);
    }
    if (is_new != *c.exe_new) return false;
  }
  if (c.remote_not_in) {
    const SocketInfo* hit = nullptr;
    for (const SocketInfo* s : OutboundConnections(p)) {
      std::array<uint8_t, 16> ip{};
      int port = 0;
      if (!SplitEndpoint(s->remote, &ip, &port)) continue;
      bool allowed = std::any_of(c.remote_not_in->begin(), c.remote_not_in->end(),
                                 [&](const Cidr& n) { return CidrContains(n, ip); });
      if (!allowed) {
        hit = s;
        break;
      }
    }
    if (!hit) return false;
    m->connection = ToRef(*hit);
  }
  if (c.stdio_network) {
    std::optional<ConnectionRef> hit = StdioConnection(p, 0, 2, world);
    if (hit.has_value() != *c.stdio_network) return false;
    if (hit) m->connection = hit;
  }
  if (c.stdin_network) {
    std::optional<ConnectionRef> hit = StdioConnection(p, 0, 0, world);
    if (hit.has_value() != *c.stdin_network) return false;
    if (hit) m->connection = hit;
  }
  if (!c.cmdline.empty()) {
    std::string joined = JoinCmdline(p.cmdline);
    bool any = std::any_of(c.cmdline.begin(), c.cmdline.end(),
                           [&](const CompiledRegex& r) { return std::regex_search(joined, r.re); });
    if (!any) return false;
  }
  return true;
}

std::vector<Match> RuleEngine::Evaluate(const RuleInput& in, const RuleWorld& world) const {
  std::vector<Match> out;
  if (in.process == nullptr) return out;
  for (const Rule& rule : rules_.rules) {
    if (!rule.enabled) continue;
    for (const Conditions& block : rule.when) {
      Match m;
      m.rule = &rule;
      m.low_confidence = block.low_confidence;
      if (!BlockHolds(block, in, world, &m)) continue;
      bool suppressed =
          std::any_of(rule.unless.begin(), rule.unless.end(), [&](const Conditions& u) {
            Match scratch;
            return BlockHolds(u, in, world, &scratch);
          });
      if (!suppressed) out.push_back(std::move(m));
      break;
    }
  }
  return out;
}

}  // namespace sandwatch::rules
