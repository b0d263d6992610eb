// What the sensor process itself may do: capabilities and namespaces, read from
// /proc/self. The capture sources' Probe() uses these to refuse early with a
// one-line reason. One parser (on core/procfs's) plus one I/O function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sandwatch/core/result.h"

namespace sandwatch::sensor {

// The kernel gives the initial namespaces fixed inode numbers
// (include/linux/proc_ns.h: PROC_USER_INIT_INO, PROC_PID_INIT_INO). Unlike NSpid
// or /proc/1/ns/pid, these stay right when /proc was remounted for a private
// PID namespace (`unshare --pid --fork --mount-proc`).
inline constexpr uint64_t kInitUserNsIno = 0xEFFFFFFDU;
inline constexpr uint64_t kInitPidNsIno = 0xEFFFFFFCU;

inline constexpr int kCapNetAdmin = 12;
inline constexpr int kCapSysAdmin = 21;

struct SelfFacts {
  uint64_t cap_eff = 0;
  int nspid_levels = 0;     // entries on the NSpid line (0 when unknown)
  uint64_t pid_ns_ino = 0;  // 0 when unknown
  uint64_t user_ns_ino = 0;

  bool HasCap(int cap) const { return (cap_eff >> cap) & 1U; }
  // True when the sensor is in the initial PID namespace. Uses the namespace
  // inode when known, else NSpid (which undercounts after --mount-proc).
  bool InInitPidNs() const;
  bool InInitUserNs() const;
};

// Parses CapEff and NSpid out of /proc/self/status text. Missing lines leave
// the fields at 0.
void ParseStatusFacts(std::string_view status, SelfFacts* facts);

// Reads /proc/self/status and /proc/self/ns/{pid,user}. Never fails: unknown
// fields stay 0.
SelfFacts ReadSelfFacts();

}  // namespace sandwatch::sensor
