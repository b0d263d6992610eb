// Slot tables and the per-event fill of the one-pass POST /events parser (event_stream.h).
#include <array>
#include <span>

#include "event_stream.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/receiver/ingest.h"

namespace sandwatch::receiver::stream {
namespace {

struct SlotSpec {
  Obj in;  // the object whose key names this slot
  std::string_view key;
  std::string_view path;
  Shape shape;
  Slot last;  // LastOf
  Obj opens;  // for kObject slots
};

using O = Obj;
using S = Shape;

// Indexed by Slot; the order is EventFromJson's order of checks.
constexpr std::array<SlotSpec, kUnknown> kSpecs = {{
    {O::kEvent, "schema", "schema", S::kString, kSchema, O::kEvent},
    {O::kEvent, "id", "id", S::kString, kId, O::kEvent},
    {O::kEvent, "seq", "seq", S::kInt, kSeq, O::kEvent},
    {O::kEvent, "time", "time", S::kString, kTime, O::kEvent},
    {O::kEvent, "rule", "rule", S::kString, kRule, O::kEvent},
    {O::kEvent, "priority", "priority", S::kString, kPriority, O::kEvent},
    {O::kEvent, "output", "output", S::kString, kOutput, O::kEvent},
    {O::kEvent, "tags", "tags", S::kStringArray, kTags, O::kEvent},
    {O::kEvent, "source", "source", S::kString, kSource, O::kEvent},
    {O::kEvent, "sensor", "sensor", S::kObject, kSensorVersion, O::kSensor},
    {O::kSensor, "id", "sensor.id", S::kString, kSensorId, O::kEvent},
    {O::kSensor, "mode", "sensor.mode", S::kString, kSensorMode, O::kEvent},
    {O::kSensor, "capture", "sensor.capture", S::kString, kSensorCapture, O::kEvent},
    {O::kSensor, "version", "sensor.version", S::kString, kSensorVersion, O::kEvent},
    {O::kEvent, "k8s", "k8s", S::kObject, kK8sNamespace, O::kK8s},
    {O::kK8s, "pod", "k8s.pod", S::kString, kK8sPod, O::kEvent},
    {O::kK8s, "namespace", "k8s.namespace", S::kString, kK8sNamespace, O::kEvent},
    {O::kEvent, "hostname", "hostname", S::kString, kHostname, O::kEvent},
    {O::kEvent, "process", "process", S::kObject, kProcessUid, O::kProcess},
    {O::kProcess, "pid", "process.pid", S::kInt, kProcessPid, O::kEvent},
    {O::kProcess, "ppid", "process.ppid", S::kInt, kProcessPpid, O::kEvent},
    {O::kProcess, "start_time_ns", "process.start_time_ns", S::kInt, kProcessStartTime, O::kEvent},
    {O::kProcess, "name", "process.name", S::kString, kProcessName, O::kEvent},
    {O::kProcess, "exe", "process.exe", S::kString, kProcessExe, O::kEvent},
    {O::kProcess, "cmdline", "process.cmdline", S::kStringArray, kProcessCmdline, O::kEvent},
    {O::kProcess, "cwd", "process.cwd", S::kString, kProcessCwd, O::kEvent},
    {O::kProcess, "uid", "process.uid", S::kInt, kProcessUid, O::kEvent},
    {O::kEvent, "parent", "parent", S::kObject, kAncestorCmdline, O::kAncestor},
    {O::kAncestor, "pid", "parent.pid", S::kInt, kAncestorPid, O::kEvent},
    {O::kAncestor, "name", "parent.name", S::kString, kAncestorName, O::kEvent},
    {O::kAncestor, "cmdline", "parent.cmdline", S::kStringArray, kAncestorCmdline, O::kEvent},
    {O::kEvent, "ancestors", "ancestors", S::kAncestorArray, kAncestorItem, O::kEvent},
    {O::kEvent, "", "ancestors", S::kIgnored, kAncestorItem, O::kEvent},
    {O::kEvent, "file", "file", S::kObject, kFilePath, O::kFile},
    {O::kFile, "path", "file.path", S::kString, kFilePath, O::kEvent},
    {O::kEvent, "connection", "connection", S::kObject, kConnectionRemote, O::kConnection},
    {O::kConnection, "proto", "connection.proto", S::kString, kConnectionProto, O::kEvent},
    {O::kConnection, "local", "connection.local", S::kString, kConnectionLocal, O::kEvent},
    {O::kConnection, "remote", "connection.remote", S::kString, kConnectionRemote, O::kEvent},
    {O::kEvent, "detection", "detection", S::kObject, kDetectionLag, O::kDetection},
    {O::kDetection, "method", "detection.method", S::kString, kDetectionMethod, O::kEvent},
    {O::kDetection, "lag_ms", "detection.lag_ms", S::kDouble, kDetectionLag, O::kEvent},
    {O::kEvent, "fields", "fields", S::kFlatMap, kFields, O::kEvent},
}};

constexpr uint32_t Bit(Slot s) { return s == kId ? 1U : s == kTime ? 2U : s == kRule ? 4U : 0U; }

// The priority as sent is nearly always a canonical name; anything else goes through
// core's case-insensitive ParsePriority.
std::optional<Priority> PriorityOf(std::string_view text) {
  for (int i = 0; i <= static_cast<int>(Priority::kDebug); ++i) {
    if (PriorityName(static_cast<Priority>(i)) == text) return static_cast<Priority>(i);
  }
  return ParsePriority(text);
}

}  // namespace

Slot LookupKey(Obj obj, std::string_view key, uint8_t* hint) {
  static constexpr std::array kEventKeys = {kSchema,   kId,         kSeq,       kTime,   kRule,
                                            kPriority, kOutput,     kTags,      kSource, kSensor,
                                            kK8s,      kHostname,   kProcess,   kParent, kAncestors,
                                            kFile,     kConnection, kDetection, kFields};
  static constexpr std::array kSensorKeys = {kSensorId, kSensorMode, kSensorCapture,
                                             kSensorVersion};
  static constexpr std::array kK8sKeys = {kK8sPod, kK8sNamespace};
  static constexpr std::array kProcessKeys = {kProcessPid,  kProcessPpid, kProcessStartTime,
                                              kProcessName, kProcessExe,  kProcessCmdline,
                                              kProcessCwd,  kProcessUid};
  static constexpr std::array kAncestorKeys = {kAncestorPid, kAncestorName, kAncestorCmdline};
  static constexpr std::array kFileKeys = {kFilePath};
  static constexpr std::array kConnectionKeys = {kConnectionProto, kConnectionLocal,
                                                 kConnectionRemote};
  static constexpr std::array kDetectionKeys = {kDetectionMethod, kDetectionLag};
  std::span<const Slot> keys;
  switch (obj) {
    case Obj::kEvent:
      keys = kEventKeys;
      break;
    case Obj::kSensor:
      keys = kSensorKeys;
      break;
    case Obj::kK8s:
      keys = kK8sKeys;
      break;
    case Obj::kProcess:
      keys = kProcessKeys;
      break;
    case Obj::kAncestor:
      keys = kAncestorKeys;
      break;
    case Obj::kFile:
      keys = kFileKeys;
      break;
    case Obj::kConnection:
      keys = kConnectionKeys;
      break;
    case Obj::kDetection:
      keys = kDetectionKeys;
      break;
  }
  // Senders write the keys in the schema's order, so the search starts after the last one.
  const size_t start = *hint < keys.size() ? *hint : 0U;
  for (size_t pass = 0; pass < 2; ++pass) {
    const size_t from = pass == 0 ? start : 0U;
    const size_t to = pass == 0 ? keys.size() : start;
    for (size_t i = from; i < to; ++i) {
      if (kSpecs[keys[i]].key == key) {
        *hint = static_cast<uint8_t>(i + 1);
        return keys[i];
      }
    }
  }
  return kUnknown;
}

Shape ShapeOf(Slot s) { return s < kUnknown ? kSpecs[s].shape : Shape::kIgnored; }
Obj ObjOf(Slot s) { return kSpecs[s].opens; }
std::string_view PathOf(Slot s) { return kSpecs[s].path; }
std::string_view KeyOf(Slot s) { return kSpecs[s].key; }
Slot LastOf(Slot s) { return kSpecs[s].last; }

void SlotErrors::Add(Slot s, std::string message) { errors_.emplace_back(s, std::move(message)); }

void SlotErrors::Clear(Slot first, Slot last) {
  std::erase_if(errors_, [&](const auto& e) { return e.first >= first && e.first <= last; });
}

const std::pair<Slot, std::string>* SlotErrors::Lowest() const {
  const std::pair<Slot, std::string>* low = nullptr;
  for (const auto& e : errors_) {
    if (low == nullptr || e.first < low->first) low = &e;
  }
  return low;
}

void EventFill::Begin(Event* e) {
  e_ = e;
  errors_.Reset();
  schema_.clear();
  time_.clear();
  priority_ = "Warning";
  seq_ = 0;
  present_ = 0;
}

void EventFill::Reset(Slot s, AncestorRef* anc) {
  Event& e = *e_;
  present_ &= ~Bit(s);
  switch (s) {
    case kSchema:
      schema_.clear();
      break;
    case kSeq:
      seq_ = 0;
      break;
    case kTime:
      time_.clear();
      break;
    case kPriority:
      priority_ = "Warning";
      break;
    case kTags:
      e.tags.clear();
      break;
    case kSource:
      e.source = "sandwatch";
      break;
    case kSensor:
      e.sensor = {};
      break;
    case kK8s:
      e.pod.clear(), e.ns.clear();
      break;
    case kProcess:
      e.process.reset();
      break;
    case kProcessPid:
      e.process->pid = 0;
      break;
    case kProcessPpid:
      e.process->ppid = 0;
      break;
    case kProcessStartTime:
      e.process->start_time_ns = 0;
      break;
    case kProcessCmdline:
      e.process->cmdline.clear();
      break;
    case kProcessUid:
      e.process->uid.reset();
      break;
    case kParent:
      e.parent.reset();
      break;
    case kAncestorPid:
      anc->pid = 0;
      break;
    case kAncestorCmdline:
      anc->cmdline.clear();
      break;
    case kAncestors:
      e.ancestors.clear();
      break;
    case kFile:
      e.file_path.reset();
      break;
    case kConnection:
      e.connection.reset();
      break;
    case kDetection:
      e.detection.reset();
      break;
    case kDetectionLag:
      e.detection->lag_ms.reset();
      break;
    case kFields:
      e.fields.clear();
      break;
    default:
      if (std::string* str = StringTarget(s, anc)) str->clear();
      break;
  }
}

std::string* EventFill::StringTarget(Slot s, AncestorRef* anc) {
  Event& e = *e_;
  switch (s) {
    case kSchema:
      return &schema_;
    case kId:
      return &e.id;
    case kTime:
      return &time_;
    case kRule:
      return &e.rule;
    case kPriority:
      return &priority_;
    case kOutput:
      return &e.output;
    case kSource:
      return &e.source;
    case kSensorId:
      return &e.sensor.id;
    case kSensorMode:
      return &e.sensor.mode;
    case kSensorCapture:
      return &e.sensor.capture;
    case kSensorVersion:
      return &e.sensor.version;
    case kK8sPod:
      return &e.pod;
    case kK8sNamespace:
      return &e.ns;
    case kHostname:
      return &e.hostname;
    case kProcessName:
      return &e.process->name;
    case kProcessExe:
      return &e.process->exe;
    case kProcessCwd:
      return &e.process->cwd;
    case kAncestorName:
      return &anc->name;
    case kFilePath:
      return &*e.file_path;
    case kConnectionProto:
      return &e.connection->proto;
    case kConnectionLocal:
      return &e.connection->local;
    case kConnectionRemote:
      return &e.connection->remote;
    case kDetectionMethod:
      return &e.detection->method;
    default:
      return nullptr;
  }
}

std::vector<std::string>* EventFill::ArrayTarget(Slot s, AncestorRef* anc) {
  if (s == kTags) return &e_->tags;
  if (s == kProcessCmdline) return &e_->process->cmdline;
  return &anc->cmdline;
}

void EventFill::SetInt(Slot s, int64_t v, AncestorRef* anc) {
  switch (s) {
    case kSeq:
      seq_ = v;
      break;
    case kProcessPid:
      e_->process->pid = static_cast<int>(v);
      break;
    case kProcessPpid:
      e_->process->ppid = static_cast<int>(v);
      break;
    case kProcessStartTime:
      e_->process->start_time_ns = static_cast<uint64_t>(v);
      break;
    case kProcessUid:
      e_->process->uid = v;
      break;
    default:
      anc->pid = static_cast<int>(v);
      break;
  }
}

void EventFill::SetDouble(Slot /*s*/, double v) { e_->detection->lag_ms = v; }

void EventFill::MarkPresent(Slot s) { present_ |= Bit(s); }

void EventFill::OpenObject(Slot s) {
  switch (s) {
    case kProcess:
      e_->process.emplace();
      break;
    case kParent:
      e_->parent.emplace();
      break;
    case kFile:
      e_->file_path.emplace();
      break;
    case kConnection:
      e_->connection.emplace();
      break;
    case kDetection:
      e_->detection.emplace();
      break;
    default:
      break;  // sensor and k8s fill fields that always exist
  }
}

Status EventFill::Finish() {
  const auto* low = errors_.Lowest();
  const Slot limit = low != nullptr ? low->first : kUnknown;
  if (kSchema < limit && !schema_.empty() && schema_ != kEventSchema) {
    return MakeError("schema: expected \"sandwatch.event/v1\"");
  }
  if (kId < limit) {
    if ((present_ & Bit(kId)) == 0) return MakeError("id: required field is missing");
    if (e_->id.empty() || e_->id.size() > 128) return MakeError("id: must be 1 to 128 characters");
  }
  if (kSeq < limit && seq_ < 0) return MakeError("seq: must not be negative");
  e_->seq = static_cast<uint64_t>(seq_);
  if (kTime < limit) {
    if ((present_ & Bit(kTime)) == 0) return MakeError("time: required field is missing");
    auto parsed = ParseRfc3339(time_);
    if (!parsed.ok()) return MakeError("time: " + parsed.error().message);
    e_->time_ns = *parsed;
  }
  if (kRule < limit) {
    if ((present_ & Bit(kRule)) == 0) return MakeError("rule: required field is missing");
    if (e_->rule.empty()) return MakeError("rule: must not be empty");
  }
  if (kPriority < limit) {
    auto p = PriorityOf(priority_);
    if (!p) return MakeError("priority: not one of Falco's priority names");
    e_->priority = *p;
  }
  if (low != nullptr) return MakeError(low->second);
  return CheckStorable(*e_);
}

}  // namespace sandwatch::receiver::stream
