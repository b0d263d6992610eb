#include "sandwatch/core/ids.h"

#include <unistd.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <random>

namespace sandwatch {

std::string NewUuid() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = 0, lo = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    hi = rng();
    lo = rng();
  }
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  auto put = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) out += hex[(v >> (i * 4)) & 15];
  };
  put(hi >> 32, 8);
  out += '-';
  put((hi >> 16) & 0xFFFF, 4);
  out += '-';
  put(hi & 0xFFFF, 4);
  out += '-';
  put(lo >> 48, 4);
  out += '-';
  put(lo & 0xFFFFFFFFFFFFULL, 12);
  return out;
}

std::string Hostname() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

const char* Version() { return SANDWATCH_VERSION; }

}  // namespace sandwatch
