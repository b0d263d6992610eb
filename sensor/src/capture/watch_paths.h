// The paths the event-driven sources watch, relative to the workload's root:
// sensitive files (credential stores), binary directories and drop directories.
#pragma once

#include <string>
#include <vector>

#include "sandwatch/core/procfs/proc_fs.h"

namespace sandwatch::sensor {

// Credential files a `shadow_file_access` / `aws_credential_discovery` style
// rule cares about. "~" expands to /root and every /home/* found under the root.
const std::vector<std::string>& DefaultSensitivePatterns();

// /bin /usr/bin /sbin /usr/sbin /usr/local/bin /usr/local/sbin.
const std::vector<std::string>& DefaultBinDirs();

// Shared-library directories: a dynamically linked process opens its libraries
// from here right after its exec, while it is alive (/lib /lib64 /usr/lib
// /usr/lib64 /usr/local/lib and the multiarch /usr/lib/x86_64-linux-gnu,
// /usr/lib/aarch64-linux-gnu).
const std::vector<std::string>& DefaultLibDirs();

// Writable places where a dropped binary lands: /tmp /var/tmp /dev/shm.
const std::vector<std::string>& DefaultDropDirs();

// Expands `patterns` ("~" -> home dirs) under `root` and keeps those that exist.
// Home dirs: /root, every /home/*, the home of every /etc/passwd entry under the
// root (system dirs such as /nonexistent or /usr/sbin skipped), and `extra_homes`
// (HOME of the workload's processes, see WorkloadHomes).
// Returns paths relative to the workload (starting with "/"), sorted, unique.
std::vector<std::string> ExistingUnderRoot(const std::string& root,
                                           const std::vector<std::string>& patterns,
                                           const std::vector<std::string>& extra_homes = {});

// The HOME values in the environment of the processes under `fs` (the first
// `max_processes` pids), sorted and unique: a workload run with HOME=/app/data keeps
// its ~/.aws there.
std::vector<std::string> WorkloadHomes(const procfs::ProcFs& fs, size_t max_processes = 4096);

}  // namespace sandwatch::sensor
