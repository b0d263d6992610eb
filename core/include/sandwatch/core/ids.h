// Identifiers: random uuid v4 strings and hostnames.
#pragma once

#include <string>

namespace sandwatch {

// A random RFC 4122 version-4 uuid, lower-case. Thread-safe.
std::string NewUuid();

// gethostname(2), or "unknown".
std::string Hostname();

// The project version, e.g. "0.1.0".
const char* Version();

}  // namespace sandwatch
