// Lab assets: our binaries and their libraries staged for containers and the guest,
// the guest kernel (fetched once) and the guest initramfs.
#include <unistd.h>

#include <filesystem>
#include <set>

#include "local/lab.h"
#include "sandwatch/harness/progress.h"

namespace sandwatch::harness::local {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool RootfsHasLib(const std::string& rootfs, const std::string& name) {
  for (const char* d :
       {"/lib/x86_64-linux-gnu/", "/usr/lib/x86_64-linux-gnu/", "/lib64/", "/usr/lib/"}) {
    if (fs::exists(rootfs + d + name)) return true;
  }
  return false;
}

Status Copy(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return MakeError("copy " + from + " -> " + to + ": " + ec.message());
  return OkStatus();
}

}  // namespace

Status Cpio(CommandRunner& r, const std::string& dir, const std::string& what,
            const std::string& out) {
  constexpr const char* kScript =
      R"(set -o pipefail; cd "$1" && find "$2" -print0 | cpio --null -o -H newc -R 0:0 --quiet )"
      R"(> "$3")";
  auto res = r.Run(Cmd({"bash", "-c", kScript, "cpio", dir, what, out}, 300s));
  if (!res.ok()) return res.error();
  if (!res->ok()) return MakeError("cpio of " + dir + "/" + what + " failed: " + res->err);
  return OkStatus();
}

Status Concat(CommandRunner& r, const std::vector<std::string>& parts, const std::string& out) {
  std::vector<std::string> argv = {"bash", "-c", R"(out=$1; shift; cat "$@" > "$out")", "cat", out};
  argv.insert(argv.end(), parts.begin(), parts.end());
  auto res = r.Run(Cmd(argv, 120s));
  if (!res.ok() || !res->ok()) return MakeError("cannot assemble " + out);
  return OkStatus();
}

Status StageBinaries(Lab& lab, const std::string& rootfs, const std::string& dest) {
  fs::create_directories(dest + "/bin");
  fs::create_directories(dest + "/lib");
  fs::create_directories(dest + "/lab");
  std::set<std::string> libs;
  for (const char* name : {"sandwatch-sensor", "sandwatch-attack-sim", "sandwatch-receiver"}) {
    std::string bin = lab.ctx->tools.Path(name);
    if (auto st = Copy(bin, dest + "/bin/" + name); !st.ok()) return st;
    auto ldd = lab.runner->Run(Cmd({"ldd", bin}, 30s));
    if (!ldd.ok() || !ldd->ok()) return MakeError("ldd " + bin + " failed");
    for (const std::string& line : SplitLines(ldd->out)) {
      auto arrow = line.find("=> /");
      if (arrow == std::string::npos) continue;
      std::string path = line.substr(arrow + 3);
      path = path.substr(0, path.find(' '));
      libs.insert(path);
    }
  }
  for (const auto& path : libs) {
    std::string name = fs::path(path).filename().string();
    if (RootfsHasLib(rootfs, name)) continue;  // the rootfs's own copy (same Debian release)
    if (auto st = Copy(fs::canonical(path).string(), dest + "/lib/" + name); !st.ok()) return st;
  }
  std::string busybox = lab.runner->Which("busybox");
  if (!busybox.empty()) {
    if (auto st = Copy(busybox, dest + "/bin/busybox"); !st.ok()) return st;
  }
  for (const char* script : {"pod.sh", "guest-init.sh"}) {
    if (auto st = Copy(lab.paths.lab_scripts + "/" + script, dest + "/lab/" + script); !st.ok())
      return st;
  }
  return OkStatus();
}

Status PrepareQemu(Lab& lab) {
  CommandRunner& r = *lab.runner;
  if (!fs::exists(lab.paths.kernel_dir + "/.sandwatch-kernel")) {
    lab.ctx->progress->Note("fetching Debian's kernel once (apt-get download + dpkg -x)");
    auto res = r.Run(Cmd({lab.paths.lab_scripts + "/fetch-kernel.sh", lab.paths.kernel_dir}, 600s));
    if (!res.ok()) return res.error();
    if (!res->ok()) return MakeError("fetching the kernel failed: " + res->err);
  }
  // The rootfs part of the initramfs is cached next to the rootfs.
  std::string rootfs_cpio = lab.paths.cache_dir + "/rootfs-bookworm.cpio";
  std::error_code ec;
  bool stale = !fs::exists(rootfs_cpio) ||
               fs::last_write_time(rootfs_cpio, ec) <
                   fs::last_write_time(lab.paths.rootfs + "/.sandwatch-rootfs", ec);
  if (stale) {
    lab.ctx->progress->Note("packing the rootfs into the guest initramfs (once)");
    std::string tmp = rootfs_cpio + ".tmp." + std::to_string(getpid());  // concurrent runs
    if (auto st = Cpio(r, lab.paths.rootfs, ".", tmp); !st.ok()) return st;
    fs::rename(tmp, rootfs_cpio, ec);
    if (ec) return MakeError("rename " + tmp + ": " + ec.message());
  }
  // This run's binaries, the kernel module and /init.
  std::string sw = lab.sw_dir;
  fs::create_directories(sw + "/modules");
  if (auto st = Copy(lab.paths.kernel_dir + "/modules/e1000.ko", sw + "/modules/e1000.ko");
      !st.ok())
    return st;
  std::string initroot = lab.ctx->work_dir + "/initroot";
  fs::create_directories(initroot);
  if (auto st = Copy(lab.paths.lab_scripts + "/guest-init.sh", initroot + "/init"); !st.ok())
    return st;
  fs::permissions(initroot + "/init", static_cast<fs::perms>(0755));
  std::string work = lab.ctx->work_dir;
  if (auto st = Cpio(r, work, "sw", work + "/sw.cpio"); !st.ok()) return st;
  if (auto st = Cpio(r, initroot, "init", work + "/init.cpio"); !st.ok()) return st;
  if (!Concat(r, {rootfs_cpio, work + "/sw.cpio", work + "/init.cpio"}, work + "/guest-base.cpio")
           .ok()) {
    return MakeError("cannot assemble the guest initramfs");
  }
  lab.env["guest_kernel"] = ReadText(lab.paths.kernel_dir + "/.sandwatch-kernel");
  return OkStatus();
}

}  // namespace sandwatch::harness::local
