// Where ground-truth lines go: a JSONL file (appended, flushed per line) or stdout.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "sandwatch/core/ground_truth.h"
#include "sandwatch/core/result.h"

namespace sandwatch::attacksim {

class TruthSink {
 public:
  // Empty path or "-" = stdout.
  static Result<std::unique_ptr<TruthSink>> Open(const std::string& path);
  ~TruthSink();
  TruthSink(const TruthSink&) = delete;
  TruthSink& operator=(const TruthSink&) = delete;
  // One JSON line, flushed. False on a write error.
  bool Write(const GroundTruthStep& step);

 private:
  explicit TruthSink(FILE* f, bool owned) : f_(f), owned_(owned) {}
  FILE* f_;
  bool owned_;
};

}  // namespace sandwatch::attacksim
