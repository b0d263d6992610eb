#include "sandwatch/sensor/dedup.h"

#include <cctype>

namespace sandwatch::sensor {

std::string NormaliseCmdline(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size() && out.size() < 512; ++i) {
    if (i) out += ' ';
    bool in_digits = false;
    for (char c : argv[i]) {
      if (std::isdigit(static_cast<unsigned char>(c))) {
        if (!in_digits) out += '#';
        in_digits = true;
      } else {
        out += c;
        in_digits = false;
      }
    }
  }
  if (out.size() > 512) out.resize(512);
  return out;
}

std::string DedupKey(std::string_view rule, std::string_view exe,
                     const std::vector<std::string>& argv, std::string_view parent) {
  std::string k;
  k.reserve(128);
  k.append(rule).append(1, '\x1f').append(exe).append(1, '\x1f');
  k.append(NormaliseCmdline(argv)).append(1, '\x1f').append(parent);
  return k;
}

Deduper::Verdict Deduper::Check(const std::string& key, int64_t now_mono_ns) {
  Verdict v;
  if (window_ns_ <= 0) return v;
  auto it = map_.find(key);
  if (it != map_.end()) {
    Entry& e = it->second;
    lru_.splice(lru_.begin(), lru_, e.lru);
    if (now_mono_ns - e.last_emit_ns < window_ns_) {
      ++e.suppressed;
      ++suppressed_total_;
      v.emit = false;
      return v;
    }
    v.suppressed_before = e.suppressed;
    e.suppressed = 0;
    e.last_emit_ns = now_mono_ns;
    return v;
  }
  if (map_.size() >= max_keys_ && !lru_.empty()) {
    map_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(key);
  map_.emplace(key, Entry{now_mono_ns, 0, lru_.begin()});
  return v;
}

}  // namespace sandwatch::sensor
