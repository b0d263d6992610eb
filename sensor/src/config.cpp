#include "sandwatch/sensor/config.h"

#include <CLI/CLI.hpp>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "sandwatch/core/cli.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/sensor/capture_factory.h"

extern char** environ;

namespace sandwatch::sensor {
namespace {

constexpr const char* kDescription =
    "sandwatch-sensor: a small in-workload runtime-security agent. It polls /proc (or uses\n"
    "inotify, fanotify or the proc connector where its vantage allows), matches a YAML rules\n"
    "file and ships events as JSONL on stdout, to a file, or batched over HTTP with a spool.";

constexpr const char* kFooter =
    "Every flag has an environment variable (in brackets); flags win over the environment.\n"
    "\nExamples:\n"
    "  # the blog's sidecar: events to the receiver, heartbeat every 15 s\n"
    "  RECEIVER_URL=http://kata-receiver/events POLL_INTERVAL=2 EXPECTED_PROCESSES=sleep \\\n"
    "    sandwatch-sensor\n"
    "  # on this machine: JSONL on stdout, fast polling, only one process tree\n"
    "  sandwatch-sensor --output stdout --poll-interval 0.2 --workload-pid 4242\n"
    "  # Falcosidekick-compatible JSON into a file, custom rules\n"
    "  sandwatch-sensor --format falco --output file:/tmp/events.json --rules my.yaml\n"
    "  # survive a restart: keep the baseline and the processes already evaluated on the\n"
    "  # pod's emptyDir; a restarted sensor evaluates what started while it was down\n"
    "  sandwatch-sensor --state-dir /var/run/sandwatch\n"
    "  # show the merged configuration, and whether the next start is a first start or a restart\n"
    "  sandwatch-sensor --print-config\n"
    "\nExit status: 0 after a clean shutdown (SIGTERM/SIGINT), 2 for a bad flag, value or\n"
    "rules file, 1 for a start-up failure. Docs: docs/sensor.md, docs/rules.md.";

// A value from a flag (when given) or else env; remembers which for error messages.
struct Raw {
  std::optional<std::string> value;
  std::string name;  // "--poll-interval" or "POLL_INTERVAL"
};

Raw Pick(const std::optional<std::string>& flag, const std::string& flag_name,
         const std::map<std::string, std::string>& env, const std::string& env_name) {
  if (flag) return {flag, flag_name};
  auto it = env.find(env_name);
  if (it != env.end()) return {it->second, env_name};
  return {std::nullopt, flag_name};
}

Error Bad(const Raw& r, const std::string& why) {
  return MakeError(r.name + ": " + why + " (got \"" + r.value.value_or("") + "\")");
}

Status Seconds(const Raw& r, double min, double max, double* out) {
  if (!r.value) return OkStatus();
  auto ns = ParseDuration(*r.value);
  if (!ns.ok()) return Bad(r, "expected seconds such as 2, 0.05 or 500ms");
  double s = static_cast<double>(*ns) / 1e9;
  if (s < min || s > max) {
    std::ostringstream os;
    os << "must be between " << min << " and " << max << " seconds";
    return Bad(r, os.str());
  }
  *out = s;
  return OkStatus();
}

Status OneOf(const Raw& r, std::initializer_list<const char*> allowed, std::string* out) {
  if (!r.value) return OkStatus();
  std::string list;
  for (const char* a : allowed) {
    if (*r.value == a) {
      *out = *r.value;
      return OkStatus();
    }
    list += list.empty() ? a : std::string(", ") + a;
  }
  return Bad(r, "expected one of " + list);
}

Status Bytes(const Raw& r, uint64_t* out) {
  if (!r.value) return OkStatus();
  const std::string& s = *r.value;
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || ptr == s.data()) return Bad(r, "expected a size such as 64MiB");
  std::string unit(ptr, s.data() + s.size());
  uint64_t mul = 1;
  if (unit.empty() || unit == "B")
    mul = 1;
  else if (unit == "KiB" || unit == "K" || unit == "k")
    mul = 1ull << 10;
  else if (unit == "MiB" || unit == "M")
    mul = 1ull << 20;
  else if (unit == "GiB" || unit == "G")
    mul = 1ull << 30;
  else
    return Bad(r, "unit must be B, KiB, MiB or GiB");
  n *= mul;
  if (n < 4096) return Bad(r, "must be at least 4KiB");
  *out = n;
  return OkStatus();
}

Status Int(const Raw& r, int min, int max, int* out) {
  if (!r.value) return OkStatus();
  int v = 0;
  const std::string& s = *r.value;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max) {
    return Bad(r, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  *out = v;
  return OkStatus();
}

Status Bool(const Raw& r, bool* out) {
  if (!r.value) return OkStatus();
  const std::string& s = *r.value;
  if (s == "1" || s == "true" || s == "yes" || s == "on")
    *out = true;
  else if (s == "0" || s == "false" || s == "no" || s == "off" || s.empty())
    *out = false;
  else
    return Bad(r, "expected true or false");
  return OkStatus();
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, ',')) {
    auto b = cur.find_first_not_of(" \t");
    auto e = cur.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
  }
  return out;
}

#define SW_TRY(expr)                         \
  do {                                       \
    auto sw_st_ = (expr);                    \
    if (!sw_st_.ok()) return sw_st_.error(); \
  } while (0)

}  // namespace

std::string EffectiveOutput(const SensorConfig& c) {
  if (!c.output.empty()) return c.output;
  return c.receiver_url.empty() ? "stdout" : "http";
}

Result<Command> ParseCommand(const std::map<std::string, std::string>& env,
                             const std::vector<std::string>& argv) {
  CLI::App app{kDescription, "sandwatch-sensor"};
  app.footer(kFooter);
  AddVersionFlag(app, "sandwatch-sensor");
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> opts;
  struct Spec {
    const char* flag;
    const char* env;
    const char* help;
  };
  static const auto kSpecs = std::to_array<Spec>({
      {"--receiver-url", "RECEIVER_URL",
       "POST events here (.../events); heartbeats to .../heartbeat"},
      {"--poll-interval", "POLL_INTERVAL", "seconds between /proc scans, fractional allowed [2]"},
      {"--heartbeat-interval", "HEARTBEAT_INTERVAL", "seconds between heartbeats [15]"},
      {"--mode", "MODE", "kata | sidecar | node [kata]"},
      {"--expected-processes", "EXPECTED_PROCESSES", "comma list of names the workload runs"},
      {"--pod-name", "POD_NAME", "pod name stamped on events"},
      {"--pod-namespace", "POD_NAMESPACE", "namespace stamped on events"},
      {"--capture", "CAPTURE", "poll | inotify | fanotify | netlink | auto [auto]"},
      {"--rules", "RULES_FILE", "YAML rules file [built-in rules]"},
      {"--receiver-token", "RECEIVER_TOKEN", "bearer token for the receiver"},
      {"--receiver-token-file", "RECEIVER_TOKEN_FILE",
       "file holding that token (a mounted Secret), read at start"},
      {"--spool-dir", "SPOOL_DIR", "on-disk queue while the receiver is down [memory]"},
      {"--state-dir", "STATE_DIR",
       "state that survives a restart (baseline, evaluated processes, seq) [SPOOL_DIR]"},
      {"--spool-max-bytes", "SPOOL_MAX_BYTES", "spool bound, e.g. 64MiB [64MiB]"},
      {"--format", "OUTPUT_FORMAT", "sandwatch | falco (Falcosidekick JSON) [sandwatch]"},
      {"--proc-root", "PROC_ROOT", "procfs to read [/proc]"},
      {"--output", "OUTPUT", "stdout | http | file:PATH [http if RECEIVER_URL else stdout]"},
      {"--workload-pid", "WORKLOAD_PID", "watch only this pid and its descendants [0 = all]"},
      {"--workload-root", "WORKLOAD_ROOT", "root for the start-up baseline [auto]"},
      {"--dedup-window", "DEDUP_WINDOW", "seconds a repeated behaviour stays suppressed [300]"},
      {"--scan-existing", "SCAN_EXISTING", "true: evaluate processes present at start [false]"},
      {"--sensor-id", "SENSOR_ID", "sensor id [<pod|host>-<random>]"},
      {"--log-level", "LOG_LEVEL", "debug | info | warn | error | off [info]"},
      {"--batch-size", "BATCH_SIZE", "events per HTTP POST [100]"},
  });
  for (const auto& s : kSpecs) {
    opts[s.flag] =
        app.add_option(s.flag, values[s.flag], std::string(s.help) + " (env " + s.env + ")");
  }
  bool print_config = false;
  app.add_flag("--print-config", print_config, "print the merged configuration as JSON and exit");

  std::vector<const char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(a.c_str());
  if (cargv.empty()) cargv.push_back("sandwatch-sensor");
  Command cmd;
  try {
    app.parse(static_cast<int>(cargv.size()), cargv.data());
  } catch (const CLI::CallForHelp&) {
    cmd.action = Command::Action::kHelp;
    cmd.text = app.help();
    return cmd;
  } catch (const CLI::CallForVersion&) {
    cmd.action = Command::Action::kVersion;
    cmd.text = VersionText("sandwatch-sensor");
    return cmd;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (auto& ch : msg) {
      if (ch == '\n') ch = ' ';
    }
    return MakeError(msg + " (see --help)");
  }

  auto get = [&](const char* flag) {
    for (const auto& s : kSpecs) {
      if (std::string(s.flag) == flag) {
        std::optional<std::string> given;
        if (opts[flag]->count() > 0) given = values[flag];
        return Pick(given, flag, env, s.env);
      }
    }
    return Raw{};
  };
  SensorConfig& c = cmd.config;
  if (auto r = get("--receiver-url"); r.value) {
    if (!r.value->empty() && r.value->rfind("http://", 0) != 0) {
      return Bad(r, "expected an http:// URL (for https, put a TLS proxy in front)");
    }
    c.receiver_url = *r.value;
  }
  SW_TRY(Seconds(get("--poll-interval"), 0.01, 3600, &c.poll_interval_s));
  SW_TRY(Seconds(get("--heartbeat-interval"), 0.1, 86400, &c.heartbeat_interval_s));
  SW_TRY(OneOf(get("--mode"), {"kata", "sidecar", "node"}, &c.mode));
  if (auto r = get("--expected-processes"); r.value) c.expected_processes = SplitComma(*r.value);
  if (auto r = get("--pod-name"); r.value) c.pod_name = *r.value;
  if (auto r = get("--pod-namespace"); r.value) c.pod_namespace = *r.value;
  if (auto r = get("--capture"); r.value) {
    // Single sources and "+" combinations such as fanotify+inotify.
    if (auto st = ValidateCaptureValue(*r.value); !st.ok()) return Bad(r, st.error().message);
    c.capture = *r.value;
  }
  if (auto r = get("--rules"); r.value) c.rules_file = *r.value;
  if (auto r = get("--receiver-token"); r.value) c.receiver_token = *r.value;
  if (auto r = get("--receiver-token-file"); r.value) {
    if (r.value->empty()) return Bad(r, "must not be empty");
    if (!c.receiver_token.empty()) {
      return Bad(r, "give the token or a file holding it, not both");
    }
    c.receiver_token_file = *r.value;
  }
  if (auto r = get("--spool-dir"); r.value) c.spool_dir = *r.value;
  if (auto r = get("--state-dir"); r.value) c.state_dir = *r.value;
  SW_TRY(Bytes(get("--spool-max-bytes"), &c.spool_max_bytes));
  SW_TRY(OneOf(get("--format"), {"sandwatch", "falco"}, &c.format));
  if (auto r = get("--proc-root"); r.value) {
    if (r.value->empty()) return Bad(r, "must not be empty");
    c.proc_root = *r.value;
  }
  if (auto r = get("--output"); r.value) {
    const std::string& o = *r.value;
    if (o != "stdout" && o != "http" && !(o.rfind("file:", 0) == 0 && o.size() > 5)) {
      return Bad(r, "expected stdout, http or file:PATH");
    }
    c.output = o;
  }
  SW_TRY(Int(get("--workload-pid"), 0, 1 << 22, &c.workload_pid));
  if (auto r = get("--workload-root"); r.value) c.workload_root = *r.value;
  SW_TRY(Seconds(get("--dedup-window"), 0, 7 * 86400.0, &c.dedup_window_s));
  SW_TRY(Bool(get("--scan-existing"), &c.scan_existing));
  if (auto r = get("--sensor-id"); r.value) c.sensor_id = *r.value;
  SW_TRY(OneOf(get("--log-level"), {"debug", "info", "warn", "error", "off"}, &c.log_level));
  SW_TRY(Int(get("--batch-size"), 1, 1000, &c.batch_size));
  if (EffectiveOutput(c) == "http" && c.receiver_url.empty()) {
    return MakeError("--output: http needs --receiver-url (or RECEIVER_URL)");
  }
  c.print_config = print_config;
  if (print_config) cmd.action = Command::Action::kPrintConfig;
  return cmd;
}

Status LoadReceiverToken(SensorConfig* c) {
  if (c->receiver_token_file.empty()) return OkStatus();
  const std::string& path = c->receiver_token_file;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError("--receiver-token-file: cannot read " + path + ": " + std::strerror(errno));
  }
  std::string token;
  std::array<char, 4096> buf;
  in.read(buf.data(), buf.size());
  token.assign(buf.data(), static_cast<size_t>(in.gcount()));
  if (in.gcount() == static_cast<std::streamsize>(buf.size())) {
    return MakeError("--receiver-token-file: " + path + " is larger than 4 KiB");
  }
  // A Secret written with echo or an editor ends in a newline; that is not part of the token.
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' ||
                            token.back() == '\t')) {
    token.pop_back();
  }
  if (token.empty()) return MakeError("--receiver-token-file: " + path + " is empty");
  for (char ch : token) {
    if (static_cast<unsigned char>(ch) < 0x21 || ch == 0x7f) {
      return MakeError("--receiver-token-file: " + path +
                       " holds whitespace or control characters inside the token");
    }
  }
  c->receiver_token = std::move(token);
  return OkStatus();
}

std::map<std::string, std::string> ProcessEnv() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::string ConfigToJson(const SensorConfig& c) {
  nlohmann::json j{{"receiver_url", c.receiver_url},
                   {"poll_interval_s", c.poll_interval_s},
                   {"heartbeat_interval_s", c.heartbeat_interval_s},
                   {"mode", c.mode},
                   {"expected_processes", c.expected_processes},
                   {"pod_name", c.pod_name},
                   {"pod_namespace", c.pod_namespace},
                   {"capture", c.capture},
                   {"rules_file", c.rules_file.empty() ? "built-in" : c.rules_file},
                   {"receiver_token", c.receiver_token.empty() ? "" : "<redacted>"},
                   {"receiver_token_file", c.receiver_token_file},
                   {"spool_dir", c.spool_dir},
                   {"spool_max_bytes", c.spool_max_bytes},
                   {"state_dir", c.state_dir.empty() ? c.spool_dir : c.state_dir},
                   {"format", c.format},
                   {"proc_root", c.proc_root},
                   {"output", EffectiveOutput(c)},
                   {"workload_pid", c.workload_pid},
                   {"workload_root", c.workload_root.empty() ? "auto" : c.workload_root},
                   {"dedup_window_s", c.dedup_window_s},
                   {"scan_existing", c.scan_existing},
                   {"sensor_id", c.sensor_id.empty() ? "auto" : c.sensor_id},
                   {"log_level", c.log_level},
                   {"batch_size", c.batch_size}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sandwatch::sensor
