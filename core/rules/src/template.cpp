#include "sandwatch/core/rules/template.h"

#include <array>
#include <cstdio>

namespace sandwatch::rules {
namespace {

constexpr std::array<std::string_view, 17> kFields = {"proc.name",
                                                      "proc.exe",
                                                      "proc.cmdline",
                                                      "proc.pid",
                                                      "proc.ppid",
                                                      "proc.pname",
                                                      "proc.pcmdline",
                                                      "proc.aname",
                                                      "proc.cwd",
                                                      "user.uid",
                                                      "fd.name",
                                                      "connection.remote",
                                                      "connection.local",
                                                      "connection.proto",
                                                      "k8s.pod.name",
                                                      "k8s.ns.name",
                                                      "rule"};

bool FieldChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_';
}

// Longest known field that prefixes `rest`, or "" (so "%proc.name." works).
std::string_view LongestField(std::string_view rest) {
  size_t n = 0;
  while (n < rest.size() && FieldChar(rest[n])) ++n;
  std::string_view cand = rest.substr(0, n);
  while (!cand.empty()) {
    if (IsKnownField(cand)) return cand;
    auto dot = cand.rfind('.');
    if (dot == std::string_view::npos) break;
    cand = cand.substr(0, dot);
  }
  return {};
}

}  // namespace

bool IsKnownField(std::string_view name) {
  for (auto f : kFields) {
    if (f == name) return true;
  }
  return false;
}

Status ValidateTemplate(std::string_view tmpl) {
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '%') continue;
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '%') {
      ++i;
      continue;
    }
    auto rest = tmpl.substr(i + 1);
    if (LongestField(rest).empty()) {
      size_t n = 0;
      while (n < rest.size() && FieldChar(rest[n])) ++n;
      return MakeError("unknown field %" + std::string(rest.substr(0, n)) +
                       " (use %% for a literal percent sign)");
    }
  }
  return OkStatus();
}

std::string EscapeControl(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      std::array<char, 8> buf{};
      std::snprintf(buf.data(), buf.size(), "\\x%02x", c);
      out += buf.data();
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

FieldMap OutputFields(const ProcessInfo& p, const Match& m, std::string_view pod,
                      std::string_view ns) {
  FieldMap f;
  f["proc.name"] = p.name;
  f["proc.exe"] = p.exe;
  f["proc.cmdline"] = JoinCmdline(p.cmdline);
  f["proc.pid"] = std::to_string(p.key.pid);
  f["proc.ppid"] = std::to_string(p.ppid);
  f["proc.cwd"] = p.cwd;
  f["user.uid"] = p.uid >= 0 ? std::to_string(p.uid) : "";
  if (!p.ancestors.empty()) {
    f["proc.pname"] = p.ancestors.front().name;
    f["proc.pcmdline"] = JoinCmdline(p.ancestors.front().cmdline);
  } else {
    f["proc.pname"] = "";
    f["proc.pcmdline"] = "";
  }
  std::string chain;
  for (const auto& a : p.ancestors) {
    if (!chain.empty()) chain += ',';
    chain += a.name;
  }
  f["proc.aname"] = chain;
  f["fd.name"] = m.file_path.value_or("");
  f["connection.remote"] = m.connection ? m.connection->remote : "";
  f["connection.local"] = m.connection ? m.connection->local : "";
  f["connection.proto"] = m.connection ? m.connection->proto : "";
  f["k8s.pod.name"] = std::string(pod);
  f["k8s.ns.name"] = std::string(ns);
  f["rule"] = m.rule ? m.rule->name : "";
  return f;
}

std::string RenderTemplate(std::string_view tmpl, const FieldMap& fields) {
  std::string out;
  out.reserve(tmpl.size() + 64);
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    auto name = LongestField(tmpl.substr(i + 1));
    if (name.empty()) {
      out += c;
      continue;
    }
    auto it = fields.find(std::string(name));
    std::string value = it == fields.end() ? "" : it->second;
    out += value.empty() ? "<NA>" : EscapeControl(value);
    i += name.size();
  }
  return out;
}

}  // namespace sandwatch::rules
