// The receiver as an object: store + writer thread + HTTP server on its own thread.
// Start() returns once the server is listening; Stop() (or the destructor) drains
// pending writes, closes SSE streams and joins every thread.
#pragma once

#include <memory>
#include <string>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/result.h"
#include "sandwatch/receiver/config.h"

namespace sandwatch::receiver {

class Receiver {
 public:
  // With the system clock.
  static Result<std::unique_ptr<Receiver>> Start(const ReceiverConfig& config);
  // Every time the receiver reads comes from `clock`, which must outlive the receiver.
  static Result<std::unique_ptr<Receiver>> Start(const ReceiverConfig& config, const Clock& clock);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  const std::string& host() const;
  int port() const;  // the bound port (useful with port 0)
  void Stop();       // idempotent, thread-safe
  // Re-reads --sensor-tokens (what SIGHUP does). On error the credentials in force stay and
  // the error says why; requests are served throughout.
  Status ReloadCredentials();

  struct Impl;

 private:
  explicit Receiver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandwatch::receiver
