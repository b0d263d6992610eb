// The pieces of the one-pass POST /events parser (event_stream.cpp): nlohmann's SAX
// events go straight into Event structs, with the rules of core's EventFromJson.
//
// The tree-based reader checks fields in a fixed order and reports the first failure,
// whatever order the keys came in, and a repeated key replaces the earlier value. Here
// every place a value can land is a Slot numbered in that same order: a failure is kept
// with its slot, a repeated key clears its slot, and the event's error is the one at the
// lowest slot (required and range checks run at the event's end, in slot order).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/result.h"

namespace sandwatch::receiver::stream {

enum Slot : uint8_t {
  kSchema,
  kId,
  kSeq,
  kTime,
  kRule,
  kPriority,
  kOutput,
  kTags,
  kSource,
  kSensor,
  kSensorId,
  kSensorMode,
  kSensorCapture,
  kSensorVersion,
  kK8s,
  kK8sPod,
  kK8sNamespace,
  kHostname,
  kProcess,
  kProcessPid,
  kProcessPpid,
  kProcessStartTime,
  kProcessName,
  kProcessExe,
  kProcessCmdline,
  kProcessCwd,
  kProcessUid,
  kParent,
  kAncestorPid,  // parent.pid and ancestors[i].pid
  kAncestorName,
  kAncestorCmdline,
  kAncestors,
  kAncestorItem,  // the first bad ancestors[i]
  kFile,
  kFilePath,
  kConnection,
  kConnectionProto,
  kConnectionLocal,
  kConnectionRemote,
  kDetection,
  kDetectionMethod,
  kDetectionLag,
  kFields,
  kUnknown,  // a key the schema does not name: its value is skipped
};

// What a slot's value must be.
enum class Shape : uint8_t {
  kString,
  kInt,
  kDouble,
  kStringArray,
  kObject,
  kAncestorArray,
  kFlatMap,
  kIgnored
};

// Which object a key is read in (selects the key table).
enum class Obj : uint8_t {
  kEvent,
  kSensor,
  kK8s,
  kProcess,
  kAncestor,
  kFile,
  kConnection,
  kDetection
};

// The slot `key` names in `obj`, kUnknown if none. `hint` is where the search starts in
// `obj`'s keys (0 for a new object); it is moved past the key found.
Slot LookupKey(Obj obj, std::string_view key, uint8_t* hint);
Shape ShapeOf(Slot s);
// The object kind an kObject slot opens.
Obj ObjOf(Slot s);
// The field's name in error messages ("process.pid"); an ancestor's fields are named by
// the caller ("parent.pid", "ancestors[2].pid").
std::string_view PathOf(Slot s);
std::string_view KeyOf(Slot s);
// The last slot nested under `s` (s itself for a leaf): a repeated key clears s..LastOf(s).
Slot LastOf(Slot s);

// Failures kept by slot; the reported one is at the lowest slot.
class SlotErrors {
 public:
  void Add(Slot s, std::string message);
  void Clear(Slot first, Slot last);
  void Reset() { errors_.clear(); }
  // nullptr when there is none.
  const std::pair<Slot, std::string>* Lowest() const;

 private:
  std::vector<std::pair<Slot, std::string>> errors_;
};

// One event being filled. Scalars are written through the setters; a repeated key is
// undone with Reset before its new value.
class EventFill {
 public:
  void Begin(Event* e);
  Event& event() { return *e_; }
  SlotErrors& errors() { return errors_; }

  // `anc` is the ancestor object being filled for kAncestor* slots (parent or an item).
  void Reset(Slot s, AncestorRef* anc);
  std::string* StringTarget(Slot s, AncestorRef* anc);
  std::vector<std::string>* ArrayTarget(Slot s, AncestorRef* anc);
  void SetInt(Slot s, int64_t v, AncestorRef* anc);
  void SetDouble(Slot s, double v);
  void MarkPresent(Slot s);
  // An object value for `s` begins: the optional it fills now exists, empty.
  void OpenObject(Slot s);

  // The event's first failure in EventFromJson's order, then CheckStorable.
  Status Finish();

 private:
  Event* e_ = nullptr;
  SlotErrors errors_;
  std::string schema_;
  std::string time_;
  std::string priority_;
  int64_t seq_ = 0;
  uint32_t present_ = 0;  // bits for the required kId, kTime, kRule
};

}  // namespace sandwatch::receiver::stream
