// The rule engine: evaluates a RuleSet against one enriched process.
//
// Pure apart from the RuleWorld callbacks, which answer questions that need
// more than the process itself (the start-up baseline, the other end of a pipe).
// Thread-safety: Evaluate is const and may be called from several threads when
// the RuleWorld is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/process.h"
#include "sandwatch/core/rules/rule.h"

namespace sandwatch::rules {

class RuleWorld {
 public:
  virtual ~RuleWorld() = default;
  // Whether the process's executable was present in the workload at start-up.
  virtual bool ExeInBaseline(const ProcessInfo& p) const = 0;
  // An inet connection held by a process other than `self_pid` that also holds
  // pipe `pipe_inode`; nullopt when there is none.
  virtual std::optional<SocketInfo> PipePeerConnection(uint64_t pipe_inode, int self_pid) const = 0;
  // An inet connection held by p's parent, asked when p's stdio is a local (unix)
  // socket: socat EXEC: and ssh-style relays hand the shell a socketpair, whose other
  // end cannot be looked up by inode. Default: none.
  virtual std::optional<SocketInfo> ParentConnection(const ProcessInfo& p) const {
    (void)p;
    return std::nullopt;
  }
};

// A RuleWorld that knows nothing: every exe is in the baseline, no pipe peers.
class EmptyWorld : public RuleWorld {
 public:
  bool ExeInBaseline(const ProcessInfo&) const override { return true; }
  std::optional<SocketInfo> PipePeerConnection(uint64_t, int) const override {
    return std::nullopt;
  }
};

struct RuleInput {
  const ProcessInfo* process = nullptr;
  // A path a capture source saw the process open (fanotify), if any.
  std::optional<std::string> observed_path;
};

struct Match {
  const Rule* rule = nullptr;
  std::optional<std::string> file_path;     // the path that satisfied file_open
  std::optional<ConnectionRef> connection;  // the connection that satisfied a network condition
  bool low_confidence = false;              // the block that matched is `confidence: low`
};

class RuleEngine {
 public:
  // `expected` is EXPECTED_PROCESSES (process names).
  RuleEngine(RuleSet rules, std::vector<std::string> expected);

  // Every enabled rule that matches, in file order.
  std::vector<Match> Evaluate(const RuleInput& in, const RuleWorld& world) const;

  const RuleSet& rules() const { return rules_; }
  bool IsExpected(const ProcessInfo& p) const;

 private:
  bool BlockHolds(const Conditions& c, const RuleInput& in, const RuleWorld& world, Match* m) const;

  RuleSet rules_;
  std::unordered_set<std::string> expected_;
};

// Helpers shared with the pipeline.
std::string JoinCmdline(const std::vector<std::string>& argv);
std::string_view Basename(std::string_view path);
// The script an interpreter runs: its first operand after the options, resolved
// against p.cwd when relative. Empty when it runs inline code (-c, -e, -m, ...) or
// reads stdin.
std::string InterpreterScript(const ProcessInfo& p);
// Parses "1.2.3.4:80" or "[::1]:80" into address bytes and port.
bool SplitEndpoint(std::string_view endpoint, std::array<uint8_t, 16>* ip, int* port);
// Outbound inet connections of p: TCP ESTABLISHED/SYN_SENT or connected UDP whose
// local port is not one p listens on, and that are not "service port here, ephemeral
// port (32768-60999) there" (an accepted connection whose listening socket is closed).
std::vector<const SocketInfo*> OutboundConnections(const ProcessInfo& p);

}  // namespace sandwatch::rules
