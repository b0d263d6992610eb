#include "sandwatch/core/signals.h"

#include <algorithm>

namespace sandwatch::signals {

bool IsSeedSignal(std::string_view name) {
  return std::find(kSeedSignals.begin(), kSeedSignals.end(), name) != kSeedSignals.end();
}

}  // namespace sandwatch::signals
