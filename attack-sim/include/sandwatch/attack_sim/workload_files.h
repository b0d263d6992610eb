// Files new-binary drops into the workload after start-up.
#pragma once

#include <string>

#include "sandwatch/core/result.h"

namespace sandwatch::attacksim {

// Writes DIR/sw-newbin-XXXXXX (mode 0755): a copy of cat, or (script) a #!/bin/sh script
// that reads one line from stdin. Returns its path. The caller deletes it (--cleanup).
Result<std::string> DropFile(const std::string& dir, bool script);

}  // namespace sandwatch::attacksim
