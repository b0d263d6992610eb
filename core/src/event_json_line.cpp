// EventToJsonLine without a JSON tree: the receiver stores every event in this form and the
// sensor writes it, so it is on both hot paths. The text is byte for byte what
// EventToJson(e).dump(-1, ' ', false, replace) gives: keys in the tree's (sorted) order,
// the same number forms, and every string that needs escaping (quote, backslash, control
// characters, any byte above 0x7f) serialised by nlohmann itself, so escaping and the
// handling of invalid UTF-8 cannot drift from the tree's.
#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/event.h"

namespace sandwatch {
namespace {

bool NeedsEscaping(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\') return true;
  }
  return false;
}

class LineWriter {
 public:
  explicit LineWriter(std::string* out) : out_(out) {}

  void Open(char c) {
    Separator();
    *out_ += c;
    first_ = true;
  }
  void Close(char c) {
    *out_ += c;
    first_ = false;
  }
  // The key of the next member (escaped like any string: field names come from the sender).
  void Key(std::string_view k) {
    String(k);
    *out_ += ':';
    first_ = true;  // the value follows without a comma
  }
  void String(std::string_view s) {
    Separator();
    if (NeedsEscaping(s)) {
      *out_ += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      *out_ += '"';
      *out_ += s;
      *out_ += '"';
    }
    first_ = false;
  }
  template <typename Int>
  void Integer(Int v) {
    Separator();
    std::array<char, 24> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    (void)ec;  // 24 bytes hold any 64-bit integer
    out_->append(buf.data(), end);
    first_ = false;
  }
  void Double(double v) {
    Separator();
    *out_ += nlohmann::json(v).dump();
    first_ = false;
  }
  void StringArray(const std::vector<std::string>& items) {
    Open('[');
    for (const auto& s : items) String(s);
    Close(']');
  }

 private:
  void Separator() {
    if (!first_) *out_ += ',';
  }

  std::string* out_;
  bool first_ = true;
};

void WriteAncestor(LineWriter& w, const AncestorRef& a) {
  w.Open('{');
  if (!a.cmdline.empty()) {
    w.Key("cmdline");
    w.StringArray(a.cmdline);
  }
  w.Key("name");
  w.String(a.name);
  w.Key("pid");
  w.Integer(static_cast<int64_t>(a.pid));
  w.Close('}');
}

void WriteProcess(LineWriter& w, const ProcessRef& p) {
  w.Open('{');
  w.Key("cmdline");
  w.StringArray(p.cmdline);
  w.Key("cwd");
  w.String(p.cwd);
  w.Key("exe");
  w.String(p.exe);
  w.Key("name");
  w.String(p.name);
  w.Key("pid");
  w.Integer(static_cast<int64_t>(p.pid));
  w.Key("ppid");
  w.Integer(static_cast<int64_t>(p.ppid));
  w.Key("start_time_ns");
  w.Integer(p.start_time_ns);
  if (p.uid) {
    w.Key("uid");
    w.Integer(*p.uid);
  }
  w.Close('}');
}

// Members up to "hostname", in key order.
void WriteFirstHalf(LineWriter& w, const Event& e) {
  if (!e.ancestors.empty()) {
    w.Key("ancestors");
    w.Open('[');
    for (const auto& a : e.ancestors) WriteAncestor(w, a);
    w.Close(']');
  }
  if (e.connection) {
    w.Key("connection");
    w.Open('{');
    w.Key("local");
    w.String(e.connection->local);
    w.Key("proto");
    w.String(e.connection->proto);
    w.Key("remote");
    w.String(e.connection->remote);
    w.Close('}');
  }
  if (e.detection) {
    w.Key("detection");
    w.Open('{');
    if (e.detection->lag_ms) {
      w.Key("lag_ms");
      w.Double(*e.detection->lag_ms);
    }
    w.Key("method");
    w.String(e.detection->method);
    w.Close('}');
  }
  if (!e.fields.empty()) {
    w.Key("fields");
    w.Open('{');
    for (const auto& [k, v] : e.fields) {
      w.Key(k);
      w.String(v);
    }
    w.Close('}');
  }
}

}  // namespace

std::string EventToJsonLine(const Event& e) {
  std::string out;
  out.reserve(768);
  LineWriter w(&out);
  w.Open('{');
  WriteFirstHalf(w, e);
  if (e.file_path) {
    w.Key("file");
    w.Open('{');
    w.Key("path");
    w.String(*e.file_path);
    w.Close('}');
  }
  w.Key("hostname");
  w.String(e.hostname);
  w.Key("id");
  w.String(e.id);
  w.Key("k8s");
  w.Open('{');
  w.Key("namespace");
  w.String(e.ns);
  w.Key("pod");
  w.String(e.pod);
  w.Close('}');
  w.Key("output");
  w.String(e.output);
  if (e.parent) {
    w.Key("parent");
    WriteAncestor(w, *e.parent);
  }
  w.Key("priority");
  w.String(PriorityName(e.priority));
  if (e.process) {
    w.Key("process");
    WriteProcess(w, *e.process);
  }
  w.Key("rule");
  w.String(e.rule);
  w.Key("schema");
  w.String(kEventSchema);
  w.Key("sensor");
  w.Open('{');
  w.Key("capture");
  w.String(e.sensor.capture);
  w.Key("id");
  w.String(e.sensor.id);
  w.Key("mode");
  w.String(e.sensor.mode);
  w.Key("version");
  w.String(e.sensor.version);
  w.Close('}');
  w.Key("seq");
  w.Integer(e.seq);
  w.Key("source");
  w.String(e.source);
  w.Key("tags");
  w.StringArray(e.tags);
  w.Key("time");
  w.String(FormatRfc3339(e.time_ns));
  w.Close('}');
  return out;
}

}  // namespace sandwatch
