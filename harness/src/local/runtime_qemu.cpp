// The kata-qemu LOCAL STAND-IN: a qemu-system-x86_64 VM under TCG booting Debian's
// kernel, with the workload and the sensor inside (in a pod-like PID namespace, as a
// Kata sidecar). The isolation boundary (a separate guest kernel) is Kata's; this is
// not Kata. The guest reaches the receiver and the listener on the host's loopback
// through qemu user-mode networking (10.0.2.2).
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "local/lab.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/usage.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/progress.h"

namespace sandwatch::harness::local {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The guest's report on its second serial port: "=== name" sections.
std::map<std::string, std::string> Sections(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string current;
  for (std::string line : SplitLines(text)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("=== ", 0) == 0) {
      current = line.substr(4);
    } else if (!current.empty()) {
      out[current] += line + "\n";
    }
  }
  return out;
}

}  // namespace

Result<CellOutcome> RunQemuCell(Lab& lab, CellRun& c) {
  auto& [out, dir, pod, clock, s, r] = c;
  const Cell& cell = out.cell;
  std::string cell_dir = dir + "/root/sw/cell";
  fs::create_directories(cell_dir);
  std::unique_ptr<ProcessHandle> listener;
  auto port = StartListener(lab, c, s.timeouts.cell_s + s.timeouts.boot_s, &listener);
  if (!port.ok()) return c.Fail(port.error().message);
  const std::string guest_receiver = "http://10.0.2.2:" + std::to_string(lab.receiver_port);
  Status st = WriteFileAtomic(cell_dir + "/cell.env", "SW_HOSTNAME=kata-app\n");
  if (st.ok()) st = CopyLabToken(lab.credentials, "kata-app", cell_dir + "/sensor.token");
  if (st.ok()) {
    st = WritePodFiles(s, cell_dir, "export SW_BIN=/sw/bin\nexport LD_LIBRARY_PATH=/sw/lib\n",
                       SensorArgs(s, guest_receiver, pod, s.sensor.mode, s.sensor.capture,
                                  "/sw/cell/sensor.token"),
                       AttackRunArgs(s, cell, "10.0.2.2:" + std::to_string(*port),
                                     s.attack.package_install, "/tmp/cell/gt.jsonl", true, true));
  }
  if (st.ok()) st = WritePackageDelayHook(s, dir + "/root", out);
  if (!st.ok()) return c.Fail(st.error().message);
  if (!Cpio(r, dir + "/root", ".", dir + "/cell.cpio").ok() ||
      !Concat(r, {lab.ctx->work_dir + "/guest-base.cpio", dir + "/cell.cpio"}, dir + "/initrd.cpio")
           .ok()) {
    return c.Fail("cannot build the cell's initramfs");
  }

  // no_timer_check: under TCG on a loaded host the guest kernel's IO-APIC timer check can
  // fail and panic the boot ("IO-APIC + timer doesn't work!").
  const std::string kernel_args =
      "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=3 no_timer_check";
  const std::string kernel = lab.paths.kernel_dir + "/vmlinuz", initrd = dir + "/initrd.cpio";
  const std::string serial0 = "file:" + dir + "/console.log";
  const std::string serial1 = "file:" + dir + "/guest-out.txt";
  lab.ctx->progress->Note("booting the VM (qemu/TCG, stand-in for kata-qemu)");
  std::vector<std::string> qemu = {
      "qemu-system-x86_64", "-accel",          "tcg",      "-m",   "1024",      "-smp", "1",
      "-nodefaults",        "-no-user-config", "-display", "none", "-no-reboot"};
  qemu.insert(qemu.end(), {"-kernel", kernel, "-initrd", initrd, "-append", kernel_args, "-rtc",
                           "base=utc", "-serial", serial0, "-serial", serial1, "-netdev",
                           "user,id=n0", "-device", "e1000,netdev=n0", "-monitor", "none"});
  auto vm = r.Start(Bg(qemu, dir + "/qemu.log", dir + "/qemu.err"));
  if (!vm.ok()) return c.Fail(vm.error().message);
  ProcessHandle* vm_handle = vm->get();
  // The handle kills and reaps qemu when this function returns, however it returns.
  out.notes.push_back("qemu pid " + std::to_string(vm_handle->Pid()));
  const int64_t boot_start = clock.MonoNs();
  const auto since_boot_s = [&c, boot_start] {
    return static_cast<double>(c.clock.MonoNs() - boot_start) / 1e9;
  };
  const double deadline_s = s.timeouts.boot_s + s.timeouts.cell_s;
  std::set<std::string> noted;
  int64_t peak_rss_kb = 0;
  while (vm_handle->Running()) {
    if (auto usage = procfs::ReadUsage(procfs::ProcFs(), vm_handle->Pid()); usage.ok()) {
      peak_rss_kb = std::max(peak_rss_kb, usage->rss_peak_kib);
    }
    if (Interrupted()) return MakeError("interrupted");
    if (since_boot_s() > deadline_s) {
      vm_handle->Stop(1000ms);
      return c.Fail("the VM did not finish within timeouts.boot + timeouts.cell (see " + dir +
                    "/console.log)");
    }
    std::string console = ReadText(dir + "/console.log");
    for (const char* mark : {"network up", "chain starting", "chain done", "powering off"}) {
      if (console.find(mark) != std::string::npos && noted.insert(mark).second) {
        const double t = since_boot_s();
        lab.ctx->progress->Note(std::string("guest: ") + mark + " (" + Compact(t) +
                                " s after qemu start)");
        if (std::string(mark) == "network up")
          out.notes.push_back("guest network up " + Compact(t) + " s after qemu start");
      }
    }
    std::this_thread::sleep_for(200ms);
  }
  listener->Stop(1000ms);
  const double vm_seconds = since_boot_s();
  out.notes.push_back("qemu ran " + Compact(vm_seconds) + " s, peak RSS " +
                      std::to_string(peak_rss_kb / 1024) + " MB (-m 1024, TCG)");
  auto sections = Sections(ReadText(dir + "/guest-out.txt"));
  (void)WriteFileAtomic(dir + "/guest-sensor.log", sections["sensor.log"]);
  (void)WriteFileAtomic(dir + "/guest-attack.log", sections["attack.log"]);
  (void)WriteFileAtomic(dir + "/guest-ground-truth.jsonl", sections["ground-truth"]);
  ObserverBinding in;
  in.label = "sandwatch-sensor inside the guest, in the pod's PID namespace (as a Kata sidecar)";
  // The host view has no anchor inside the VM: nothing there descends from qemu.
  if (auto ended =
          EndCell(lab, c, in, false, {"qemu-system-x86"}, dir + "/guest-ground-truth.jsonl");
      !ended.ok())
    return c.Fail("ground truth from the guest: " + ended.error().message);
  const std::string rc = FirstLine(sections["attack.rc"]);
  out.ok = rc == "0" && !out.ground_truth.empty();
  if (!out.ok) {
    out.error = "attack-sim in the guest: rc=" + (rc.empty() ? std::string("none") : rc) + " " +
                sections["attack.log"].substr(0, 300);
  }
  out.notes.emplace_back(
      "LOCAL STAND-IN for kata-qemu: qemu/TCG with its own guest kernel, not Kata");
  return out;
}

}  // namespace sandwatch::harness::local
