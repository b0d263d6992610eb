#include "sandwatch/sensor/state_keeper.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "sandwatch/sensor/state_file.h"

namespace sandwatch::sensor {
namespace {

constexpr const char* kStateFile = "state.v1";
constexpr const char* kSeqFile = "seq.v1";
constexpr const char* kBaselineFile = "baseline.v1";
constexpr size_t kMaxStateBytes = 8u << 20;
constexpr size_t kMaxBaselineBytes = 256u << 20;

int64_t NsPerTick() {
  long hz = ::sysconf(_SC_CLK_TCK);
  return hz > 0 ? 1000000000 / hz : 10000000;
}

std::string ReadBootId(const std::string& proc_root) {
  std::ifstream in(proc_root + "/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::string Seconds(int64_t ns) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%.1f", static_cast<double>(ns) / 1e9);
  return buf.data();
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Baseline::Build drops trailing slashes ("/" is kept as "").
bool SameRoot(std::string a, std::string b) {
  while (!a.empty() && a.back() == '/') a.pop_back();
  while (!b.empty() && b.back() == '/') b.pop_back();
  return a == b;
}

void Append(std::string* list, const std::string& item) {
  if (!list->empty()) *list += "; ";
  *list += item;
}

}  // namespace

StateOptions StateOptionsFrom(const SensorConfig& config) {
  StateOptions o;
  o.dir = config.state_dir.empty() ? config.spool_dir : config.state_dir;
  while (o.dir.size() > 1 && o.dir.back() == '/') o.dir.pop_back();
  if (!config.receiver_token.empty()) o.key = "sandwatch-state-v1:" + config.receiver_token;
  o.proc_root = config.proc_root;
  return o;
}

const char* StateKeeper::StartName(Start s) {
  switch (s) {
    case Start::kFirst:
      return "first";
    case Start::kRestart:
      return "restart";
    case Start::kRestartStateLost:
      return "restart_state_lost";
  }
  return "first";
}

Result<std::unique_ptr<StateKeeper>> StateKeeper::Open(StateOptions options, bool inspect_only) {
  std::unique_ptr<StateKeeper> k(new StateKeeper(std::move(options)));
  for (const char* c : {"state_saves", "state_save_errors", "found_after_restart"}) {
    k->counters_[c] = 0;
  }
  if (k->options_.dir.empty()) {
    k->why_ = "no STATE_DIR or SPOOL_DIR: nothing survives a restart";
    return k;
  }
  if (!inspect_only) {
    auto st = state::EnsureDir(k->options_.dir);
    if (!st.ok()) return MakeError("--state-dir: " + st.error().message, st.error().code);
    struct stat dst {};
    if (::stat(k->options_.dir.c_str(), &dst) == 0 && (dst.st_mode & 022) != 0) {
      SW_LOG(kWarn, "state",
             "state dir is writable by others: they can delete or replace the state (reported "
             "as restart_state_lost); use a subdirectory the sensor creates (mode 0700)",
             {"dir", k->options_.dir});
    }
  }
  k->enabled_ = true;
  k->Load(inspect_only);
  if (!inspect_only && k->start_ == Start::kRestartStateLost) {
    SW_LOG(kWarn, "state", "restart without trusted state", {"dir", k->options_.dir},
           {"why", k->why_});
  }
  return k;
}

StateKeeper::~StateKeeper() = default;

Result<std::string> StateKeeper::ReadSealed(const std::string& name, size_t max_bytes,
                                            bool inspect_only) {
  const std::string path = options_.dir + "/" + name;
  auto raw = state::ReadOwnFile(path, max_bytes);
  if (!raw.ok() && raw.error().code == ENOENT) return raw.error();
  remains_ = true;
  auto body = raw.ok() ? state::Unseal(*raw, options_.key) : Result<std::string>(raw.error());
  if (body.ok()) return body;
  std::string problem = name + " " + body.error().message;
  if (!inspect_only) {
    auto aside = state::SetAside(path);
    problem += aside.ok() ? " (set aside as " + aside->substr(aside->rfind('/') + 1) + ")"
                          : " (" + aside.error().message + ")";
  }
  Append(&problems_, problem);
  return MakeError(problem, EPERM);
}

void StateKeeper::Load(bool inspect_only) {
  boot_id_ = ReadBootId(options_.proc_root);
  const int64_t now_boot = BootTimeNs();
  auto reject = [&](const std::string& name, const std::string& why) {
    std::string problem = name + " " + why;
    if (!inspect_only) {
      auto aside = state::SetAside(options_.dir + "/" + name);
      if (aside.ok()) problem += " (set aside as " + aside->substr(aside->rfind('/') + 1) + ")";
    }
    Append(&problems_, problem);
  };
  if (auto body = ReadSealed(kSeqFile, 4096, inspect_only); body.ok()) {
    auto seq = state::DecodeSeq(*body);
    if (!seq.ok()) {
      reject(kSeqFile, seq.error().message);
    } else if (seq->boot_id != boot_id_) {
      reject(kSeqFile, "is from another boot");
    } else if (seq->boot_ns > now_boot) {
      reject(kSeqFile, "is dated in the future");
    } else {
      saved_seq_ = std::move(seq.value());
    }
  }
  if (auto body = ReadSealed(kStateFile, kMaxStateBytes, inspect_only); body.ok()) {
    auto st = state::DecodeState(*body);
    const int64_t tick = NsPerTick();
    std::string bad;
    if (!st.ok()) {
      bad = st.error().message;
    } else if (st->boot_id != boot_id_) {
      bad = "is from another boot";
    } else if (st->saved_boot_ns > now_boot || st->heartbeat_boot_ns > now_boot) {
      bad = "is dated in the future";
    } else {
      for (const auto& p : st->processes) {
        // A process cannot have been evaluated before it started.
        if (static_cast<int64_t>(p.start_ticks) * tick > st->saved_boot_ns + tick) {
          bad = "lists pid " + std::to_string(p.pid) + " as known before it started";
          break;
        }
      }
    }
    if (bad.empty()) {
      saved_ = std::move(st.value());
    } else {
      reject(kStateFile, bad);
    }
  }
  if (!remains_) remains_ = Exists(options_.dir + "/" + kBaselineFile);
  if (saved_) {
    for (const auto& p : saved_->processes) known_[p.pid] = Known{p.start_ticks, p.exe_hash};
    int64_t last_alive = std::max(saved_->saved_boot_ns, saved_->heartbeat_boot_ns);
    if (saved_seq_) last_alive = std::max(last_alive, saved_seq_->boot_ns);
    gap_ns_ = now_boot - last_alive;
    start_ = Start::kRestart;
    why_ = "state in " + options_.dir + " from " + FormatRfc3339(saved_->saved_wall_ns) + ": " +
           std::to_string(known_.size()) + " processes known; down for about " + Seconds(gap_ns_) +
           " s";
    if (!problems_.empty()) why_ += "; " + problems_;
  } else if (remains_) {
    start_ = Start::kRestartStateLost;
    why_ = "an earlier run left files in " + options_.dir + " but no trusted state: " +
           (problems_.empty() ? std::string(kStateFile) + " is missing" : problems_) +
           "; processes running now are taken as the start-up state";
  } else {
    start_ = Start::kFirst;
    why_ = "no state in " + options_.dir;
  }
}

Result<procfs::Baseline> StateKeeper::LoadOrBuildBaseline(
    const std::string& root, const std::function<Result<procfs::Baseline>()>& build,
    std::string* how) {
  std::string why_built = "first start";
  if (enabled_) {
    auto body = ReadSealed(kBaselineFile, kMaxBaselineBytes, false);
    if (body.ok()) {
      auto b = state::DecodeBaseline(*body);
      std::string bad;
      if (!b.ok()) {
        bad = b.error().message;
      } else if (b->boot_id != boot_id_) {
        bad = "is from another boot";
      } else if (b->built_boot_ns > BootTimeNs()) {
        bad = "is dated in the future";
      } else {
        for (const auto& [path, st] : b->baseline.entries()) {
          // A file cannot be in a baseline taken before it was last written.
          if (st.mtime_ns > b->built_wall_ns + 5'000'000'000) {
            bad = "lists " + path + ", modified after the baseline was taken";
            break;
          }
        }
      }
      if (bad.empty() && SameRoot(b->root, root)) {
        *how = "restored (taken " + FormatRfc3339(b->built_wall_ns) + ")";
        return std::move(b->baseline);
      }
      if (!bad.empty()) {
        auto aside = state::SetAside(options_.dir + "/" + kBaselineFile);
        why_built = std::string(kBaselineFile) + " " + bad +
                    (aside.ok() ? " (set aside)" : " (" + aside.error().message + ")");
        std::lock_guard<std::mutex> lock(mu_);
        Append(&problems_, why_built);
      } else {
        why_built =
            "the saved baseline is for " + (b->root.empty() ? "/" : b->root) + ", not " + root;
      }
    } else if (body.error().code != ENOENT) {
      why_built = body.error().message;
    } else if (start_ != Start::kFirst) {
      why_built = std::string(kBaselineFile) + " is missing";
    }
  }
  auto built = build();
  if (!built.ok()) return built;
  *how = "built (" + why_built + ")";
  if (enabled_) {
    state::SavedBaseline sb;
    sb.boot_id = boot_id_;
    sb.built_boot_ns = BootTimeNs();
    sb.built_wall_ns = options_.clock->WallNs();
    sb.baseline = built.value();
    auto st = state::WriteFileAtomic(options_.dir, kBaselineFile,
                                     state::Seal(state::EncodeBaseline(sb), options_.key));
    if (!st.ok()) {
      SW_LOG(kWarn, "state", "cannot save the baseline", {"error", st.error().message});
    }
  }
  return built;
}

std::string StateKeeper::ResolveSensorId(const std::string& configured, const std::string& fresh) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string saved_id = saved_seq_ ? saved_seq_->sensor_id : "";
  sensor_id_ = configured.empty() ? (saved_id.empty() ? fresh : saved_id) : configured;
  continue_seq_ = 0;
  if (!saved_id.empty() && saved_id == sensor_id_) {
    continue_seq_ = saved_seq_->last_seq;
    if (saved_ && saved_->sensor_id == sensor_id_) {
      continue_seq_ = std::max(continue_seq_, saved_->last_seq);
    }
  } else if (!saved_id.empty()) {
    why_ += "; SENSOR_ID differs from the saved " + saved_id + ": seq starts at 1";
  } else if (start_ == Start::kRestart) {
    why_ += "; " + std::string(kSeqFile) + " is gone: new sensor id, seq starts at 1";
  }
  last_seq_ = continue_seq_;
  if (enabled_) WriteSeqLocked(continue_seq_);
  return sensor_id_;
}

void StateKeeper::AddCounters(std::map<std::string, int64_t>* counters) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [k, v] : counters_) (*counters)[k] += v;
  (*counters)["restarts"] = saved_ ? static_cast<int64_t>(saved_->restarts) + 1 : 0;
  (*counters)["state_lost"] = start_ == Start::kRestartStateLost ? 1 : 0;
  (*counters)["restart_gap_ms"] = gap_ns_ / 1000000;
  (*counters)["processes_known"] = static_cast<int64_t>(current_.size());
}

}  // namespace sandwatch::sensor
