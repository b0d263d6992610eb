// The attacker's end of the reverse shell: accepts a connection, sends commands,
// and captures what comes back until the peer closes.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/result.h"

namespace sandwatch::attacksim {

struct ListenCapture {
  std::string peer;           // "127.0.0.1:53422"
  std::string sent;           // everything we sent
  std::string output;         // everything that came back (attacker-controlled: escape to show)
  int64_t start_wall_ns = 0;  // accept
  int64_t start_mono_ns = 0;
  int64_t end_wall_ns = 0;  // EOF (or timeout)
  int64_t end_mono_ns = 0;
  bool timed_out = false;
};

class Listener {
 public:
  // `clock` (accept deadlines, capture times) must outlive the listener.
  explicit Listener(const Clock& clock) : clock_(clock) {}
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens; port 0 picks a free one. Returns the bound port.
  Result<int> Start(const std::string& bind_host, int port);
  // Waits up to timeout_ms for one connection; sends `commands` + "\n", waits linger_ms,
  // sends "exit\n", then reads until EOF or the timeout. Thread-compatible.
  Result<ListenCapture> AcceptOne(const std::string& commands, double linger_ms, double timeout_ms);
  int port() const { return port_; }

  // Makes a pending (or the next) AcceptOne give up waiting for a connection once nothing
  // is queued: the reverse shell already exited without connecting. Thread-safe.
  void CancelAccept() { cancel_ = true; }
  void ResetCancel() { cancel_ = false; }

 private:
  std::atomic<bool> cancel_{false};
  const Clock& clock_;
  int fd_ = -1;
  int port_ = 0;
};

// Control characters and non-ASCII bytes as \xNN, backslash doubled; keeps nothing raw.
std::string EscapeForDisplay(std::string_view text);

}  // namespace sandwatch::attacksim
