// `harness doctor --backend local`: what the local lab needs, and how to get it.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "local/lab.h"
#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/vantage.h"

namespace sandwatch::harness::local {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// `name` on PATH; with `version`, the first line of `name --version` too.
DoctorCheck Tool(CommandRunner& r, const std::string& name, bool version, const std::string& fix,
                 bool required = true) {
  std::string path = r.Which(name);
  if (!path.empty() && version) {
    auto v = r.Run(Cmd({name, "--version"}, 10s));
    if (v.ok()) path += ": " + FirstLine(v->out.empty() ? v->err : v->out);
  }
  return {name, !path.empty(), required, path.empty() ? "not found in PATH" : path, fix};
}

}  // namespace

std::vector<DoctorCheck> LocalDoctor(CommandRunner& r, const std::vector<std::string>& runtimes_in,
                                     const std::string& bin_dir) {
  std::vector<std::string> runtimes = runtimes_in;
  if (runtimes.empty()) runtimes = {"host", "runc", "kata-qemu"};
  auto wants = [&](const char* rt) { return std::count(runtimes.begin(), runtimes.end(), rt) > 0; };
  bool vm = wants("kata-qemu");
  bool runc = wants("runc");
  LabPaths p = ResolveLabPaths();
  std::vector<DoctorCheck> checks;
  bool root = geteuid() == 0;
  checks.push_back({"root", root, runc || vm,
                    root ? "running as root" : "not root (uid " + std::to_string(geteuid()) + ")",
                    "run the harness with sudo: runc, mounts, unshare and the host-view sensor's "
                    "netlink/fanotify need root"});
  for (const char* b : {"sandwatch-sensor", "sandwatch-receiver", "sandwatch-attack-sim"}) {
    std::string path = bin_dir + "/" + b;
    bool ok = access(path.c_str(), X_OK) == 0;
    checks.push_back(
        {b, ok, true, ok ? path : path + " missing",
         "make build (or cmake --build build --target " + std::string(b) + "), or pass --bin-dir"});
  }
  checks.push_back(Tool(r, "unshare", false, "apt-get install util-linux", false));
  if (runc || vm) {
    checks.push_back(Tool(r, "debootstrap", true, "apt-get install debootstrap"));
    bool rootfs = fs::exists(p.rootfs + "/.sandwatch-rootfs");
    checks.push_back(
        {"rootfs cache", rootfs, false,
         rootfs ? p.rootfs : p.rootfs + " not built yet (built on the first run, about 1 min)",
         "harness/lab/build-rootfs.sh " + p.rootfs + " " + p.debs_dir});
    bool deb = false;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(p.debs_dir, ec)) {
      deb = deb || e.path().filename().string().rfind("ncat_", 0) == 0;
    }
    checks.push_back(
        {"ncat .deb", deb, true, deb ? p.debs_dir : "no ncat_*.deb in " + p.debs_dir,
         "mkdir -p " + p.debs_dir + " && cd " + p.debs_dir + " && apt-get download ncat"});
  }
  if (runc) {
    checks.push_back(Tool(r, "runc", true, "apt-get install runc"));
    checks.push_back(Tool(r, "mount", false, "apt-get install mount"));
  }
  if (vm) {
    checks.push_back(Tool(r, "qemu-system-x86_64", true, "apt-get install qemu-system-x86"));
    checks.push_back(Tool(r, "cpio", false, "apt-get install cpio"));
    checks.push_back(Tool(r, "busybox", false, "apt-get install busybox (the guest's ip command)"));
    bool kernel = fs::exists(p.kernel_dir + "/.sandwatch-kernel");
    checks.push_back(
        {"guest kernel", kernel, false,
         kernel
             ? p.kernel_dir + " (" + FirstLine(ReadText(p.kernel_dir + "/.sandwatch-kernel")) + ")"
             : p.kernel_dir + " not fetched yet (fetched on the first run, a few seconds)",
         "harness/lab/fetch-kernel.sh " + p.kernel_dir +
             " (apt-get download linux-image-6.1.0-N-amd64 + dpkg -x; never installed)"});
    bool kvm = access("/dev/kvm", R_OK | W_OK) == 0;
    checks.push_back({"/dev/kvm", kvm, false,
                      kvm ? "present (not used: the lab runs qemu under TCG for a portable result)"
                          : "absent (not needed: the lab runs qemu under TCG)",
                      ""});
  }
  // Leftovers of a harness that was killed with SIGKILL (anything else cleans up itself).
  {
    std::string stale;
    std::string fix;
    if (!r.Which("runc").empty()) {
      auto list = r.Run(Cmd({"runc", "list", "-q"}, 10s));
      for (const std::string& id : SplitLines(list.ok() ? list->out : "")) {
        if (id.rfind("sw-", 0) != 0) continue;
        int owner = std::atoi(id.c_str() + 3);
        if (owner > 0 && ::kill(owner, 0) == 0) continue;  // its harness is still running
        stale += id + " ";
        fix += "runc delete -f " + id + "; ";
      }
    }
    auto mountinfo = procfs::ProcFs("/proc").ReadPidFile(getpid(), "mountinfo");
    for (const std::string& mnt : procfs::ParseMountPoints(mountinfo.ok() ? *mountinfo : "")) {
      if (mnt.find("/sandwatch-run-") == std::string::npos) continue;
      stale += mnt + " ";
      fix += "umount -l " + mnt + "; ";
    }
    checks.push_back(
        {"leftovers", stale.empty(), false,
         stale.empty() ? "no container or mount left by an earlier run" : "left behind: " + stale,
         fix});
  }
  DoctorCheck falco =
      Tool(r, "falco", true,
           "optional, for the falco observer: get Falco from falcosecurity's packages "
           "(https://falco.org/docs/setup/packages/: deb/rpm, then `falco` in PATH) or run it on a "
           "cluster with the falcosecurity/falco Helm chart; the harness starts it itself (root, "
           "modern eBPF, needs /sys/kernel/btf/vmlinux), or pass --falco PATH",
           false);
  if (!falco.ok) {
    falco.detail = "not installed: the falco observer is reported as absent, never faked";
  } else if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    falco.ok = false;
    falco.detail +=
        " (but this kernel has no /sys/kernel/btf/vmlinux: the modern eBPF engine "
        "cannot load)";
  }
  checks.push_back(falco);
  // What a sensor started here can use, and what a pod sidecar without privileges can.
  const std::string results = ResolveSourceDir() + "/results";
  checks.push_back(VantageCheck("sensor vantage here (node)", AutoCapture(ProbeVantage(), "node"),
                                "node", results));
  checks.push_back(VantageCheck("sensor vantage in a pod sidecar without privileges", "inotify",
                                "sidecar", results));
  return checks;
}

}  // namespace sandwatch::harness::local
