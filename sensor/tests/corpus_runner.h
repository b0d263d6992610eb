// The detection corpus: attack variants and benign look-alikes (sensor/tests/corpus/
// *.yaml), played against the real sandwatch-sensor binary.
//
// Every case is a bash script run by one long-lived "attacker session" shell that was
// started before the sensor (so it is start-up state, like a shell the attacker
// already has). The script reaches the sensor only through what it does: it is
// handed over in the environment (bash -c 'eval "$CASE_SCRIPT"'), never on a command
// line. Each case runs in its own process group; after `hold_s` (or when it exits)
// the group is killed. Events are attributed to a case when the case's root pid is
// the process, its parent or one of its ancestors.
//
// Case environment: CASE_DIR (an empty temp dir), PORT (a loopback listener that
// accepts and holds connections and sends nothing), PORT2 (a free loopback port),
// HOME (a temp home with .aws/credentials and .aws/config, set before the sensor
// started). Nothing leaves loopback; nothing is written outside temp dirs.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace sandwatch::sensor::testing {

struct CorpusCase {
  std::string file;  // corpus file name, e.g. "credentials.yaml"
  std::string name;
  std::string source;  // the public catalogue entry it is derived from
  std::string cls;     // the detection class it exercises
  std::string script;
  std::vector<std::string> expect;  // signals; empty: benign, no event allowed
  double hold_s = 3.0;              // longest run before the group is killed
  double lives_s = 0;               // how long the behaviour lasts (declared; poll's 1 s line)
  // Expected signals whose own behaviour is short even when the case lives long
  // (busybox nc -e execs the shell in place: nc itself lives for milliseconds).
  std::vector<std::string> short_signals;
  std::string note;
};

struct CaseRun {
  int root_pid = 0;
  double duration_s = 0;  // root start to exit (or kill)
  std::set<std::string> fired;
  std::vector<nlohmann::json> events;
};

// Loads every *.yaml under `dir` in name order. Aborts the test on a bad file.
std::vector<CorpusCase> LoadCorpus(const std::string& dir);

// Runs the cases against a fresh sensor with `sensor_args` (plus --workload-pid and a
// file output); returns one CaseRun per case, in order, and the events no case
// claimed (harness machinery) in `unclaimed`.
std::vector<CaseRun> RunCorpus(const std::vector<CorpusCase>& cases,
                               const std::vector<std::string>& sensor_args,
                               std::vector<nlohmann::json>* unclaimed, std::string* capture_used);

// Markdown: per-signal recall, benign cases with alerts, and each miss with its
// lifetime. `title` heads the section.
std::string CorpusReport(const std::string& title, const std::vector<CorpusCase>& cases,
                         const std::vector<CaseRun>& runs);

}  // namespace sandwatch::sensor::testing
