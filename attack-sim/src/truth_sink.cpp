#include "sandwatch/attack_sim/truth_sink.h"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace sandwatch::attacksim {

Result<std::unique_ptr<TruthSink>> TruthSink::Open(const std::string& path) {
  if (path.empty() || path == "-") return std::unique_ptr<TruthSink>(new TruthSink(stdout, false));
  FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr) {
    return MakeError("--ground-truth: cannot open " + path + ": " + std::strerror(errno), errno);
  }
  return std::unique_ptr<TruthSink>(new TruthSink(f, true));
}

TruthSink::~TruthSink() {
  if (owned_) std::fclose(f_);
}

bool TruthSink::Write(const GroundTruthStep& step) {
  // Output can carry attacker-controlled bytes (listener); replace invalid UTF-8.
  std::string line =
      GroundTruthToJson(step).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  bool ok = std::fwrite(line.data(), 1, line.size(), f_) == line.size();
  return std::fflush(f_) == 0 && ok;
}

}  // namespace sandwatch::attacksim
