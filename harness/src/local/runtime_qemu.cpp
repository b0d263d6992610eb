// The kata-qemu LOCAL STAND-IN: a qemu-system-x86_64 VM under TCG booting Debian's
// kernel, with the workload and the sensor inside (in a pod-like PID namespace, as a
// Kata sidecar). The isolation boundary (a separate guest kernel) is Kata's; this is
// not Kata. The guest reaches the receiver and the listener on the host's loopback
// through qemu user-mode networking (10.0.2.2).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "local/lab.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/progress.h"
#include "sandwatch/harness/receiver_client.h"

namespace sandwatch::harness::local {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The guest's report on its second serial port: "=== name" sections.
std::map<std::string, std::string> Sections(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string current;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("=== ", 0) == 0) {
      current = line.substr(4);
      continue;
    }
    if (!current.empty()) out[current] += line + "\n";
  }
  return out;
}

Result<CellOutcome> RunQemuCell(Lab& lab, CellRun& c) {
  const Scenario& s = *lab.ctx->scenario;
  CommandRunner& r = *lab.runner;
  auto& [out, dir, pod, clock_of_cell] = c;
  const Clock& clock = *clock_of_cell;
  const Cell& cell = out.cell;
  std::string cell_dir = dir + "/root/sw/cell";
  fs::create_directories(cell_dir);
  auto port = PickFreeLoopbackPort();
  if (!port.ok()) return c.Fail(port.error().message);
  std::string guest_receiver = "http://10.0.2.2:" + std::to_string(lab.receiver_port);
  double ready_wait = std::max(2.0, s.sensor.poll_interval_s) + 1.0;
  Status st = WriteFileAtomic(cell_dir + "/cell.env", "SW_HOSTNAME=kata-app\n");
  if (st.ok()) {
    st = WriteFileAtomic(cell_dir + "/pod.env",
                         "export SW_BIN=/sw/bin\nexport LD_LIBRARY_PATH=/sw/lib\n"
                         "SW_READY_WAIT=" +
                             Num(ready_wait) + "\nSW_SETTLE=" + Num(s.SettleSeconds()) + "\n");
  }
  if (st.ok()) {
    st = WriteArgs(cell_dir + "/sensor.args",
                   SensorArgs(s, guest_receiver, pod, s.sensor.mode, s.sensor.capture,
                              "/sw/credentials/kata-app.token"));
  }
  if (st.ok()) {
    st = WriteArgs(cell_dir + "/attack.args",
                   AttackArgs(s, cell, "10.0.2.2:" + std::to_string(*port),
                              s.attack.package_install, "/tmp/cell/gt.jsonl", true));
  }
  if (st.ok()) st = WritePackageDelayHook(s, dir + "/root");
  if (!st.ok()) return c.Fail(st.error().message);
  if (s.attack.package_delay_ms > 0) {
    out.notes.push_back("dpkg pre-invoke hook sleeps " + std::to_string(s.attack.package_delay_ms) +
                        " ms (stands in for the blog's network fetch)");
  }
  const std::string pack =
      "set -o pipefail; cd \"$1\" && find . -print0 | cpio --null -o -H newc "
      "-R 0:0 --quiet > \"$2\" && cat \"$3\" \"$2\" > \"$4\"";
  auto cpio = r.Run(Cmd({"bash", "-c", pack, "cpio", dir + "/root", dir + "/cell.cpio",
                         lab.ctx->work_dir + "/guest-base.cpio", dir + "/initrd.cpio"},
                        120s));
  if (!cpio.ok() || !cpio->ok()) return c.Fail("cannot build the cell's initramfs");

  auto listener = r.Start(Bg(ListenerArgs(lab, cell, *port, s.timeouts.cell_s + s.timeouts.boot_s,
                                          dir + "/listener.jsonl"),
                             "", dir + "/listener.log"));
  if (!listener.ok()) return c.Fail(listener.error().message);
  WaitForTcp(*port, 10);
  // no_timer_check: under TCG on a loaded host the guest kernel's IO-APIC timer check can
  // fail and panic the boot ("IO-APIC + timer doesn't work!").
  const std::string kernel_args =
      "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=3 no_timer_check";
  std::vector<std::string> qemu = {"qemu-system-x86_64",
                                   "-accel",
                                   "tcg",
                                   "-m",
                                   "1024",
                                   "-smp",
                                   "1",
                                   "-nodefaults",
                                   "-no-user-config",
                                   "-display",
                                   "none",
                                   "-no-reboot",
                                   "-kernel",
                                   lab.paths.kernel_dir + "/vmlinuz",
                                   "-initrd",
                                   dir + "/initrd.cpio",
                                   "-append",
                                   kernel_args,
                                   "-rtc",
                                   "base=utc",
                                   "-serial",
                                   "file:" + dir + "/console.log",
                                   "-serial",
                                   "file:" + dir + "/guest-out.txt",
                                   "-netdev",
                                   "user,id=n0",
                                   "-device",
                                   "e1000,netdev=n0",
                                   "-monitor",
                                   "none"};
  lab.ctx->progress->Note("booting the VM (qemu/TCG, stand-in for kata-qemu)");
  auto vm = r.Start(Bg(qemu, dir + "/qemu.log", dir + "/qemu.err"));
  if (!vm.ok()) return c.Fail(vm.error().message);
  ProcessHandle* vm_handle = vm->get();
  // The handle kills and reaps qemu when this function returns, however it returns.
  out.notes.push_back("qemu pid " + std::to_string(vm_handle->Pid()));
  const int64_t boot_start = clock.MonoNs();
  const auto since_boot_s = [&] { return static_cast<double>(clock.MonoNs() - boot_start) / 1e9; };
  const double deadline_s = s.timeouts.boot_s + s.timeouts.cell_s;
  std::set<std::string> noted;
  long peak_rss_kb = 0;
  while (vm_handle->Running()) {
    std::string status = ReadText("/proc/" + std::to_string(vm_handle->Pid()) + "/status");
    if (auto at = status.find("VmHWM:"); at != std::string::npos) {
      peak_rss_kb = std::max(peak_rss_kb, std::atol(status.c_str() + at + 6));
    }
    if (Interrupted()) return MakeError("interrupted");
    if (since_boot_s() > deadline_s) {
      vm_handle->Stop(1000ms);
      return c.Fail("the VM did not finish within timeouts.boot + timeouts.cell (see " + dir +
                    "/console.log)");
    }
    std::string console = ReadText(dir + "/console.log");
    for (const char* mark : {"network up", "chain starting", "chain done", "powering off"}) {
      if (noted.count(mark) == 0 && console.find(mark) != std::string::npos) {
        noted.insert(mark);
        const double t = since_boot_s();
        lab.ctx->progress->Note(std::string("guest: ") + mark + " (" + Num(t) +
                                " s after qemu start)");
        if (std::string(mark) == "network up")
          out.notes.push_back("guest network up " + Num(t) + " s after qemu start");
      }
    }
    std::this_thread::sleep_for(200ms);
  }
  (*listener)->Stop(1000ms);
  const double vm_seconds = since_boot_s();
  out.notes.push_back("qemu ran " + Num(vm_seconds) + " s, peak RSS " +
                      std::to_string(peak_rss_kb / 1024) + " MB (-m 1024, TCG)");
  std::string capture = SensorCapture(lab.receiver_url, pod);
  auto sections = Sections(ReadText(dir + "/guest-out.txt"));
  (void)WriteFileAtomic(dir + "/guest-sensor.log", sections["sensor.log"]);
  (void)WriteFileAtomic(dir + "/guest-attack.log", sections["attack.log"]);
  auto gt = ParseGroundTruthText(sections["ground-truth"] + ReadText(dir + "/listener.jsonl"));
  ObserverBinding in;
  in.label = "sandwatch-sensor inside the guest, in the pod's PID namespace (as a Kata sidecar)";
  // The host view has no anchor inside the VM: nothing there descends from qemu.
  if (auto ended = EndCell(lab, c, in, capture, false, {"qemu-system-x86"}, std::move(gt));
      !ended.ok())
    return c.Fail("ground truth from the guest: " + ended.error().message);
  std::string rc = sections["attack.rc"];
  while (!rc.empty() && (rc.back() == '\n' || rc.back() == ' ')) rc.pop_back();
  out.ok = rc == "0" && !out.ground_truth.empty();
  if (!out.ok) {
    out.error = "attack-sim in the guest: rc=" + (rc.empty() ? std::string("none") : rc) + " " +
                sections["attack.log"].substr(0, 300);
  }
  out.notes.emplace_back(
      "LOCAL STAND-IN for kata-qemu: qemu/TCG with its own guest kernel, not Kata");
  return out;
}

}  // namespace

const Runtime& QemuRuntime() {
  static const Runtime runtime{"kata-qemu", "kata-app", RunQemuCell};
  return runtime;
}

}  // namespace sandwatch::harness::local
