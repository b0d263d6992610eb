// SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104) for sealing the sensor's state files.
// Small and dependency-free: the sensor does not link OpenSSL (see docs/performance.md).
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sandwatch::sensor::state {

using Digest = std::array<uint8_t, 32>;

Digest Sha256(std::string_view data);
Digest HmacSha256(std::string_view key, std::string_view data);
std::string ToHex(const Digest& d);
// Compares without an early exit, so the time taken does not say where they differ.
bool SameDigestHex(std::string_view a, std::string_view b);

}  // namespace sandwatch::sensor::state
