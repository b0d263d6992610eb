#include "sandwatch/sensor/state_codec.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <unordered_map>

#include "sandwatch/sensor/state_file.h"

namespace sandwatch::sensor::state {
namespace {

constexpr std::string_view kStateMagic = "sandwatch.sensor-state/v1";
constexpr std::string_view kSeqMagic = "sandwatch.sensor-seq/v1";
constexpr std::string_view kBaselineMagic = "sandwatch.sensor-baseline/v1";

// Splits `body` into lines; the first must be `magic`.
class Lines {
 public:
  explicit Lines(std::string_view body) : rest_(body) {}
  bool Next(std::string_view* line) {
    if (rest_.empty()) return false;
    size_t nl = rest_.find('\n');
    *line = rest_.substr(0, nl);
    rest_ = nl == std::string_view::npos ? std::string_view() : rest_.substr(nl + 1);
    ++number_;
    return true;
  }
  size_t number() const { return number_; }

 private:
  std::string_view rest_;
  size_t number_ = 0;
};

template <class T>
bool ParseNum(std::string_view text, T* out, int base = 10) {
  if (text.empty()) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, base);
  return ec == std::errc() && p == text.data() + text.size();
}

// "key value" -> (key, value); value may hold spaces.
std::pair<std::string_view, std::string_view> KeyValue(std::string_view line) {
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return {line, {}};
  return {line.substr(0, sp), line.substr(sp + 1)};
}

// Next space-separated field of `*rest`.
std::string_view Field(std::string_view* rest) {
  size_t sp = rest->find(' ');
  std::string_view f = rest->substr(0, sp);
  *rest = sp == std::string_view::npos ? std::string_view() : rest->substr(sp + 1);
  return f;
}

Error Bad(const Lines& lines, std::string_view what) {
  return MakeError("line " + std::to_string(lines.number()) + ": " + std::string(what));
}

// Reads the "key value" header lines shared by all three files into `set`, which
// parses one key (false: malformed). Returns at the first line starting with `stop`.
template <class SetFn>
Status ReadHeader(Lines* lines, std::string_view magic, std::string_view stop, SetFn set,
                  std::string_view* first_record) {
  std::string_view line;
  if (!lines->Next(&line) || line != magic) {
    return MakeError("not a " + std::string(magic) + " file");
  }
  *first_record = {};
  while (lines->Next(&line)) {
    auto [key, value] = KeyValue(line);
    if (!stop.empty() && key == stop) {
      *first_record = line;
      return OkStatus();
    }
    if (!set(key, value)) return Bad(*lines, "bad value for " + std::string(key));
  }
  return OkStatus();
}

bool SetText(std::string_view value, std::string* out) {
  auto v = UnescapeLine(value);
  if (!v.ok()) return false;
  *out = std::move(v.value());
  return true;
}

}  // namespace

std::string EncodeState(const SavedState& s) {
  std::string out(kStateMagic);
  out += "\nsensor_id " + EscapeLine(s.sensor_id) + "\nboot_id " + EscapeLine(s.boot_id) +
         "\nsaved_boot_ns " + std::to_string(s.saved_boot_ns) + "\nsaved_wall_ns " +
         std::to_string(s.saved_wall_ns) + "\nheartbeat_boot_ns " +
         std::to_string(s.heartbeat_boot_ns) + "\nlast_seq " + std::to_string(s.last_seq) +
         "\nrestarts " + std::to_string(s.restarts) + "\nprocesses " +
         std::to_string(s.processes.size()) + "\n";
  std::array<char, 64> buf{};
  for (const auto& p : s.processes) {
    int n = std::snprintf(buf.data(), buf.size(), "p %d %llu %08x\n", p.pid,
                          static_cast<unsigned long long>(p.start_ticks), p.exe_hash);
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

Result<SavedState> DecodeState(std::string_view body) {
  SavedState s;
  size_t declared = 0;
  bool have_count = false;
  Lines lines(body);
  std::string_view line;
  auto set = [&](std::string_view key, std::string_view value) {
    if (key == "sensor_id") return SetText(value, &s.sensor_id);
    if (key == "boot_id") return SetText(value, &s.boot_id);
    if (key == "saved_boot_ns") return ParseNum(value, &s.saved_boot_ns);
    if (key == "saved_wall_ns") return ParseNum(value, &s.saved_wall_ns);
    if (key == "heartbeat_boot_ns") return ParseNum(value, &s.heartbeat_boot_ns);
    if (key == "last_seq") return ParseNum(value, &s.last_seq);
    if (key == "restarts") return ParseNum(value, &s.restarts);
    if (key == "processes") {
      have_count = true;
      return ParseNum(value, &declared) && declared <= kMaxKnownProcesses;
    }
    return false;
  };
  auto st = ReadHeader(&lines, kStateMagic, "p", set, &line);
  if (!st.ok()) return st.error();
  if (!have_count || s.sensor_id.empty() || s.saved_boot_ns <= 0) {
    return MakeError("missing sensor_id, saved_boot_ns or processes");
  }
  s.processes.reserve(declared);
  for (bool more = !line.empty(); more; more = lines.Next(&line)) {
    std::string_view rest = line;
    KnownProcess p;
    if (Field(&rest) != "p" || !ParseNum(Field(&rest), &p.pid) || p.pid <= 0 ||
        !ParseNum(Field(&rest), &p.start_ticks) || rest.size() != 8 ||
        !ParseNum(rest, &p.exe_hash, 16)) {
      return Bad(lines, "expected \"p PID START_TICKS EXE_HASH\"");
    }
    if (s.processes.size() >= declared) return Bad(lines, "more processes than declared");
    s.processes.push_back(p);
  }
  if (s.processes.size() != declared) return MakeError("fewer processes than declared");
  return s;
}

std::string EncodeSeq(const SavedSeq& s) {
  return std::string(kSeqMagic) + "\nsensor_id " + EscapeLine(s.sensor_id) + "\nboot_id " +
         EscapeLine(s.boot_id) + "\nlast_seq " + std::to_string(s.last_seq) + "\nboot_ns " +
         std::to_string(s.boot_ns) + "\n";
}

Result<SavedSeq> DecodeSeq(std::string_view body) {
  SavedSeq s;
  Lines lines(body);
  std::string_view unused;
  auto set = [&](std::string_view key, std::string_view value) {
    if (key == "sensor_id") return SetText(value, &s.sensor_id);
    if (key == "boot_id") return SetText(value, &s.boot_id);
    if (key == "last_seq") return ParseNum(value, &s.last_seq);
    if (key == "boot_ns") return ParseNum(value, &s.boot_ns);
    return false;
  };
  auto st = ReadHeader(&lines, kSeqMagic, "", set, &unused);
  if (!st.ok()) return st.error();
  if (s.sensor_id.empty() || s.boot_ns <= 0) return MakeError("missing sensor_id or boot_ns");
  return s;
}

std::string EncodeBaseline(const SavedBaseline& b) {
  const auto& entries = b.baseline.entries();
  std::string out(kBaselineMagic);
  out += "\nroot " + EscapeLine(b.baseline.root()) + "\nboot_id " + EscapeLine(b.boot_id) +
         "\nbuilt_boot_ns " + std::to_string(b.built_boot_ns) + "\nbuilt_wall_ns " +
         std::to_string(b.built_wall_ns) + "\ntruncated " + (b.baseline.truncated() ? "1" : "0") +
         "\nfiles " + std::to_string(entries.size()) + "\n";
  out.reserve(out.size() + entries.size() * 80);
  for (const auto& [path, st] : entries) {
    out += "f " + std::to_string(st.dev) + " " + std::to_string(st.inode) + " " +
           std::to_string(st.size) + " " + std::to_string(st.mtime_ns) + " " +
           std::to_string(st.mode) + " " + EscapeLine(path) + "\n";
  }
  return out;
}

Result<SavedBaseline> DecodeBaseline(std::string_view body) {
  SavedBaseline b;
  size_t declared = 0;
  bool truncated = false;
  Lines lines(body);
  std::string_view line;
  auto set = [&](std::string_view key, std::string_view value) {
    if (key == "root") return SetText(value, &b.root);
    if (key == "boot_id") return SetText(value, &b.boot_id);
    if (key == "built_boot_ns") return ParseNum(value, &b.built_boot_ns);
    if (key == "built_wall_ns") return ParseNum(value, &b.built_wall_ns);
    if (key == "truncated") {
      truncated = value == "1";
      return value == "0" || value == "1";
    }
    if (key == "files") return ParseNum(value, &declared) && declared <= 1000000;
    return false;
  };
  auto st = ReadHeader(&lines, kBaselineMagic, "f", set, &line);
  if (!st.ok()) return st.error();
  if (b.built_boot_ns <= 0) return MakeError("missing built_boot_ns");
  std::unordered_map<std::string, procfs::FileStat> files;
  files.reserve(declared);
  for (bool more = !line.empty(); more; more = lines.Next(&line)) {
    std::string_view rest = line;
    procfs::FileStat f;
    if (Field(&rest) != "f" || !ParseNum(Field(&rest), &f.dev) ||
        !ParseNum(Field(&rest), &f.inode) || !ParseNum(Field(&rest), &f.size) ||
        !ParseNum(Field(&rest), &f.mtime_ns) || !ParseNum(Field(&rest), &f.mode) || rest.empty() ||
        rest.front() != '/') {
      return Bad(lines, "expected \"f DEV INODE SIZE MTIME_NS MODE /PATH\"");
    }
    auto path = UnescapeLine(rest);
    if (!path.ok()) return Bad(lines, path.error().message);
    if (files.size() >= declared) return Bad(lines, "more files than declared");
    files.emplace(std::move(path.value()), f);
  }
  if (files.size() != declared) return MakeError("fewer files than declared");
  b.baseline = procfs::Baseline::FromEntries(b.root, std::move(files), truncated);
  return b;
}

}  // namespace sandwatch::sensor::state
