#include "sandwatch/receiver/ingest.h"

#include <nlohmann/json.hpp>

namespace sandwatch::receiver {
namespace {

using nlohmann::json;

}  // namespace

Status CheckNesting(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return MakeError("JSON nested deeper than 32 levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return OkStatus();
}

namespace {

// Malformed input gives an error, never an exception. Deep nesting is refused first:
// dumping or destroying a value nested 100,000 deep would exhaust the stack.
Result<json> ParseJson(std::string_view body) {
  if (auto st = CheckNesting(body); !st.ok()) return st.error();
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError("malformed JSON");
  return j;
}

void Append(std::string& out, std::string_view s) {
  if (s.empty()) return;
  if (!out.empty()) out += ' ';
  out += s;
}

}  // namespace

Status CheckStorable(const Event& e) {
  // 1970-01-01 .. 2200-01-01: times outside cannot be written back as RFC 3339 by
  // every consumer, and are a sign of a broken clock or a hostile sender.
  constexpr int64_t kMaxTimeNs = 7'258'118'400LL * 1'000'000'000;
  if (e.time_ns < 0 || e.time_ns >= kMaxTimeNs) {
    return MakeError("time: outside 1970-01-01 .. 2200-01-01");
  }
  if (e.process && e.process->start_time_ns > static_cast<uint64_t>(INT64_MAX)) {
    return MakeError("process.start_time_ns: must not be negative");
  }
  return OkStatus();
}

Result<Heartbeat> ParseHeartbeatBody(std::string_view body) {
  auto parsed = ParseJson(body);
  if (!parsed.ok()) return parsed.error();
  return HeartbeatFromJson(*parsed);
}

std::string SearchText(const Event& e) {
  std::string s;
  s.reserve(256);
  Append(s, e.rule);
  Append(s, e.output);
  Append(s, e.hostname);
  Append(s, e.pod);
  Append(s, e.ns);
  Append(s, e.sensor.id);
  if (e.process) {
    Append(s, e.process->name);
    Append(s, e.process->exe);
    for (const auto& a : e.process->cmdline) Append(s, a);
  }
  if (e.parent) {
    Append(s, e.parent->name);
    for (const auto& a : e.parent->cmdline) Append(s, a);
  }
  for (const auto& a : e.ancestors) Append(s, a.name);
  if (e.file_path) Append(s, *e.file_path);
  if (e.connection) {
    Append(s, e.connection->local);
    Append(s, e.connection->remote);
  }
  for (const auto& t : e.tags) Append(s, t);
  for (const auto& [k, v] : e.fields) Append(s, v);
  return s;
}

}  // namespace sandwatch::receiver
