// The blog chain's steps and the variants of each step: which tool runs, in which form,
// and which signals it should raise. Pure data plus PATH look-ups.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/attack_sim/options.h"
#include "sandwatch/core/result.h"

namespace sandwatch::attacksim {

// shell, shadow, aws-creds, package-install, new-binary, reverse-shell (chain order).
const std::vector<std::string>& ChainSteps();
std::string StepDescription(std::string_view step);
bool IsChainStep(std::string_view step);

struct VariantInfo {
  std::string step;
  std::string name;
  std::string tool;         // executable that must exist on PATH ("" = always available)
  std::string description;  // one line, with the real command
};
const std::vector<VariantInfo>& Variants();
const VariantInfo* FindVariant(std::string_view step, std::string_view name);

// Default variant for a step: depends on the speed (blog speed replays the blog's second
// run: tail -f and a find loop) and on the package mode (staged -> dpkg).
std::string DefaultVariant(std::string_view step, std::string_view speed, PackageMode mode);

// Empty when the variant can run here, otherwise the reason it is skipped.
std::string UnavailableReason(const VariantInfo& v);

// What one step will run. Built by BuildCommand, executed by a Launcher.
struct StepCommand {
  std::vector<std::string> argv;
  std::vector<std::string> signals;  // expected signals, primary first
  bool held = false;                 // killed at hold_ms; otherwise runs until it exits on its own
  bool stdin_hold = false;           // stdin is a pipe nobody writes to (keeps cat -, head - alive)
  bool stdout_tty = false;           // stdout stays on the shell's terminal (less); else /dev/null
  double timeout_ms = 0;             // safety cap for steps that run on their own (0 = none)
  std::string note;
};

struct CommandContext {
  std::string speed;
  double hold_ms = 0;
  bool have_tty = false;  // the shell has a pty
  std::string target_host;
  int target_port = 0;
  PackageMode package_mode = PackageMode::kStaged;
  std::string package = "ncat";
  std::string deb;
  std::string dropped_path;              // new-binary: the file written for this step
  std::string unix_socket_path;          // new-binary ncat held form
  bool package_installed_by_us = false;  // this run installed ncat (it was not there before)
};

// argv and flags for (step, variant). Error for unknown combinations.
Result<StepCommand> BuildCommand(std::string_view step, std::string_view variant,
                                 const CommandContext& ctx);

// "'it'\\''s'" style quoting for one argument, for the bash command line.
std::string ShellQuote(std::string_view arg);

}  // namespace sandwatch::attacksim
