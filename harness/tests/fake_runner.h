// A CommandRunner for tests: records every command and answers from a script,
// so command sequences are checked without running anything. Not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sandwatch/harness/command_runner.h"

namespace sandwatch::harness::testing {

class FakeHandle : public ProcessHandle {
 public:
  explicit FakeHandle(int pid) : pid_(pid) {}
  int Pid() const override { return pid_; }
  bool Running() override { return running_; }
  Result<int> Wait(std::chrono::milliseconds) override {
    if (running_) return MakeError("still running");
    return 0;
  }
  int Stop(std::chrono::milliseconds) override {
    running_ = false;
    return 143;
  }

 private:
  int pid_;
  bool running_ = true;
};

class FakeRunner : public CommandRunner {
 public:
  // Answer for commands whose rendered form starts with `prefix` (longest prefix wins).
  void On(std::string prefix, CommandResult result) {
    answers_[std::move(prefix)] = std::move(result);
  }
  // Programs Which() finds (name -> path).
  void Provide(std::string name, std::string path) { paths_[std::move(name)] = std::move(path); }

  Result<CommandResult> Run(const CommandSpec& spec) override {
    calls.push_back(spec);
    std::string line = RenderCommand(spec.argv);
    const CommandResult* best = nullptr;
    size_t best_len = 0;
    for (const auto& [prefix, res] : answers_) {
      if (line.rfind(prefix, 0) == 0 && prefix.size() >= best_len) {
        best = &res;
        best_len = prefix.size();
      }
    }
    if (best != nullptr) return *best;
    CommandResult ok;
    ok.exit_code = 0;
    return ok;
  }
  Result<std::unique_ptr<ProcessHandle>> Start(const CommandSpec& spec) override {
    calls.push_back(spec);
    return std::unique_ptr<ProcessHandle>(new FakeHandle(1000 + static_cast<int>(calls.size())));
  }
  std::string Which(const std::string& name) override {
    auto it = paths_.find(name);
    return it == paths_.end() ? "" : it->second;
  }
  std::vector<std::string> Rendered() const {
    std::vector<std::string> out;
    for (const auto& c : calls) out.push_back(RenderCommand(c.argv));
    return out;
  }

  std::vector<CommandSpec> calls;

 private:
  std::map<std::string, CommandResult> answers_;
  std::map<std::string, std::string> paths_;
};

}  // namespace sandwatch::harness::testing
