#include "sandwatch/harness/cleanup.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <exception>

#include "sandwatch/core/log.h"

namespace sandwatch::harness {

CleanupRegistry::Id CleanupRegistry::Add(std::string what, std::function<void()> undo) {
  std::lock_guard<std::mutex> lock(mu_);
  Id id = next_++;
  entries_.push_back(Entry{id, std::move(what), std::move(undo)});
  return id;
}

namespace {
void RunEntry(const std::string& what, const std::function<void()>& undo) {
  SW_LOG(kDebug, "harness", "cleanup", {"what", what});
  try {
    undo();
  } catch (const std::exception& e) {
    SW_LOG(kWarn, "harness", "cleanup step failed", {"what", what}, {"error", e.what()});
  }
}
}  // namespace

CleanupRegistry::Entry CleanupRegistry::Take(Id id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it =
      std::find_if(entries_.begin(), entries_.end(), [id](const Entry& e) { return e.id == id; });
  if (it == entries_.end()) return {};
  Entry found = std::move(*it);
  entries_.erase(it);
  return found;
}

void CleanupRegistry::RunOne(Id id) {
  Entry found = Take(id);
  if (found.undo) RunEntry(found.what, found.undo);
}

void CleanupRegistry::Dismiss(Id id) { (void)Take(id); }

void CleanupRegistry::RunAll() {
  for (;;) {
    Entry e;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (entries_.empty()) return;
      e = std::move(entries_.back());
      entries_.pop_back();
    }
    RunEntry(e.what, e.undo);
  }
}

size_t CleanupRegistry::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void OnSignal(int /*sig*/) { g_interrupted.store(true); }
}  // namespace

void InstallInterruptHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

bool Interrupted() { return g_interrupted.load(); }

}  // namespace sandwatch::harness
