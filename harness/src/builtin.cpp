// Which backends this build has. The kube backend is compiled in when
// harness/src/kube/ defines sandwatch_harness_kube (see harness/CMakeLists.txt).
#include "sandwatch/harness/backend.h"

namespace sandwatch::harness {

void RegisterBuiltinBackends(BackendRegistry& reg) {
  RegisterLocalBackend(reg);
#ifdef SANDWATCH_HARNESS_HAVE_KUBE
  RegisterKubeBackend(reg);
#endif
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
