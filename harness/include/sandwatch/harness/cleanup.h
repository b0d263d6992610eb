// CleanupRegistry: everything the lab creates (containers, VMs, mounts,
// processes, temp dirs) registers an undo action here at creation time.
// RunAll() runs the actions in reverse order, each at most once, and keeps
// going when one fails. The harness calls RunAll() on success, failure and
// interruption (SIGINT/SIGTERM set a flag; see InstallInterruptHandlers()).
//
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace sandwatch::harness {

class CleanupRegistry {
 public:
  using Id = size_t;
  CleanupRegistry() = default;
  CleanupRegistry(const CleanupRegistry&) = delete;
  CleanupRegistry& operator=(const CleanupRegistry&) = delete;
  ~CleanupRegistry() { RunAll(); }

  // `what` names the resource for logs ("runc container sw-runc-1").
  Id Add(std::string what, std::function<void()> undo);
  // Runs one action now (e.g. a cell finished normally) and forgets it.
  void RunOne(Id id);
  // Forgets an action without running it.
  void Dismiss(Id id);
  // Runs all remaining actions, newest first.
  void RunAll();
  size_t Pending() const;

 private:
  struct Entry {
    Id id;
    std::string what;
    std::function<void()> undo;
  };
  Entry Take(Id id);  // removes the entry (none: an empty one)
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  Id next_ = 1;
};

// SIGINT/SIGTERM/SIGHUP set a flag instead of killing the harness, so cleanup runs.
void InstallInterruptHandlers();
bool Interrupted();

}  // namespace sandwatch::harness
