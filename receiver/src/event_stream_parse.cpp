// POST /events bodies in one pass, through the handler of event_stream_handler.h.
//
// simdjson parses the body into its tape first, and the walk below reports the tape to the
// handler as the same SAX calls nlohmann's parser makes. nlohmann's lexer was most of an
// HTTP worker's CPU per event; simdjson's parse is a small fraction of it. The decision
// stays nlohmann's wherever the two could differ: a body goes to nlohmann's SAX parser
// instead when
//   - simdjson refuses it (a syntax error, whose outcome nlohmann then gives; or a number
//     simdjson does not take, such as an integer beyond 64 bits, which nlohmann reads as a
//     double);
//   - it holds a \u escape (nlohmann refuses a lone surrogate; simdjson's answer is not
//     part of its documented contract);
//   - it is larger than kMaxTapeBodyBytes (simdjson's buffers grow to the largest document
//     a thread has parsed, about 14 bytes per byte, and stay).
// A test and the fuzz target check that both paths decide alike.
#include <simdjson.h>

#include <cstring>
#include <string>
#include <string_view>

#include "event_stream_handler.h"
#include "sandwatch/receiver/ingest.h"

namespace sandwatch::receiver {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Each HTTP worker keeps its parser and padded copy of the body, sized for the largest
// body it parsed: at most about 2 MiB. A sensor's batch of 100 events is about 70 KiB.
constexpr size_t kMaxTapeBodyBytes = size_t{128} * 1024;

// Reports one element and everything inside it, in document order (a repeated key is
// reported each time, as nlohmann does). False when the handler stops the parse.
bool Walk(const element& e, stream::EventsHandler& h) {
  switch (e.type()) {
    case element_type::ARRAY: {
      if (!h.start_array(0)) return false;
      simdjson::dom::array items;
      if (e.get(items) != simdjson::SUCCESS) return false;
      for (element item : items) {
        if (!Walk(item, h)) return false;
      }
      return h.end_array();
    }
    case element_type::OBJECT: {
      if (!h.start_object(0)) return false;
      simdjson::dom::object fields;
      if (e.get(fields) != simdjson::SUCCESS) return false;
      for (auto field : fields) {
        if (!h.Key(field.key) || !Walk(field.value, h)) return false;
      }
      return h.end_object();
    }
    case element_type::INT64: {
      // nlohmann reports a number without a sign as unsigned, however small.
      const int64_t v = e.get_int64().value_unsafe();
      return v >= 0 ? h.number_unsigned(static_cast<uint64_t>(v)) : h.number_integer(v);
    }
    case element_type::UINT64:
      return h.number_unsigned(e.get_uint64().value_unsafe());
    case element_type::DOUBLE: {
      static const std::string kNoText;  // the handler does not read the number's text
      return h.number_float(e.get_double().value_unsafe(), kNoText);
    }
    case element_type::STRING:
      return h.String(e.get_string().value_unsafe());
    case element_type::BOOL:
      return h.boolean(e.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      return h.null();
  }
  return false;
}

struct TapeParser {
  simdjson::dom::parser parser;
  std::string padded;  // the body, followed by simdjson's padding
};

// True when simdjson parsed the body and the walk ran to its end or was stopped by the
// handler (*walked says which); false when the body is left to nlohmann.
bool ParseWithTape(std::string_view body, stream::EventsHandler& h, bool* walked) {
  if (body.size() > kMaxTapeBodyBytes) return false;
  if (body.find("\\u") != std::string_view::npos) return false;
  thread_local TapeParser tape;
  tape.padded.resize(body.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(tape.padded.data(), body.data(), body.size());
  auto doc = tape.parser.parse(tape.padded.data(), body.size(), /*realloc_if_needed=*/false);
  if (doc.error() != simdjson::SUCCESS) return false;
  *walked = Walk(doc.value_unsafe(), h);
  return true;
}

}  // namespace

Result<std::vector<Event>> ParseEventsBody(std::string_view body, EventsParser parser) {
  std::vector<Event> events;
  events.reserve(std::min(body.size() / 256 + 1, kMaxBatchEvents));
  // ParseWithTape leaves the handler untouched when it leaves the body to nlohmann.
  stream::EventsHandler handler(&events);
  bool walked = false;
  if (parser != EventsParser::kFastest || !ParseWithTape(body, handler, &walked)) {
    walked = nlohmann::json::sax_parse(body.begin(), body.end(), &handler);
  }
  if (walked) return handler.Outcome();
  // Nesting deeper than the limit is named even when a syntax error comes first, as when
  // the nesting was checked before parsing; for text the parser accepted up to where it
  // stopped, CheckNesting's depth is the parser's.
  if (auto st = CheckNesting(body); !st.ok()) return st.error();
  return MakeError("malformed JSON");
}

}  // namespace sandwatch::receiver
