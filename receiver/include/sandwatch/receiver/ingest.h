// Pure ingest parsers: request body text -> validated events or a heartbeat.
// No I/O, no global state; these are what the fuzz target drives.
//
// Every input is attacker-controlled. Parsing is strict (core's EventFromJson /
// HeartbeatFromJson rules; POST /events applies them in one pass, without a JSON tree)
// and all-or-nothing: one bad event in a batch rejects the batch, so a 4xx always means
// nothing was stored.
#pragma once

#include <string_view>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/result.h"

namespace sandwatch::receiver {

inline constexpr size_t kMaxBatchEvents = 10000;
inline constexpr int kMaxJsonDepth = 32;

// Refuses JSON text nested deeper than kMaxJsonDepth (checked before parsing a tree;
// POST /events' one-pass parser stops at that depth and runs it only on failure).
Status CheckNesting(std::string_view body);

// Limits beyond core's schema that keep a stored event re-readable (time range,
// non-negative start time).
Status CheckStorable(const Event& e);

// Which JSON parser feeds the one-pass reader: simdjson where it can, nlohmann's for the
// bodies it leaves (src/event_stream_parse.cpp says which); or nlohmann's alone.
enum class EventsParser { kFastest, kNlohmann };

// POST /events: one sandwatch event object or an array of them, parsed in one pass
// (src/event_stream*.cpp) with EventFromJson's and CheckStorable's rules and error texts.
// Both parsers give the same outcome on every body.
Result<std::vector<Event>> ParseEventsBody(std::string_view body,
                                           EventsParser parser = EventsParser::kFastest);

// POST /heartbeat: one sandwatch heartbeat object.
Result<Heartbeat> ParseHeartbeatBody(std::string_view body);

// POST /falco and POST /: a Falco json_output alert, a Falcosidekick webhook payload
// (the same plus "uuid"), the Falcosidekick-UI wrapper {"event":{...},"outputs":[...]},
// or an array of any of these. Results have source "falco". `now_ns` stamps alerts
// without a usable time.
Result<std::vector<Event>> ParseFalcoBody(std::string_view body, int64_t now_ns);

// The text the "filter" query parameter searches: rule, output, k8s, host, process,
// parent, file, connection, tags and extra fields, joined by spaces.
std::string SearchText(const Event& e);

}  // namespace sandwatch::receiver
