// StateKeeper, the running part: the set of known processes, bounded-rate saves of
// state.v1, seq.v1 written ahead of every event, and the output wrapper that tags
// events of processes found after a restart.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "sandwatch/sensor/sensor.h"
#include "sandwatch/sensor/state_file.h"
#include "sandwatch/sensor/state_keeper.h"

namespace sandwatch::sensor {
namespace {

// FNV-1a over the executable's path, inode and the process name: a process that
// exec'd (or renamed itself) while the sensor was down no longer matches.
uint32_t ExeHash(const ProcessInfo& p) {
  uint32_t h = 2166136261u;
  auto mix = [&](std::string_view s) {
    for (char c : s) {
      h ^= static_cast<uint8_t>(c);
      h *= 16777619u;
    }
    h ^= 0xff;
    h *= 16777619u;
  };
  mix(p.exe);
  mix(std::to_string(p.exe_inode));
  mix(p.name);
  return h;
}

class TaggingOutput : public Output {
 public:
  TaggingOutput(std::unique_ptr<Output> inner, StateKeeper* keeper)
      : inner_(std::move(inner)), keeper_(keeper) {}
  std::string_view Name() const override { return inner_->Name(); }
  void Emit(const Event& e) override {
    keeper_->RecordSeq(e.seq);  // before the event leaves: a restart never reuses it
    Event tagged = e;
    keeper_->TagEvent(&tagged);
    inner_->Emit(tagged);
  }
  void EmitHeartbeat(const Heartbeat& h) override { inner_->EmitHeartbeat(h); }
  void Close(int64_t deadline_mono_ns) override { inner_->Close(deadline_mono_ns); }
  void AddCounters(std::map<std::string, int64_t>* counters) const override {
    inner_->AddCounters(counters);
  }

 private:
  std::unique_ptr<Output> inner_;
  StateKeeper* keeper_;
};

}  // namespace

std::unique_ptr<Output> StateKeeper::WrapOutput(std::unique_ptr<Output> inner) {
  if (!enabled_) return inner;
  return std::make_unique<TaggingOutput>(std::move(inner), this);
}

bool StateKeeper::EvaluateAtStartup(const ProcessInfo& process) {
  std::lock_guard<std::mutex> lock(mu_);
  if (start_ != Start::kRestart || process.kernel_thread || process.key.pid == ::getpid()) {
    return false;
  }
  auto it = known_.find(process.key.pid);
  if (it != known_.end() && it->second.start_ticks == process.key.start_ticks &&
      it->second.exe_hash == ExeHash(process)) {
    return false;
  }
  found_.emplace(process.key.pid, process.start_time_ns);
  ++counters_["found_after_restart"];
  return true;
}

void StateKeeper::Seen(const ProcessInfo& process) {
  std::lock_guard<std::mutex> lock(mu_);
  Known k{process.key.start_ticks, ExeHash(process)};
  auto [it, added] = current_.try_emplace(process.key.pid, k);
  if (!added) {
    if (it->second.start_ticks == k.start_ticks && it->second.exe_hash == k.exe_hash) return;
    it->second = k;
  }
  dirty_ = true;
}

void StateKeeper::Exited(const ProcessKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = current_.find(key.pid);
  if (it != current_.end() && it->second.start_ticks == key.start_ticks) {
    current_.erase(it);
    dirty_ = true;
  }
}

void StateKeeper::ScanDone() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!enabled_) return;
  int64_t now = BootTimeNs();
  // The start-up state is saved at once; later changes at a bounded rate.
  if (!first_scan_saved_ || (dirty_ && now - last_save_boot_ns_ >= options_.min_save_interval_ns)) {
    if (!first_scan_saved_) known_.clear();  // only the first scan asks about it
    first_scan_saved_ = true;
    SaveLocked(now);
  }
}

void StateKeeper::NoteHeartbeat(uint64_t last_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!enabled_) return;
  int64_t now = BootTimeNs();
  heartbeat_boot_ns_ = now;
  last_seq_ = std::max(last_seq_, last_seq);
  // The heartbeat time is what a restart measures its gap from: keep it fresh, within
  // the bound (at most two saves per min_save_interval).
  if (first_scan_saved_ && now - last_save_boot_ns_ >= options_.min_save_interval_ns / 2) {
    SaveLocked(now);
  }
}

void StateKeeper::SaveNow(uint64_t last_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!enabled_ || !first_scan_saved_) return;
  last_seq_ = std::max(last_seq_, last_seq);
  SaveLocked(BootTimeNs());
}

void StateKeeper::SaveLocked(int64_t now_boot_ns) {
  state::SavedState s;
  s.sensor_id = sensor_id_;
  s.boot_id = boot_id_;
  s.saved_boot_ns = now_boot_ns;
  s.saved_wall_ns = options_.clock->WallNs();
  s.heartbeat_boot_ns = heartbeat_boot_ns_;
  s.last_seq = last_seq_;
  s.restarts = saved_ ? saved_->restarts + 1 : 0;
  s.processes.reserve(std::min(current_.size(), state::kMaxKnownProcesses));
  for (const auto& [pid, k] : current_) {
    if (s.processes.size() >= state::kMaxKnownProcesses) break;  // the rest: re-evaluated
    s.processes.push_back({pid, k.start_ticks, k.exe_hash});
  }
  std::sort(s.processes.begin(), s.processes.end(),
            [](const auto& a, const auto& b) { return a.pid < b.pid; });
  std::string text = state::Seal(state::EncodeState(s), options_.key);
  auto st = state::WriteFileAtomic(options_.dir, "state.v1", text);
  last_save_boot_ns_ = now_boot_ns;
  if (!st.ok()) {
    if (counters_["state_save_errors"]++ % 100 == 0) {
      SW_LOG(kWarn, "state", "cannot save state", {"error", st.error().message});
    }
    return;
  }
  dirty_ = false;
  ++counters_["state_saves"];
  counters_["state_bytes"] = static_cast<int64_t>(text.size());
}

void StateKeeper::WriteSeqLocked(uint64_t seq) {
  state::SavedSeq s{sensor_id_, boot_id_, seq, BootTimeNs()};
  // Once per event, so without fsync: it must survive the sensor being killed, which
  // the page cache does; a kernel crash means a new boot, whose sensor refuses it anyway.
  auto st =
      state::WriteFileAtomic(options_.dir, "seq.v1", state::Seal(state::EncodeSeq(s), options_.key),
                             /*sync=*/false);
  if (!st.ok() && counters_["state_save_errors"]++ % 100 == 0) {
    SW_LOG(kWarn, "state", "cannot save seq", {"error", st.error().message});
  }
}

void StateKeeper::RecordSeq(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  last_seq_ = std::max(last_seq_, seq);
  WriteSeqLocked(seq);
}

void StateKeeper::TagEvent(Event* e) const {
  if (!e->process) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (found_.count({e->process->pid, e->process->start_time_ns}) == 0) return;
  std::array<char, 32> gap{};
  std::snprintf(gap.data(), gap.size(), "%.1f", static_cast<double>(gap_ns_) / 1e9);
  e->fields["found_after_restart"] = "true";
  e->fields["gap_s"] = gap.data();
}

std::string PrintConfigJson(const SensorConfig& config) {
  auto j = nlohmann::json::parse(DescribeConfig(config));
  auto keeper = StateKeeper::Open(StateOptionsFrom(config), /*inspect_only=*/true);
  if (keeper.ok()) {
    j["state"] = {{"dir", (*keeper)->dir().empty() ? "none" : (*keeper)->dir()},
                  {"start", StateKeeper::StartName((*keeper)->start())},
                  {"why", (*keeper)->why()}};
  }
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sandwatch::sensor
