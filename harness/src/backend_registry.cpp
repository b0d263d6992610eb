#include <utility>

#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/format.h"

namespace sandwatch::harness {

void BackendRegistry::Register(std::string name, BackendFactory factory) {
  factories_[std::move(name)] = std::move(factory);
}

Result<std::unique_ptr<Backend>> BackendRegistry::Create(std::string_view name,
                                                         CommandRunner& runner) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    return MakeError("unknown backend '" + std::string(name) +
                     "' (this build has: " + Join(Names(), ", ") + ")");
  }
  return it->second(runner);
}

std::vector<std::string> BackendRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : factories_) out.push_back(n);
  return out;
}

}  // namespace sandwatch::harness
