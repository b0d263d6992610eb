#include "sandwatch/sensor/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "sandwatch/core/log.h"

namespace sandwatch::sensor {

// ---- MemoryQueue ----

bool MemoryQueue::Append(const std::string& record) {
  if (bytes_ + record.size() + 1 > max_bytes_) {
    ++dropped_;
    return false;
  }
  bytes_ += record.size() + 1;
  q_.push_back(record);
  return true;
}

std::vector<std::string> MemoryQueue::Peek(size_t max_records, size_t max_bytes) {
  std::vector<std::string> out;
  size_t bytes = 0;
  for (const auto& r : q_) {
    if (out.size() >= max_records || (!out.empty() && bytes + r.size() > max_bytes)) break;
    bytes += r.size();
    out.push_back(r);
  }
  return out;
}

Status MemoryQueue::Commit(size_t n) {
  for (size_t i = 0; i < n && !q_.empty(); ++i) {
    bytes_ -= q_.front().size() + 1;
    q_.pop_front();
  }
  return OkStatus();
}

// ---- Spool ----

namespace {

Error Os(const std::string& what) { return MakeError(what + ": " + std::strerror(errno), errno); }

bool ReadWhole(const std::string& path, uint64_t from, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  std::array<char, 65536> buf;
  auto off = static_cast<off_t>(from);
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf.data(), static_cast<size_t>(n));
    off += n;
  }
  ::close(fd);
  return true;
}

uint64_t CountLines(const std::string& s) {
  return static_cast<uint64_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

std::string Spool::SegPath(uint64_t seg) const {
  std::array<char, 32> name{};
  std::snprintf(name.data(), name.size(), "%020llu.seg", static_cast<unsigned long long>(seg));
  return dir_ + "/" + name.data();
}

Result<std::unique_ptr<Spool>> Spool::Open(const std::string& dir, uint64_t max_bytes,
                                           uint64_t segment_bytes) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Os("spool dir " + dir);
  std::unique_ptr<Spool> s(new Spool(dir, max_bytes, segment_bytes));
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Os("spool dir " + dir);
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name.size() == 24 && name.compare(20, 4, ".seg") == 0) {
      s->segments_.push_back(std::stoull(name.substr(0, 20)));
    }
  }
  ::closedir(d);
  std::sort(s->segments_.begin(), s->segments_.end());
  {
    std::ifstream in(dir + "/cursor");
    unsigned long long seg = 0, off = 0;
    if (in >> seg >> off) {
      s->cursor_seg_ = seg;
      s->cursor_off_ = off;
    }
  }
  // Drop segments before the cursor (delivered; a crash may have left them).
  while (!s->segments_.empty() && s->segments_.front() < s->cursor_seg_) {
    ::unlink(s->SegPath(s->segments_.front()).c_str());
    s->segments_.erase(s->segments_.begin());
  }
  if (s->segments_.empty()) {
    s->segments_.push_back(std::max<uint64_t>(s->cursor_seg_, 1));
    s->cursor_seg_ = s->segments_.front();
    s->cursor_off_ = 0;
  } else if (s->segments_.front() > s->cursor_seg_) {
    s->cursor_seg_ = s->segments_.front();
    s->cursor_off_ = 0;
  }
  // Cut a torn last record, then count what is pending.
  std::string text;
  for (uint64_t seg : s->segments_) {
    std::string path = s->SegPath(seg);
    uint64_t from = seg == s->cursor_seg_ ? s->cursor_off_ : 0;
    if (!ReadWhole(path, 0, &text)) continue;
    if (!text.empty() && text.back() != '\n') {
      size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
      if (::truncate(path.c_str(), static_cast<off_t>(keep)) != 0) return Os("truncate " + path);
      SW_LOG(kWarn, "spool", "cut a torn record", {"segment", path},
             {"bytes", std::to_string(text.size() - keep)});
      text.resize(keep);
    }
    if (from > text.size()) from = text.size();
    s->bytes_ += text.size() - from;
    s->records_ += CountLines(text.substr(from));
  }
  auto st = s->OpenActive(s->segments_.back());
  if (!st.ok()) return st.error();
  return s;
}

Spool::~Spool() {
  if (active_fd_ >= 0) ::close(active_fd_);
}

Status Spool::OpenActive(uint64_t seg) {
  if (active_fd_ >= 0) ::close(active_fd_);
  std::string path = SegPath(seg);
  active_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (active_fd_ < 0) return Os("open " + path);
  struct stat st {};
  if (::fstat(active_fd_, &st) != 0) return Os("stat " + path);
  active_size_ = static_cast<uint64_t>(st.st_size);
  return OkStatus();
}

bool Spool::Append(const std::string& record) {
  uint64_t need = record.size() + 1;
  if (bytes_ + need > max_bytes_ || active_fd_ < 0) {
    ++dropped_;
    return false;
  }
  if (active_size_ > 0 && active_size_ + need > segment_bytes_) {
    uint64_t next = segments_.back() + 1;
    if (!OpenActive(next).ok()) {
      ++dropped_;
      return false;
    }
    segments_.push_back(next);
  }
  std::string line = record;
  line += '\n';
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(active_fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      SW_LOG(kError, "spool", "write failed", {"error", std::strerror(errno)});
      // Cut the partial line so the segment stays line-aligned.
      if (done > 0 && ::ftruncate(active_fd_, static_cast<off_t>(active_size_)) != 0) {
        SW_LOG(kError, "spool", "truncate failed", {"error", std::strerror(errno)});
      }
      ++dropped_;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  ::fdatasync(active_fd_);
  active_size_ += need;
  bytes_ += need;
  ++records_;
  return true;
}

std::vector<std::string> Spool::Peek(size_t max_records, size_t max_bytes) {
  std::vector<std::string> out;
  peek_ends_.clear();
  size_t bytes = 0;
  std::string text;
  for (uint64_t seg : segments_) {
    if (seg < cursor_seg_) continue;
    uint64_t from = seg == cursor_seg_ ? cursor_off_ : 0;
    if (!ReadWhole(SegPath(seg), from, &text)) continue;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) break;
      size_t len = nl - pos;
      if (out.size() >= max_records || (!out.empty() && bytes + len > max_bytes)) return out;
      out.emplace_back(text, pos, len);
      bytes += len;
      pos = nl + 1;
      peek_ends_.emplace_back(seg, from + pos);
    }
  }
  return out;
}

Status Spool::Commit(size_t n) {
  if (n == 0) return OkStatus();
  if (n > peek_ends_.size()) return MakeError("spool: commit beyond the last peek");
  auto [seg, off] = peek_ends_[n - 1];
  uint64_t consumed = 0;
  for (size_t i = 0; i < n; ++i) {
    auto [s, o] = peek_ends_[i];
    uint64_t start = i == 0 ? (s == cursor_seg_ ? cursor_off_ : 0)
                            : (peek_ends_[i - 1].first == s ? peek_ends_[i - 1].second : 0);
    consumed += o - start;
  }
  cursor_seg_ = seg;
  cursor_off_ = off;
  bytes_ -= std::min(bytes_, consumed);
  records_ -= std::min<uint64_t>(records_, n);
  peek_ends_.erase(peek_ends_.begin(), peek_ends_.begin() + static_cast<long>(n));
  // A fully read segment that is not the active one is done.
  if (cursor_seg_ != segments_.back()) {
    struct stat st {};
    if (::stat(SegPath(cursor_seg_).c_str(), &st) == 0 &&
        cursor_off_ >= static_cast<uint64_t>(st.st_size)) {
      auto it = std::upper_bound(segments_.begin(), segments_.end(), cursor_seg_);
      cursor_seg_ = *it;
      cursor_off_ = 0;
    }
  }
  auto st = WriteCursor();
  while (segments_.front() < cursor_seg_) {
    ::unlink(SegPath(segments_.front()).c_str());
    segments_.erase(segments_.begin());
  }
  return st;
}

Status Spool::WriteCursor() {
  std::string tmp = dir_ + "/cursor.tmp";
  std::string body = std::to_string(cursor_seg_) + " " + std::to_string(cursor_off_) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Os("open " + tmp);
  ssize_t n = ::write(fd, body.data(), body.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(body.size())) return Os("write " + tmp);
  if (::rename(tmp.c_str(), (dir_ + "/cursor").c_str()) != 0) return Os("rename " + tmp);
  return OkStatus();
}

}  // namespace sandwatch::sensor
