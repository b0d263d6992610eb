// The key under which the store finds an event id: SipHash-2-4 of the id with a random
// key kept in the store. Event ids are attacker-written; with a secret key a sender cannot
// choose ids that share a hash, so a lookup by hash meets another id only by chance
// (one in 2^64 per pair), and the id text is compared on every hash hit.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "sandwatch/core/result.h"

namespace sandwatch::receiver {

using IdHashKey = std::array<uint8_t, 16>;

uint64_t SipHash24(const IdHashKey& key, std::string_view data);

// The id's key as stored (an SQLite INTEGER). `mask` keeps fewer bits: tests use it to
// force collisions; the receiver keeps all 64.
inline int64_t IdHash(const IdHashKey& key, std::string_view id, uint64_t mask) {
  return static_cast<int64_t>(SipHash24(key, id) & mask);
}

// 16 bytes from getrandom(2).
Result<IdHashKey> NewIdHashKey();

}  // namespace sandwatch::receiver
