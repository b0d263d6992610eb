// Which backends this binary has: local and kube. A new backend is registered here.
#include "sandwatch/harness/backend.h"

namespace sandwatch::harness {

void RegisterBuiltinBackends(BackendRegistry& reg) {
  RegisterLocalBackend(reg);
  RegisterKubeBackend(reg);
}

BackendRegistry& DefaultBackends() {
  static BackendRegistry* reg = [] {
    auto* r = new BackendRegistry();
    RegisterBuiltinBackends(*r);
    return r;
  }();
  return *reg;
}

}  // namespace sandwatch::harness
