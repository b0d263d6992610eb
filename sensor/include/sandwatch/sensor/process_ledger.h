// ProcessLedger: what the pipeline tells the sensor's restart state about processes.
// The pipeline calls it from its worker thread (and from the start-up scan before the
// worker starts); implementations synchronise with their other callers themselves.
#pragma once

#include "sandwatch/core/process.h"

namespace sandwatch::sensor {

class ProcessLedger {
 public:
  virtual ~ProcessLedger() = default;
  // At the first scan: true when this running process must be evaluated even though
  // processes present at start-up normally are not (a restarted sensor evaluates what
  // it had not seen before it went down). Called before Seen() for the same process.
  virtual bool EvaluateAtStartup(const ProcessInfo& process) = 0;
  // The process was evaluated, or accepted as part of the start-up state.
  virtual void Seen(const ProcessInfo& process) = 0;
  virtual void Exited(const ProcessKey& key) = 0;
  // After every scan (the ledger saves itself at a bounded rate).
  virtual void ScanDone() = 0;
};

}  // namespace sandwatch::sensor
