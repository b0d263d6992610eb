// The load generator's events: sensor-sized (about 700 bytes of JSON), nine rules, 200
// pods, in time order over the last 24 h (loadgen.h).
#include <algorithm>
#include <array>
#include <string>

#include "loadgen.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/ids.h"

namespace sandwatch::loadgen {

using sandwatch::FormatRfc3339;

const std::array<const char*, 9> kRules = {"unexpected_shell",
                                           "shadow_file_access",
                                           "aws_credential_discovery",
                                           "package_manager_execution",
                                           "post_start_binary_execution",
                                           "nc_execution",
                                           "reverse_shell",
                                           "suspicious_outbound_connection",
                                           "suspicious_process_chain"};
namespace {

const std::array<const char*, 9> kCmds = {"cat /etc/shadow",
                                          "bash -i",
                                          "cat /root/.aws/credentials",
                                          "apt-get install -y ncat",
                                          "/tmp/payload --connect",
                                          "nc -e /bin/sh 127.0.0.1 4444",
                                          "bash -c exec 3<>/dev/tcp/127.0.0.1/4444",
                                          "curl http://127.0.0.1:8081/x",
                                          "python3 -c import pty;pty.spawn('/bin/sh')"};

}  // namespace

// Events arrive roughly in time order, as from live sensors: event i of n is placed
// at i/n of the last 24 h, with up to 5 s of jitter (events past n: now).
std::string EventJson(std::mt19937_64& rng, int64_t now_ns, int64_t index, int64_t total,
                      uint64_t seq, int sensor) {
  int r = static_cast<int>(rng() % 9);
  constexpr int64_t kDay = 24LL * 3600 * 1'000'000'000;
  // Events past `total` (sent while searches outlast the planned ones) are placed now.
  const double at = static_cast<double>(std::min(index, total)) / static_cast<double>(total);
  int64_t t = now_ns - kDay + static_cast<int64_t>(static_cast<double>(kDay) * at) -
              static_cast<int64_t>(rng() % 5'000'000'000ULL);
  std::string pod = "pod-" + std::to_string(rng() % 200);
  std::string s;
  s.reserve(700);
  s += R"({"schema":"sandwatch.event/v1","id":")";
  s += sandwatch::NewUuid();
  s += R"(","seq":)" + std::to_string(seq) + R"(,"time":")" + FormatRfc3339(t) + R"(","rule":")";
  s += kRules[r];
  s += R"(","priority":"Warning","output":")";
  s += kRules[r];
  s += " by " + std::string(kCmds[r]) + " in " + pod + " host-" + std::to_string(rng() % 5000);
  s += R"(","tags":["mitre_execution"],"sensor":{"id":"sensor-)" + std::to_string(sensor) +
       R"(","mode":"sidecar","capture":"poll","version":"0.1.0"},"k8s":{"pod":")" + pod +
       R"(","namespace":"bench"},"hostname":"node-1","process":{"pid":)" +
       std::to_string(rng() % 30000) + R"(,"ppid":1,"name":"sh","exe":"/bin/sh","cmdline":[")";
  s += kCmds[r];
  s += R"("],"uid":0,"cwd":"/"},"parent":{"pid":1,"name":"bash","cmdline":["bash"]}})";
  return s;
}

}  // namespace sandwatch::loadgen
