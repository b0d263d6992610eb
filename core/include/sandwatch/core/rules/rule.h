// Rules: the small, Falco-like detection language of the sensor.
//
// A rule is a name, a Falco priority, MITRE tags, an output template and
// conditions. Conditions are grouped in blocks: every condition in a block must
// hold (AND). `when` is a list of alternative blocks (OR): the rule matches when
// any block holds. `unless` is also a list of blocks: the rule is suppressed when
// any of them holds. The YAML form is documented in docs/rules.md.
//
// Plain data. Regexes are compiled once when the rules are loaded.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/result.h"

namespace sandwatch::rules {

// An IPv4 or IPv6 network. IPv4 is stored as an IPv4-mapped IPv6 address, so
// "127.0.0.0/8" also covers "::ffff:127.0.0.1".
struct Cidr {
  std::array<uint8_t, 16> addr{};
  int prefix = 0;  // in bits of the 128-bit form
  std::string text;
};

// "10.0.0.0/8", "::1/128", "192.0.2.7" (a host). Error names the bad text.
Result<Cidr> ParseCidr(std::string_view text);
// Parses "1.2.3.4", "::1", "[::1]" into the 16-byte form; false if not an address.
bool ParseIp(std::string_view text, std::array<uint8_t, 16>* out);
bool CidrContains(const Cidr& net, const std::array<uint8_t, 16>& ip);

struct CompiledRegex {
  std::string source;  // as written, including a leading "(?i)" when given
  std::regex re;
};

// One block of conditions; every set condition must hold. Lists are
// alternatives: one element matching is enough. Names and paths are fnmatch(3)
// globs ('*' also crosses '/').
struct Conditions {
  // comm, basename(exe) or basename(argv[0]) matches one of these globs.
  std::vector<std::string> proc_name;
  // The full exe path matches one of these globs.
  std::vector<std::string> exe;
  // One of these regexes matches the cmdline joined with single spaces.
  std::vector<CompiledRegex> cmdline;
  // One of argv[1..] matches one of these globs exactly (e.g. "-e", "--exec*").
  std::vector<std::string> args;
  // The parent's name matches one of these globs.
  std::vector<std::string> parent_name;
  // Any ancestor's name (parent up to the depth limit) matches one of these globs.
  std::vector<std::string> ancestor_name;
  // An open file descriptor's path, or the path a capture source reported the
  // process opening (fanotify), matches one of these globs.
  std::vector<std::string> file_open;
  // true: the executable was not in the start-up baseline (deleted and memfd
  // executables count as not in it). false: it was.
  std::optional<bool> exe_new;
  // true: stdin, stdout or stderr is an inet socket, or a pipe whose other end is
  // held by another process that has an inet connection (ncat --exec relays).
  std::optional<bool> stdio_network;
  // Set: the process holds an outbound inet connection whose remote address is
  // outside every listed network. An empty list means "any remote".
  std::optional<std::vector<Cidr>> remote_not_in;
  // true: the process's name is in EXPECTED_PROCESSES; false: it is not.
  std::optional<bool> expected;
  // true: the parent is outside the watched pid namespace (ppid 0), as for a
  // `kubectl exec` shell whose parent is the container runtime.
  std::optional<bool> parent_outside;
  // true: the uid is 0.
  std::optional<bool> root;
  // comm, basename(exe) and basename(argv[0]) all match none of these globs.
  std::vector<std::string> not_proc_name;
  // The script an interpreter was started on (its first operand after the options,
  // resolved against the cwd; none with -c/-e/-m) matches one of these globs. A `#!`
  // script run directly shows up the same way: the kernel makes it the first operand.
  std::vector<std::string> script_in;
  // true: stdin is an inet socket, or a pipe whose other end a process with an inet
  // connection holds (the shell reads its commands from the network).
  std::optional<bool> stdin_network;
  // Not a condition: a block marked `confidence: low` (it infers the behaviour from
  // the command line rather than observing it) makes its matches carry that mark.
  bool low_confidence = false;

  bool Empty() const;
};

struct Rule {
  std::string name;
  std::string description;
  Priority priority = Priority::kWarning;
  std::vector<std::string> tags;
  std::string output;  // template with %field references, see template.h
  bool enabled = true;
  std::vector<Conditions> when;    // alternatives (OR); at least one block
  std::vector<Conditions> unless;  // any holding suppresses the rule
};

struct RuleSet {
  std::vector<Rule> rules;
  std::string source;  // file path, or "built-in"
  size_t EnabledCount() const;
};

}  // namespace sandwatch::rules
