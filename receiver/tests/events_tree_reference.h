// The tree-based POST /events parser the receiver used before the one-pass parser: the
// whole body parsed into an nlohmann tree, then core's EventFromJson and CheckStorable on
// each event. Kept only as the reference the one-pass parser is checked against (the
// sameness test, the fuzz target) and measured against (receiver_ingest_bench).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/receiver/ingest.h"

namespace sandwatch::receiver {

inline Result<std::vector<Event>> ParseEventsBodyTree(std::string_view body) {
  if (auto st = CheckNesting(body); !st.ok()) return st.error();
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError("malformed JSON");
  std::vector<Event> out;
  if (j.is_object()) {
    auto e = EventFromJson(j);
    if (!e.ok()) return e.error();
    if (auto st = CheckStorable(*e); !st.ok()) return st.error();
    out.push_back(std::move(*e));
    return out;
  }
  if (!j.is_array()) return MakeError("expected an event object or an array of events");
  if (j.size() > kMaxBatchEvents) return MakeError("batch has more than 10000 events");
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    auto e = EventFromJson(j[i]);
    if (e.ok()) {
      if (auto st = CheckStorable(*e); !st.ok()) e = st.error();
    }
    if (!e.ok()) return MakeError("[" + std::to_string(i) + "] " + e.error().message);
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace sandwatch::receiver
