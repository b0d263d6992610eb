// POST /events in one pass: nlohmann's SAX parser feeds the handler (event_stream_handler.h),
// which fills Event structs as the values arrive, with no JSON tree in between. The rules and error
// texts are core's EventFromJson plus CheckStorable (event_stream.h says how the order of
// checks is kept); a syntax error anywhere wins over every field error, as it did when the
// whole body was parsed first. This file takes keys, scalars and the openings of objects
// and arrays.
#include <cmath>

#include "event_stream_handler.h"
#include "sandwatch/receiver/ingest.h"

namespace sandwatch::receiver::stream {

bool EventsHandler::Key(std::string_view k) {
  Frame& f = stack_.back();
  if (f.kind == Frame::kEvent || f.kind == Frame::kObject) {
    const Slot found = LookupKey(f.obj, k, &f.key_hint);
    f.pending = found;
    if (found == kUnknown) return true;
    const uint64_t bit = uint64_t{1} << f.pending;
    if ((f.seen & bit) != 0) {  // a repeated key replaces the value before it
      fill_.Reset(f.pending, ancestor_);
      Sink(f).Clear(f.pending, stream::LastOf(f.pending));
    }
    f.seen |= bit;
  } else if (f.kind == Frame::kFieldMap) {
    field_key_ = k;
  } else if (f.kind == Frame::kTree) {
    tree_.Key(k);
  }
  return true;
}

bool EventsHandler::OnScalar(const Value& v) {
  if (stack_.empty()) {
    root_error_ = "expected an event object or an array of events";
    return true;
  }
  Frame& f = stack_.back();
  switch (f.kind) {
    case Frame::kBatch:
      if (++batch_items_ <= kMaxBatchEvents && !batch_failed_) {
        BatchItemError("event: expected a JSON object");
      }
      break;
    case Frame::kEvent:
    case Frame::kObject:
      FieldScalar(f, v);
      break;
    case Frame::kStringArray:
      if (v.type == Value::kString && v.s.size() <= kMaxStringBytes) {
        f.strings->emplace_back(v.s);
      } else if (f.item_error.empty()) {
        const Frame& owner = stack_[stack_.size() - 2];
        std::string path = Path(owner, f.slot);
        f.item_error = v.type == Value::kString
                           ? path + ": string longer than 64 KiB"
                           : path + "[" + std::to_string(f.count) + "]: expected a string";
      }
      ++f.count;
      break;
    case Frame::kAncestorList:
      if (f.item_error.empty()) {
        f.item_error = "ancestors[" + std::to_string(f.count) + "]: expected an object";
      }
      ++f.count;
      break;
    case Frame::kFieldMap:
      fill_.event().fields[field_key_] =
          v.type == Value::kString ? std::string(v.s) : v.ToJson().dump();
      break;
    case Frame::kTree:
      tree_.Scalar(v.ToJson());
      break;
    case Frame::kSkip:
    case Frame::kRoot:
      break;
  }
  return true;
}

void EventsHandler::FieldScalar(Frame& f, const Value& v) {
  const Slot s = f.pending;
  if (v.type == Value::kNull) return;  // null is absent, for every field
  switch (stream::ShapeOf(s)) {
    case Shape::kString:
      if (v.type != Value::kString) return Fail(f, s, "expected a string");
      if (v.s.size() > kMaxStringBytes) return Fail(f, s, "string longer than 64 KiB");
      *fill_.StringTarget(s, ancestor_) = v.s;
      fill_.MarkPresent(s);
      return;
    case Shape::kInt:
      if (v.type == Value::kInt) return fill_.SetInt(s, v.i, ancestor_);
      if (v.type != Value::kUnsigned) return Fail(f, s, "expected an integer");
      if (v.u > static_cast<uint64_t>(INT64_MAX)) return Fail(f, s, "integer out of range");
      return fill_.SetInt(s, static_cast<int64_t>(v.u), ancestor_);
    case Shape::kDouble: {
      double d = 0;
      if (v.type == Value::kFloat) {
        d = v.d;
      } else if (v.type == Value::kInt) {
        d = static_cast<double>(v.i);
      } else if (v.type == Value::kUnsigned) {
        d = static_cast<double>(v.u);
      } else {
        return Fail(f, s, "expected a number");
      }
      if (!std::isfinite(d)) return Fail(f, s, "expected a finite number");
      return fill_.SetDouble(s, d);
    }
    case Shape::kStringArray:
      return Fail(f, s, "expected an array of strings");
    case Shape::kObject:
    case Shape::kFlatMap:
      return Fail(f, s, "expected an object");
    case Shape::kAncestorArray:
      return Fail(f, s, "expected an array");
    case Shape::kIgnored:
      return;
  }
}

bool EventsHandler::OnOpen(bool object) {
  // Deeper than the limit: stop here (a "fields" value is built as a tree, and a tree
  // 100,000 deep would exhaust the stack when freed). ParseEventsBody names the cause.
  if (++depth_ > kMaxJsonDepth) return false;
  if (stack_.empty()) {
    if (object) {
      single_ = true;
      StartEvent();
    } else {
      Push(Frame::kBatch);
    }
    return true;
  }
  Frame& f = stack_.back();
  switch (f.kind) {
    case Frame::kBatch:
      if (++batch_items_ > kMaxBatchEvents || batch_failed_) return Skip(), true;
      if (object) return StartEvent(), true;
      BatchItemError("event: expected a JSON object");
      return Skip(), true;
    case Frame::kEvent:
    case Frame::kObject:
      FieldOpen(f, object);
      return true;
    case Frame::kStringArray:
      if (f.item_error.empty()) {
        f.item_error = Path(stack_[stack_.size() - 2], f.slot) + "[" + std::to_string(f.count) +
                       "]: expected a string";
      }
      ++f.count;
      return Skip(), true;
    case Frame::kAncestorList:
      OpenAncestor(f, object);
      return true;
    case Frame::kFieldMap:
      tree_.Open(object);
      Push(Frame::kTree);
      return true;
    case Frame::kTree:
      tree_.Open(object);
      return true;
    case Frame::kSkip:
      ++f.count;
      return true;
    case Frame::kRoot:
      return true;
  }
  return true;
}

void EventsHandler::OpenAncestor(Frame& list, bool object) {
  const size_t index = list.count++;
  if (!object) {
    if (list.item_error.empty()) {
      list.item_error = "ancestors[" + std::to_string(index) + "]: expected an object";
    }
    return Skip();
  }
  item_ = AncestorRef{};
  item_errors_.Reset();
  ancestor_ = &item_;
  Frame& entry = Push(Frame::kObject, stream::kUnknown, Obj::kAncestor);
  entry.item = true;
  entry.count = index;
}

void EventsHandler::FieldOpen(Frame& f, bool object) {
  const Slot s = f.pending;
  switch (stream::ShapeOf(s)) {
    case Shape::kString:
      Fail(f, s, "expected a string");
      break;
    case Shape::kInt:
      Fail(f, s, "expected an integer");
      break;
    case Shape::kDouble:
      Fail(f, s, "expected a number");
      break;
    case Shape::kStringArray:
      if (!object) {
        auto* strings = fill_.ArrayTarget(s, ancestor_);
        strings->clear();
        Push(Frame::kStringArray, s).strings = strings;
        return;
      }
      Fail(f, s, "expected an array of strings");
      break;
    case Shape::kObject:
      if (object) {
        fill_.OpenObject(s);
        if (s == stream::kParent) ancestor_ = &*fill_.event().parent;
        Push(Frame::kObject, s, stream::ObjOf(s));
        return;
      }
      Fail(f, s, "expected an object");
      break;
    case Shape::kAncestorArray:
      if (!object) {
        Push(Frame::kAncestorList, s);
        return;
      }
      Fail(f, s, "expected an array");
      break;
    case Shape::kFlatMap:
      if (object) {
        Push(Frame::kFieldMap, s);
        return;
      }
      Fail(f, s, "expected an object");
      break;
    case Shape::kIgnored:
      break;
  }
  Skip();
}

}  // namespace sandwatch::receiver::stream
