// The SAX handler of the one-pass POST /events parser: event_stream.cpp takes values and
// keys as nlohmann's parser reports them, event_stream_close.cpp finishes each compound
// value and gives the outcome. A stack of frames says what the next value belongs to.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "event_stream.h"

namespace sandwatch::receiver::stream {

using nlohmann::json;

struct Value {
  enum Type : uint8_t { kNull, kBool, kInt, kUnsigned, kFloat, kString } type = kNull;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string_view s{};

  json ToJson() const {
    switch (type) {
      case kNull:
        return nullptr;
      case kBool:
        return b;
      case kInt:
        return i;
      case kUnsigned:
        return u;
      case kFloat:
        return d;
      case kString:
        return std::string(s);
    }
    return nullptr;
  }
};

// Builds the tree of one compound value under "fields", which is stored as its JSON text
// (as core's ReadFlatMap does: the tree's dump, keys sorted, a repeated key replaced).
class FieldValueTree {  // NOLINT(bugprone-exception-escape): members only move or free json
 public:
  void Open(bool object) {
    json v = object ? json::object() : json::array();
    stack_.push_back(stack_.empty() ? &(root_ = std::move(v)) : Insert(std::move(v)));
  }
  void Key(std::string_view k) { key_ = k; }
  void Scalar(json v) { Insert(std::move(v)); }
  // True when the outermost value closed.
  bool Close() {
    stack_.pop_back();
    return stack_.empty();
  }
  std::string Text() const { return root_.dump(); }

 private:
  json* Insert(json v) {
    json& top = *stack_.back();
    if (top.is_object()) return &(top[key_] = std::move(v));
    top.push_back(std::move(v));
    return &top.back();
  }
  json root_;
  std::vector<json*> stack_;
  std::string key_;
};

struct Frame {
  enum Kind : uint8_t {
    kRoot,
    kBatch,
    kEvent,
    kObject,
    kStringArray,
    kAncestorList,
    kFieldMap,
    kSkip,
    kTree
  };
  explicit Frame(Kind k, Slot s = kUnknown, Obj o = Obj::kEvent) : kind(k), obj(o), slot(s) {}
  Kind kind;
  Obj obj;                  // kEvent, kObject: which keys are known
  Slot slot;                // the slot this compound value fills
  Slot pending = kUnknown;  // kEvent, kObject: the slot the next value fills
  uint8_t key_hint = 0;     // kEvent, kObject: LookupKey's hint
  bool item = false;        // kObject: an ancestors[i] entry
  uint64_t seen = 0;        // kEvent, kObject: slots whose key came already
  size_t count = 0;         // arrays: items so far; kSkip: compounds open inside; item: its index
  std::vector<std::string>* strings = nullptr;  // kStringArray
  std::string item_error;                       // kStringArray, kAncestorList: the first bad item
};

class EventsHandler {
 public:
  explicit EventsHandler(std::vector<Event>* out) : out_(out) { stack_.reserve(16); }

  bool null() { return OnScalar(Value{}); }
  bool boolean(bool v) { return OnScalar(Value{.type = Value::kBool, .b = v}); }
  bool number_integer(int64_t v) { return OnScalar(Value{.type = Value::kInt, .i = v}); }
  bool number_unsigned(uint64_t v) { return OnScalar(Value{.type = Value::kUnsigned, .u = v}); }
  bool number_float(double v, const std::string& /*text*/) {
    return OnScalar(Value{.type = Value::kFloat, .d = v});
  }
  bool string(std::string& v) { return String(v); }
  bool String(std::string_view v) { return OnScalar(Value{.type = Value::kString, .s = v}); }
  bool binary(json::binary_t& /*v*/) { return OnScalar(Value{}); }  // never in JSON text
  bool start_object(size_t /*n*/) { return OnOpen(true); }
  bool start_array(size_t /*n*/) { return OnOpen(false); }
  bool end_object() { return OnClose(); }
  bool end_array() { return OnClose(); }
  bool key(std::string& k) { return Key(k); }
  bool Key(std::string_view k);
  bool parse_error(size_t /*pos*/, const std::string& /*token*/,
                   const nlohmann::detail::exception& /*ex*/) {
    return false;
  }

  Result<std::vector<Event>> Outcome();

 private:
  bool OnScalar(const Value& v);
  bool OnOpen(bool object);
  bool OnClose();
  void FieldScalar(Frame& f, const Value& v);
  void FieldOpen(Frame& f, bool object);
  void OpenAncestor(Frame& list, bool object);
  void StartEvent();
  void FinishEvent();
  void FinishObject(const Frame& f);
  void FinishStrings(const Frame& f);
  void FinishFields();
  void BatchItemError(std::string message);
  Frame& Push(Frame::Kind k, Slot s = kUnknown, Obj o = Obj::kEvent) {
    return stack_.emplace_back(k, s, o);
  }
  void Skip() { Push(Frame::kSkip); }
  // Errors of an ancestors[i] entry are its own until it closes; all others are the event's.
  SlotErrors& Sink(const Frame& owner) { return owner.item ? item_errors_ : fill_.errors(); }
  std::string Path(const Frame& owner, Slot s) const {
    if (!owner.item) return std::string(PathOf(s));
    return "ancestors[" + std::to_string(owner.count) + "]." + std::string(KeyOf(s));
  }
  void Fail(const Frame& owner, Slot s, std::string_view what) {
    Sink(owner).Add(s, Path(owner, s) + ": " + std::string(what));
  }

  std::vector<Event>* out_;
  std::vector<Frame> stack_;
  EventFill fill_;
  SlotErrors item_errors_;
  AncestorRef item_;
  AncestorRef* ancestor_ = nullptr;  // the ancestor object being filled
  FieldValueTree tree_;
  std::string field_key_;
  int depth_ = 0;  // objects and arrays open
  bool single_ = false;
  bool batch_failed_ = false;
  size_t batch_items_ = 0;
  std::string root_error_;
  std::string event_error_;  // with "[i] " in front for a batch
};

}  // namespace sandwatch::receiver::stream
