// Package state, so that --cleanup undoes only what this run installed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::attacksim {

// package name -> dpkg status word ("installed", "unpacked", "config-files", ...).
using PackageStates = std::map<std::string, std::string>;

// Parses `dpkg-query -W -f '${Package}\t${db:Status-Status}\n'` output. Pure.
PackageStates ParsePackageStates(const std::string& dpkg_query_output);
// Runs dpkg-query. Error when dpkg is not there (non-Debian workload).
Result<PackageStates> SnapshotPackages();
// Packages present (in any state but not-installed/config-files) after but not before.
std::vector<std::string> NewlyInstalled(const PackageStates& before, const PackageStates& after);

// Waits (up to timeout_s) while another process holds dpkg's frontend lock, so a
// concurrent apt/dpkg does not turn our install into "dpkg frontend lock is locked".
// True when the lock is free (or there is no dpkg here).
bool WaitForDpkgLock(double timeout_s, const std::string& lock = "/var/lib/dpkg/lock-frontend");

// The staged .deb: `explicit_path` if given, else the newest
// /var/cache/sandwatch/debs/<package>_*.deb. Error says where it looked.
Result<std::string> FindStagedDeb(const std::string& package, const std::string& explicit_path,
                                  const std::string& cache_dir = "/var/cache/sandwatch/debs");

}  // namespace sandwatch::attacksim
