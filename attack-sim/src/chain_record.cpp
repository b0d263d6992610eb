#include "sandwatch/attack_sim/chain_record.h"

#include <array>
#include <cstdio>

#include "sandwatch/core/log.h"

namespace sandwatch::attacksim {

std::string FormatMs(double ms) {
  std::array<char, 32> buf;
  std::snprintf(buf.data(), buf.size(), "%.3f", ms);
  return buf.data();
}

void AddNote(std::string* note, const std::string& more) {
  if (more.empty()) return;
  if (!note->empty()) *note += "; ";
  *note += more;
}

GroundTruthStep ChainRecorder::Base(int repeat, const std::string& step,
                                    const std::string& variant) const {
  GroundTruthStep g;
  g.run_id = cfg_.run_id;
  g.repeat = repeat;
  g.step = step;
  g.variant = variant;
  g.speed = cfg_.speed;
  return g;
}

void ChainRecorder::MarkSkippedNow(GroundTruthStep* g, int exit_code) const {
  g->status = "skipped";
  g->exit_code = exit_code;
  g->start_wall_ns = g->end_wall_ns = clock_.WallNs();
  g->start_mono_ns = g->end_mono_ns = clock_.MonoNs();
}

void ChainRecorder::Fill(GroundTruthStep* g, const LaunchResult& r) {
  g->pid = r.pid;
  g->ppid = r.ppid;
  g->start_wall_ns = r.start_wall_ns;
  g->end_wall_ns = r.end_wall_ns;
  g->start_mono_ns = r.start_mono_ns;
  g->end_mono_ns = r.end_mono_ns;
  g->hold_ms = static_cast<double>(r.end_mono_ns - r.start_mono_ns) / 1e6;
  g->exit_code = r.exit_code;
  if (r.killed_at_hold) AddNote(&g->note, "ended: killed after hold");
  if (r.killed_at_timeout) AddNote(&g->note, "ended: killed at safety timeout");
  if (r.interrupted) AddNote(&g->note, "ended: attack-sim was interrupted");
  if (!r.killed_at_hold && !r.killed_at_timeout && !r.interrupted) {
    AddNote(&g->note, "ended: exited on its own");
  }
}

void ChainRecorder::Emit(const GroundTruthStep& g) {
  if (!sink_->Write(g)) failed_ = true;
  (g.status == "ran" ? ran_ : skipped_)++;
  SW_LOG(kInfo, "attack-sim", "step", {"repeat", std::to_string(g.repeat)}, {"step", g.step},
         {"variant", g.variant}, {"status", g.status}, {"pid", std::to_string(g.pid)},
         {"hold_ms", FormatMs(g.requested_hold_ms)}, {"achieved_ms", FormatMs(g.hold_ms)},
         {"exit", std::to_string(g.exit_code)}, {"note", g.note});
}

}  // namespace sandwatch::attacksim
