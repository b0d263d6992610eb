// The local backend: runs cells on this machine (host, runc, qemu stand-in).
#include <memory>

#include "sandwatch/harness/backend.h"

namespace sandwatch::harness {

namespace {
class LocalBackend : public Backend {
 public:
  explicit LocalBackend(CommandRunner& runner) : runner_(runner) {}
  std::string_view Name() const override { return "local"; }
  std::vector<DoctorCheck> Doctor(const std::vector<std::string>&) override { return {}; }
  Status Prepare(RunContext&) override { return MakeError("local backend: work in progress"); }
  std::string ReceiverUrl() const override { return ""; }
  Result<CellOutcome> RunCell(RunContext&, const Cell&) override {
    return MakeError("local backend: work in progress");
  }
  std::map<std::string, std::string> Environment() override { return {}; }
  void Finish(RunContext&) override {}

 private:
  CommandRunner& runner_;
};
}  // namespace

void RegisterLocalBackend(BackendRegistry& reg) {
  reg.Register("local", [](CommandRunner& r) { return std::make_unique<LocalBackend>(r); });
}

}  // namespace sandwatch::harness
