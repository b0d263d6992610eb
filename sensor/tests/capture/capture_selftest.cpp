// capture_selftest: runs one capture source against real child processes and
// prints what it saw as JSON, so integration tests can run it inside
// `unshare --pid --fork --mount-proc` and assert on the output.
//
//   capture_selftest probe --mode MODE     probes every source, prints the auto plan
//   capture_selftest run SOURCE            starts SOURCE, runs workloads, prints observations
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "capture_test_support.h"
#include "fanotify_source.h"
#include "inotify_source.h"
#include "netlink_source.h"
#include "sandwatch/sensor/capture_factory.h"
#include "self_facts.h"

using namespace sandwatch::sensor;
using nlohmann::json;

namespace {

std::unique_ptr<CaptureSource> Make(const std::string& name) {
  if (name == "netlink") return std::make_unique<NetlinkSource>(NetlinkOptions{});
  if (name == "fanotify") return std::make_unique<FanotifySource>(FanotifyOptions{});
  if (name == "inotify") return std::make_unique<InotifySource>(InotifyOptions{});
  return nullptr;
}

int Probe(const std::string& mode) {
  SelfFacts facts = ReadSelfFacts();
  std::cout << json{{"self",
                     {{"pid", getpid()},
                      {"nspid_levels", facts.nspid_levels},
                      {"pid_ns_ino", facts.pid_ns_ino},
                      {"init_pid_ns", facts.InInitPidNs()}}}}
            << "\n";
  for (const char* name : {"netlink", "fanotify", "inotify"}) {
    sandwatch::Status st = Make(name)->Probe();
    std::cout << json{{"probe", name},
                      {"ok", st.ok()},
                      {"reason", st.ok() ? "" : st.error().message}}
              << "\n";
  }
  CaptureOptions opts;
  opts.mode = mode;
  auto sel = MakeCaptureSources(opts);
  if (!sel.ok()) {
    std::cout << json{{"auto_error", sel.error().message}} << "\n";
    return 1;
  }
  std::cout << json{{"auto", sel->active}, {"why", sel->why}, {"sources", sel->sources.size()}}
            << "\n";
  return 0;
}

int Run(const std::string& name) {
  auto source = Make(name);
  if (!source) {
    std::cerr << "unknown source " << name << "\n";
    return 2;
  }
  testing::RecordingSink sink(/*scan_on_kscan=*/name == "inotify");
  json out;
  out["source"] = name;
  sandwatch::Status st = source->Start(&sink);
  if (!st.ok()) {
    out["start_error"] = st.error().message;
    std::cout << out << "\n";
    return 1;
  }
  const std::vector<std::vector<std::string>> workloads = {
      {"/usr/bin/cat", "/etc/shadow"},
      {"/usr/bin/sleep", "0.05"},
      {"/usr/bin/head", "-c", "1", "/etc/shadow"},
  };
  json children = json::array();
  for (const auto& argv : workloads) {
    int pid = testing::Spawn(argv);
    testing::WaitExit(pid);
    children.push_back({{"pid", pid}, {"argv", argv}});
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Collection window for the last events (not a timing assertion).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  source->Stop();
  out["children"] = children;
  json obs = json::array();
  for (const Observation& o : sink.Snapshot()) {
    json j{{"kind", testing::KindName(o.kind)},
           {"method", o.method},
           {"pid", o.pid},
           {"ppid", o.ppid},
           {"path", o.path}};
    if (o.early) {
      j["cmdline"] = o.early->cmdline;
      j["exe"] = o.early->exe;
      j["complete"] = o.early->complete;
    }
    obs.push_back(j);
  }
  out["observations"] = obs;
  json seen = json::object();
  for (const auto& [pid, s] : sink.Sightings()) seen[std::to_string(pid)] = s.cmdline;
  out["scan_sightings"] = seen;
  std::map<std::string, int64_t> counters;
  source->AddCounters(&counters);
  out["counters"] = counters;
  std::cout << out << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc >= 2 && std::strcmp(argv[1], "--help") == 0) {
    std::cout << "capture_selftest: runs a capture source against real processes, prints JSON.\n"
                 "  capture_selftest probe --mode node   # probe each source, show the auto plan\n"
                 "  capture_selftest run fanotify        # start it, run cat/sleep/head, print "
                 "what it saw\n"
                 "Used by capture_integration_tests inside unshare --pid --fork --mount-proc.\n";
    return 0;
  }
  if (argc >= 2 && std::strcmp(argv[1], "--version") == 0) {
    std::cout << "capture_selftest 0.1.0\n";
    return 0;
  }
  if (argc == 4 && std::strcmp(argv[1], "probe") == 0 && std::strcmp(argv[2], "--mode") == 0) {
    return Probe(argv[3]);
  }
  if (argc == 3 && std::strcmp(argv[1], "run") == 0) return Run(argv[2]);
  std::cerr << "usage: capture_selftest probe --mode MODE | run SOURCE\n";
  return 2;
} catch (const std::exception& e) {
  std::cerr << "capture_selftest: " << e.what() << "\n";
  return 1;
}
