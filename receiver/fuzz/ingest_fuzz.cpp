// libFuzzer target for the receiver's ingest parsers. The first byte picks the parser:
// 0 = POST /events, 1 = POST /heartbeat, 2 = POST /falco, 3 = GET /api/events query.
// Properties checked beyond "no crash, no sanitizer report": every accepted event's
// canonical JSON parses back with core's strict parser to the same canonical JSON, and is
// byte for byte what the JSON tree's dump gives (EventToJsonLine writes it directly); and
// POST /events' one-pass parser decides as the tree-based one does
// (receiver/tests/events_tree_reference.h): the same accept or reject, the same error
// text, byte-identical stored JSON and search text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "events_tree_reference.h"
#include "sandwatch/receiver/ingest.h"
#include "sandwatch/receiver/query.h"

namespace {

void CheckRoundTrip(const sandwatch::Event& e) {
  std::string line = sandwatch::EventToJsonLine(e);
  if (line !=
      sandwatch::EventToJson(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) {
    std::fprintf(stderr, "direct stored form differs from the tree's:\n%s\n", line.c_str());
    std::abort();
  }
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) std::abort();
  auto back = sandwatch::EventFromJson(j);
  if (!back.ok()) {
    std::fprintf(stderr, "stored event does not parse back: %s\n%s\n", back.error().message.c_str(),
                 line.c_str());
    std::abort();
  }
  if (sandwatch::EventToJsonLine(*back) != line) std::abort();
  (void)sandwatch::receiver::SearchText(e);
}

void CheckSameAsTree(std::string_view body,
                     const sandwatch::Result<std::vector<sandwatch::Event>>& streamed) {
  auto tree = sandwatch::receiver::ParseEventsBodyTree(body);
  bool same = tree.ok() == streamed.ok();
  if (same && !tree.ok()) same = tree.error().message == streamed.error().message;
  if (same && tree.ok()) {
    same = tree->size() == streamed->size();
    for (size_t i = 0; same && i < tree->size(); ++i) {
      same = sandwatch::EventToJsonLine((*tree)[i]) == sandwatch::EventToJsonLine((*streamed)[i]) &&
             sandwatch::receiver::SearchText((*tree)[i]) ==
                 sandwatch::receiver::SearchText((*streamed)[i]);
    }
  }
  if (!same) {
    std::fprintf(stderr, "one-pass parser differs from the tree: %s / %s\n",
                 tree.ok() ? "accepted" : tree.error().message.c_str(),
                 streamed.ok() ? "accepted" : streamed.error().message.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto r = sandwatch::receiver::ParseEventsBody(body);
      CheckSameAsTree(body, r);
      if (r.ok())
        for (const auto& e : *r) CheckRoundTrip(e);
      break;
    }
    case 1: {
      auto r = sandwatch::receiver::ParseHeartbeatBody(body);
      if (r.ok()) (void)sandwatch::HeartbeatToJson(*r).dump();
      break;
    }
    case 2: {
      auto r = sandwatch::receiver::ParseFalcoBody(body, 1'800'000'000'000'000'000);
      if (r.ok())
        for (const auto& e : *r) CheckRoundTrip(e);
      break;
    }
    default: {
      std::map<std::string, std::string> params;
      std::string_view rest = body;
      while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view kv = rest.substr(0, amp);
        auto eq = kv.find('=');
        params[std::string(kv.substr(0, eq))] =
            eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        rest = rest.substr(amp + 1);
      }
      (void)sandwatch::receiver::ParseEventQuery(
          [&](const std::string& k) -> std::optional<std::string> {
            auto it = params.find(k);
            if (it == params.end()) return std::nullopt;
            return it->second;
          },
          1'800'000'000'000'000'000);
      break;
    }
  }
  return 0;
}
