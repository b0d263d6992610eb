#include "sandwatch/core/procfs/baseline.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <unordered_set>

#include "file_stat.h"

namespace sandwatch::procfs {
namespace {

std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Resolves `path` (absolute, as seen inside the workload) to its canonical form,
// following symlinks relative to `root` so nothing escapes to the host. Error when
// a component is missing or there are too many links.
Result<std::string> ResolveInRoot(const std::string& root, std::string_view path) {
  std::vector<std::string> todo = Components(path);
  std::vector<std::string> done;
  int hops = 0;
  // `todo` is processed front to back; keep it reversed so pop_back is the front.
  std::reverse(todo.begin(), todo.end());
  while (!todo.empty()) {
    std::string part = std::move(todo.back());
    todo.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    std::string candidate = root;
    for (const auto& d : done) candidate.append("/").append(d);
    candidate.append("/").append(part);
    struct stat st {};
    if (lstat(candidate.c_str(), &st) != 0)
      return MakeError(std::string("missing ").append(candidate), errno);
    if (!S_ISLNK(st.st_mode)) {
      done.push_back(std::move(part));
      continue;
    }
    if (++hops > 40) return MakeError(std::string("too many links at ").append(candidate), ELOOP);
    std::array<char, 4096> buf;
    ssize_t n = readlink(candidate.c_str(), buf.data(), buf.size() - 1);
    if (n < 0) return MakeError(std::string("readlink ").append(candidate), errno);
    std::string_view target(buf.data(), static_cast<size_t>(n));
    if (!target.empty() && target.front() == '/') done.clear();
    std::vector<std::string> more = Components(target);
    todo.insert(todo.end(), std::make_move_iterator(more.rbegin()),
                std::make_move_iterator(more.rend()));
  }
  std::string out;
  for (const auto& d : done) out.append("/").append(d);
  return out.empty() ? std::string("/") : out;
}

bool IsExecutableFile(const struct stat& st) {
  return S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

struct Walker {
  const std::string& root;
  const BaselineOptions& options;
  std::unordered_map<std::string, FileStat>* files;
  std::unordered_set<std::string> walked;
  bool truncated = false;
  size_t skipped = 0;
  size_t visited = 0;

  void AddSymlink(const std::string& inside) {
    auto resolved = ResolveInRoot(root, inside);
    if (!resolved.ok()) return;
    struct stat st {};
    if (stat((root + *resolved).c_str(), &st) == 0 && IsExecutableFile(st)) {
      files->emplace(*resolved, ToFileStat(st));
    }
  }

  void Walk(const std::string& inside, int depth) {
    if (truncated || !walked.insert(inside).second) return;
    const std::string host = root + inside;
    DIR* d = opendir(host.c_str());
    if (d == nullptr) {
      if (errno != ENOENT) ++skipped;
      return;
    }
    std::vector<std::string> subdirs;
    while (dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      if (++visited > options.max_entries) {
        truncated = true;
        break;
      }
      std::string child = inside == "/" ? std::string() : inside;
      child.append("/").append(e->d_name);
      struct stat st {};
      if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (depth < options.max_depth) subdirs.push_back(std::move(child));
      } else if (S_ISLNK(st.st_mode)) {
        AddSymlink(child);  // file links only; linked directories are not walked
      } else if (IsExecutableFile(st)) {
        files->emplace(std::move(child), ToFileStat(st));
      }
    }
    closedir(d);
    for (const auto& s : subdirs) Walk(s, depth + 1);
  }
};

}  // namespace

Result<Baseline> Baseline::Build(const std::string& root, const BaselineOptions& options) {
  Baseline b;
  // Inode times come from the same coarse clock, so "changed before this" is exact.
  timespec now{};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  b.started_wall_ns_ = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  b.root_ = root;
  while (!b.root_.empty() && b.root_.back() == '/') b.root_.pop_back();
  struct stat st {};
  const std::string check = b.root_.empty() ? "/" : b.root_;
  const bool found = stat(check.c_str(), &st) == 0;
  if (!found || !S_ISDIR(st.st_mode)) {
    int err = found ? ENOTDIR : errno;
    std::string msg = "baseline root ";
    msg.append(check).append(": ").append(std::strerror(err != 0 ? err : ENOTDIR));
    return MakeError(std::move(msg), err);
  }
  Walker w{b.root_, options, &b.files_, {}, false, 0, 0};
  for (const auto& dir : options.dirs) {
    auto canon = ResolveInRoot(b.root_, dir);  // /bin -> /usr/bin is walked once
    if (!canon.ok()) continue;
    w.Walk(*canon, 0);
  }
  b.truncated_ = w.truncated;
  b.skipped_dirs_ = w.skipped;
  return b;
}

Baseline Baseline::FromEntries(std::string root, std::unordered_map<std::string, FileStat> files,
                               bool truncated) {
  Baseline b;
  b.root_ = std::move(root);
  b.files_ = std::move(files);
  b.truncated_ = truncated;
  return b;
}

bool Baseline::Contains(std::string_view exe_path) const {
  return files_.find(std::string(exe_path)) != files_.end();
}

bool Baseline::Contains(std::string_view exe_path, const FileStat& now) const {
  auto it = files_.find(std::string(exe_path));
  if (it == files_.end()) return false;
  const FileStat& then = it->second;
  return then.dev == now.dev && then.inode == now.inode && then.size == now.size &&
         then.mtime_ns == now.mtime_ns;
}

bool Baseline::Contains(const ProcessInfo& process) const {
  if (process.exe_deleted || process.exe_memfd || process.exe.empty()) return false;
  if (process.exe_inode == 0) return Contains(process.exe);
  FileStat now;
  now.dev = process.exe_dev;
  now.inode = process.exe_inode;
  now.size = process.exe_size;
  now.mtime_ns = process.exe_mtime_ns;
  if (Contains(process.exe, now)) return true;
  return !Contains(process.exe) && process.exe_ctime_ns > 0 && started_wall_ns_ > 0 &&
         process.exe_ctime_ns < started_wall_ns_;
}

}  // namespace sandwatch::procfs
