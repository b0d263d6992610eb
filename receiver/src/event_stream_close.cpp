// Closing compound values of the one-pass POST /events parser (event_stream_handler.h):
// an event's checks in EventFromJson's order, array and map limits, and the outcome.
#include "event_stream_handler.h"
#include "sandwatch/receiver/ingest.h"

namespace sandwatch::receiver::stream {

bool EventsHandler::OnClose() {
  --depth_;
  Frame& f = stack_.back();
  switch (f.kind) {
    case Frame::kSkip:
      if (f.count > 0) return --f.count, true;
      break;
    case Frame::kTree:
      if (!tree_.Close()) return true;
      fill_.event().fields[field_key_] = tree_.Text();
      break;
    case Frame::kEvent:
      FinishEvent();
      break;
    case Frame::kObject:
      FinishObject(f);
      break;
    case Frame::kStringArray:
      FinishStrings(f);
      break;
    case Frame::kAncestorList:
      if (f.count > 64) {
        fill_.errors().Add(stream::kAncestors, "ancestors: more than 64 entries");
      } else if (!f.item_error.empty()) {
        fill_.errors().Add(stream::kAncestorItem, f.item_error);
      }
      break;
    case Frame::kFieldMap:
      FinishFields();
      break;
    default:
      break;  // kBatch, kRoot
  }
  stack_.pop_back();
  return true;
}

void EventsHandler::StartEvent() {
  out_->emplace_back();
  fill_.Begin(&out_->back());
  Push(Frame::kEvent);
}

void EventsHandler::FinishEvent() {
  Status st = fill_.Finish();
  if (st.ok()) return;
  if (single_) {
    event_error_ = st.error().message;
  } else {
    BatchItemError(st.error().message);
  }
}

void EventsHandler::BatchItemError(std::string message) {
  batch_failed_ = true;
  event_error_ = "[" + std::to_string(batch_items_ - 1) + "] " + std::move(message);
}

void EventsHandler::FinishObject(const Frame& f) {
  if (!f.item) return;
  Frame& list = stack_[stack_.size() - 2];
  if (const auto* low = item_errors_.Lowest()) {
    if (list.item_error.empty()) list.item_error = low->second;
    return;
  }
  fill_.event().ancestors.push_back(std::move(item_));
}

void EventsHandler::FinishStrings(const Frame& f) {
  const Frame& owner = stack_[stack_.size() - 2];
  if (f.count > kMaxArrayItems) return Fail(owner, f.slot, "array has more than 4096 items");
  if (!f.item_error.empty()) Sink(owner).Add(f.slot, f.item_error);
}

void EventsHandler::FinishFields() {
  const auto& fields = fill_.event().fields;
  if (fields.size() > kMaxArrayItems) {
    return fill_.errors().Add(stream::kFields, "fields: object has more than 4096 keys");
  }
  for (const auto& [k, v] : fields) {
    if (v.size() > kMaxStringBytes) {
      return fill_.errors().Add(stream::kFields, "fields." + k + ": value longer than 64 KiB");
    }
  }
}

Result<std::vector<Event>> EventsHandler::Outcome() {
  if (!root_error_.empty()) return MakeError(root_error_);
  if (batch_items_ > kMaxBatchEvents) return MakeError("batch has more than 10000 events");
  if (!event_error_.empty()) return MakeError(event_error_);
  return std::move(*out_);
}

}  // namespace sandwatch::receiver::stream
