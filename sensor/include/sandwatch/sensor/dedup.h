// Deduplication: one event per distinct behaviour, then counted suppressions.
//
// The key is rule + exe + normalised cmdline (digit runs become '#') + parent name,
// so the blog's `while true; do find ...; sleep 1; done` loop gives one event and
// then a growing suppressed count instead of an event a second. After `window_ns`
// the same behaviour is reported again, carrying the number suppressed meanwhile.
// Bounded: the least recently seen keys are forgotten beyond `max_keys`.
// Not thread-safe: owned by the pipeline thread.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sandwatch::sensor {

std::string NormaliseCmdline(const std::vector<std::string>& argv);
std::string DedupKey(std::string_view rule, std::string_view exe,
                     const std::vector<std::string>& argv, std::string_view parent);

class Deduper {
 public:
  Deduper(int64_t window_ns, size_t max_keys = 4096) : window_ns_(window_ns), max_keys_(max_keys) {}

  struct Verdict {
    bool emit = true;
    uint64_t suppressed_before = 0;  // suppressions since this key was last emitted
  };
  Verdict Check(const std::string& key, int64_t now_mono_ns);

  uint64_t suppressed_total() const { return suppressed_total_; }
  size_t size() const { return map_.size(); }

 private:
  struct Entry {
    int64_t last_emit_ns = 0;
    uint64_t suppressed = 0;
    std::list<std::string>::iterator lru;
  };
  int64_t window_ns_;
  size_t max_keys_;
  std::list<std::string> lru_;  // most recent at front
  std::unordered_map<std::string, Entry> map_;
  uint64_t suppressed_total_ = 0;
};

}  // namespace sandwatch::sensor
