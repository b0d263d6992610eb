// Which backends this binary has: local and kube. A new backend is registered here.
#include "sandwatch/harness/backend.h"

namespace sandwatch::harness {

BackendRegistry& DefaultBackends() {
  static BackendRegistry* reg = [] {
    auto* r = new BackendRegistry();
    RegisterLocalBackend(*r);
    RegisterKubeBackend(*r);
    return r;
  }();
  return *reg;
}

}  // namespace sandwatch::harness
