// Falco json_output alerts and Falcosidekick webhook payloads -> sandwatch events.
#include <array>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/json_fields.h"
#include "sandwatch/receiver/ingest.h"

namespace sandwatch::receiver {
namespace {

using nlohmann::json;

#define SW_TRY(expr)                                 \
  do {                                               \
    auto sw_status_ = (expr);                        \
    if (!sw_status_.ok()) return sw_status_.error(); \
  } while (0)

uint64_t Fnv1a(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Falco's json_output carries no id; a retried POST of the same alert must not be
// stored twice, so the id is a hash of what identifies the alert.
std::string StableId(const std::string& time, const Event& e, const std::string& falco_source) {
  std::string key =
      time + '\x1f' + e.rule + '\x1f' + e.hostname + '\x1f' + e.output + '\x1f' + falco_source;
  std::array<char, 48> buf;
  std::snprintf(buf.data(), buf.size(), "falco-%016llx%016llx",
                static_cast<unsigned long long>(Fnv1a(key, 0xcbf29ce484222325ULL)),
                static_cast<unsigned long long>(Fnv1a(key, 0x84222325cbf29ce4ULL)));
  return buf.data();
}

std::vector<std::string> SplitWords(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size() && out.size() < kMaxArrayItems) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

int ToInt(const std::map<std::string, std::string>& f, const std::string& key) {
  auto it = f.find(key);
  if (it == f.end()) return 0;
  int v = 0;
  std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return v;
}

std::string Get(const std::map<std::string, std::string>& f, const std::string& key) {
  auto it = f.find(key);
  return it == f.end() ? std::string() : it->second;
}

// Scalars become text, null values are dropped (Falco prints <NA> fields as null).
Status ReadOutputFields(const json& j, std::map<std::string, std::string>* out) {
  auto it = j.find("output_fields");
  if (it == j.end() || it->is_null()) return OkStatus();
  if (!it->is_object()) return MakeError("output_fields: expected an object");
  if (it->size() > kMaxArrayItems) return MakeError("output_fields: more than 4096 keys");
  for (const auto& [k, v] : it->items()) {
    if (v.is_null()) continue;
    if (k.size() > 256) return MakeError("output_fields: key longer than 256 bytes");
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (text.size() > kMaxStringBytes) {
      return MakeError("output_fields." + k + ": value longer than 64 KiB");
    }
    (*out)[k] = std::move(text);
  }
  return OkStatus();
}

void Extract(Event& e) {
  const auto& f = e.fields;
  e.pod = Get(f, "k8s.pod.name");
  e.ns = Get(f, "k8s.ns.name");
  if (f.count("proc.name") || f.count("proc.cmdline") || f.count("proc.pid") ||
      f.count("proc.exepath") || f.count("proc.exe")) {
    ProcessRef p;
    p.name = Get(f, "proc.name");
    p.cmdline = SplitWords(Get(f, "proc.cmdline"));
    if (p.name.empty() && !p.cmdline.empty()) p.name = p.cmdline[0];
    p.pid = ToInt(f, "proc.pid");
    p.ppid = ToInt(f, "proc.ppid");
    p.exe = Get(f, "proc.exepath");
    if (p.exe.empty()) p.exe = Get(f, "proc.exe");
    p.cwd = Get(f, "proc.cwd");
    if (f.count("user.uid")) p.uid = ToInt(f, "user.uid");
    e.process = std::move(p);
  }
  if (f.count("proc.pname") || f.count("proc.pcmdline")) {
    AncestorRef a;
    a.pid = ToInt(f, "proc.ppid");
    a.name = Get(f, "proc.pname");
    a.cmdline = SplitWords(Get(f, "proc.pcmdline"));
    e.parent = std::move(a);
  }
  for (int level = 2; level <= 7; ++level) {
    std::string name = Get(f, "proc.aname[" + std::to_string(level) + "]");
    if (name.empty()) break;
    e.ancestors.push_back(AncestorRef{0, std::move(name), {}});
  }
  std::string fd = Get(f, "fd.name");
  std::string fd_type = Get(f, "fd.type");
  if (auto arrow = fd.find("->"); arrow != std::string::npos) {
    ConnectionRef c;
    c.proto = Get(f, "fd.l4proto");
    c.local = fd.substr(0, arrow);
    c.remote = fd.substr(arrow + 2);
    e.connection = std::move(c);
  } else if (!fd.empty() && fd_type != "ipv4" && fd_type != "ipv6") {
    e.file_path = fd;
  }
}

Result<Event> AlertFromJson(const json& j, int64_t now_ns) {
  if (!j.is_object()) return MakeError("expected a Falco alert object");
  Event e;
  e.source = "falco";
  SW_TRY(jsonf::ReadString(j, "rule", "rule", true, &e.rule));
  if (e.rule.empty()) return MakeError("rule: must not be empty");
  std::string prio;
  SW_TRY(jsonf::ReadString(j, "priority", "priority", true, &prio));
  auto p = ParsePriority(prio);
  if (!p) return MakeError("priority: not one of Falco's priority names");
  e.priority = *p;
  SW_TRY(jsonf::ReadString(j, "output", "output", false, &e.output));
  SW_TRY(jsonf::ReadString(j, "hostname", "hostname", false, &e.hostname));
  SW_TRY(jsonf::ReadStringArray(j, "tags", "tags", false, &e.tags));
  std::string falco_source, uuid, time;
  SW_TRY(jsonf::ReadString(j, "source", "source", false, &falco_source));
  SW_TRY(jsonf::ReadString(j, "uuid", "uuid", false, &uuid));
  SW_TRY(jsonf::ReadString(j, "time", "time", false, &time));
  SW_TRY(ReadOutputFields(j, &e.fields));
  if (auto t = ParseRfc3339(time); t.ok()) {
    e.time_ns = *t;
  } else if (auto evt = e.fields.find("evt.time"); evt != e.fields.end()) {
    int64_t ns = 0;
    auto r = std::from_chars(evt->second.data(), evt->second.data() + evt->second.size(), ns);
    e.time_ns = (r.ec == std::errc() && ns > 0) ? ns : now_ns;
  } else {
    e.time_ns = now_ns;
  }
  if (!falco_source.empty()) e.fields["falco.source"] = falco_source;
  Extract(e);
  if (uuid.size() > 128) return MakeError("uuid: longer than 128 characters");
  e.id = uuid.empty() ? StableId(time, e, falco_source) : uuid;
  e.sensor.capture = "falco";
  if (auto st = CheckStorable(e); !st.ok()) return st.error();
  return e;
}

Result<Event> AlertOrWrapper(const json& j, int64_t now_ns) {
  // Falcosidekick's web UI output posts {"event": {...}, "outputs": [...]}.
  if (j.is_object() && !j.contains("rule")) {
    auto ev = j.find("event");
    if (ev != j.end() && ev->is_object()) return AlertFromJson(*ev, now_ns);
  }
  return AlertFromJson(j, now_ns);
}

}  // namespace

Result<std::vector<Event>> ParseFalcoBody(std::string_view body, int64_t now_ns) {
  if (auto st = CheckNesting(body); !st.ok()) return st.error();
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError("malformed JSON");
  std::vector<Event> out;
  if (j.is_array()) {
    if (j.size() > kMaxBatchEvents) return MakeError("batch has more than 10000 alerts");
    for (size_t i = 0; i < j.size(); ++i) {
      auto e = AlertOrWrapper(j[i], now_ns);
      if (!e.ok()) return MakeError("[" + std::to_string(i) + "] " + e.error().message);
      out.push_back(std::move(*e));
    }
    return out;
  }
  auto e = AlertOrWrapper(j, now_ns);
  if (!e.ok()) return e.error();
  out.push_back(std::move(*e));
  return out;
}

}  // namespace sandwatch::receiver
