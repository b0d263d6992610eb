// Noise: what each observer raised that was not an attack. Every event an observer
// reported inside a cell is attributed to exactly one of four outcomes:
//   attack      a ground-truth attack step's process (a true positive);
//   benign      a benign step's process (a false positive on a look-alike);
//   machinery   the harness's own machinery (sensor, receiver, runc, qemu, ...):
//               excluded from precision, only counted;
//   background  anything else (other activity on the machine, rules beyond the
//               chain): noise, counted per observer with (rule, exe) examples.
// Events of an observer that fall outside every cell's window are attributed too
// (cell "", outcome background or machinery), never dropped.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sandwatch::harness {

// attribution.jsonl names them attack | benign | machinery | background.
enum class Outcome { kAttack, kBenign, kMachinery, kBackground };

struct Attribution {
  std::string event_id;
  std::string cell;  // its id; "" when outside every cell's window
  std::string runtime;
  std::string observer;
  std::string rule;
  std::string signal;  // the rule as a sandwatch signal (Falco rules mapped; else the rule)
  std::string exe;     // the event's process: exe, else name
  Outcome outcome = Outcome::kBackground;
  std::string step;  // attack or benign step, when attributed to one
  int repeat = 0;    // its chain repetition
  int64_t step_start_wall_ns = 0;
  std::string reason;  // why this outcome (the match basis, the machinery seen, ...)
};

// One {runtime, observer, signal} (contract: summary.json "noise").
struct NoiseEntry {
  std::string runtime;
  std::string observer;
  std::string signal;
  int false_positives = 0;    // alerts on benign steps (one per step run and signal)
  int benign_steps = 0;       // benign steps that ran resembling this signal
  int background_events = 0;  // alerts outside every step (machinery excluded)
  double duration_s = 0;      // cell time this observer watched in this runtime
};

// One {runtime, observer} (contract: summary.json "precision").
struct PrecisionEntry {
  std::string runtime{};
  std::string observer{};
  int true_positives = 0;   // (attack step run, signal) pairs alerted on
  int false_positives = 0;  // benign false positives + background alerts
  int benign_false_positives = 0;
  int background_events = 0;
  int machinery_excluded = 0;
  std::optional<double> precision{};  // none when nothing was raised
  std::array<double, 2> ci95{0, 1};   // Wilson 95 % interval
  double duration_s = 0;
};

struct BackgroundExample {
  std::string runtime;
  std::string observer;
  std::string rule;
  std::string exe;
  int count = 0;
};

struct NoiseScore {
  std::vector<Attribution> attributions;  // every owned event, in event order
  std::vector<NoiseEntry> noise;
  std::vector<PrecisionEntry> precision;
  // The 20 most frequent background (rule, exe) pairs of each {runtime, observer}.
  std::vector<BackgroundExample> background_examples;
  int machinery_excluded = 0;
};

}  // namespace sandwatch::harness
