// `doctor --backend kube`, the checks below the cluster API: the tools `make kind-up`
// needs on this machine, and what a kind node needs for Kata and Falco (/dev/kvm, a
// /dev/shm that holds a Kata VM's RAM, BTF, kata-deploy's ready label, our images). A kind
// node is a container named like the node, so these run `docker|podman exec NODE ...`
// through the same CommandRunner as kubectl.
#include <charconv>
#include <sstream>

#include "kube_internal.h"

namespace sandwatch::harness::kube {
namespace {

using std::chrono::seconds;

constexpr int kDefaultKataMemoryMib = 2048;  // default_memory in Kata's configuration-qemu.toml
constexpr const char* kKataConfig =
    "/opt/kata/share/defaults/kata-containers/configuration-qemu.toml";

// The first integer after `key` and an '=' in `text` ("default_memory = 2048"); -1 if none.
long IntAfter(const std::string& text, const std::string& key) {
  const size_t k = text.find(key);
  if (k == std::string::npos) return -1;
  size_t p = text.find('=', k);
  if (p == std::string::npos) return -1;
  p = text.find_first_of("0123456789", p);
  if (p == std::string::npos) return -1;
  long v = -1;
  std::from_chars(text.data() + p, text.data() + text.size(), v);
  return v;
}

Result<CommandResult> Host(Kubectl& k, std::vector<std::string> argv) {
  return k.runner().Run(Cmd(std::move(argv), seconds(30)));
}

bool HostOk(Kubectl& k, std::vector<std::string> argv) {
  auto r = Host(k, std::move(argv));
  return r.ok() && r->ok();
}

}  // namespace

std::string DetectContainerEngine(Kubectl& k) {
  const std::string& configured = k.config().container_engine;
  if (!configured.empty()) return configured;
  // kind-up's rule: docker when its daemon answers, else podman.
  if (!k.runner().Which("docker").empty() && HostOk(k, {"docker", "info", "--format", "ok"})) {
    return "docker";
  }
  if (!k.runner().Which("podman").empty()) return "podman";
  return "";
}

std::vector<DoctorCheck> KubeToolChecks(Kubectl& k, const std::string& engine) {
  std::vector<DoctorCheck> out;
  for (const auto& [tool, url] : std::vector<std::pair<std::string, std::string>>{
           {"kind", "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"},
           {"helm", "https://helm.sh/docs/intro/install/"}}) {
    DoctorCheck c = Check(tool, false, "install " + tool + " (make kind-up needs it): " + url);
    const std::string path = k.runner().Which(tool);
    c.ok = !path.empty();
    c.detail = c.ok ? path : tool + " not found on PATH";
    out.push_back(c);
  }
  DoctorCheck store = Check("image store", false,
                            "install Docker Engine or podman; make kind-up loads the images with "
                            "ENGINE save + kind load image-archive");
  if (engine.empty()) {
    store.detail = "no docker daemon and no podman";
  } else if (engine == "docker") {
    auto info = Host(k, {"docker", "info", "--format", "{{json .DriverStatus}}"});
    const bool containerd_store =
        info.ok() && info->out.find("io.containerd.snapshotter") != std::string::npos;
    store.ok = true;
    store.detail = std::string("docker, ") +
                   (containerd_store ? "containerd image store (kind load docker-image cannot "
                                       "read it; make kind-up uses docker save + kind load "
                                       "image-archive)"
                                     : "classic image store");
  } else {
    store.ok = true;
    store.detail = engine + " (images go through " + engine + " save + kind load image-archive)";
  }
  out.push_back(store);
  return out;
}

std::vector<DoctorCheck> KubeNodeChecks(Kubectl& k, const std::string& engine, bool want_kata) {
  const KubeConfig& cfg = k.config();
  std::vector<DoctorCheck> out;
  auto names = k.JsonPath("", "nodes", "", "{.items[*].metadata.name}", seconds(30));
  const std::string node = names.ok() ? FirstWord(*names) : "";
  const std::string exec_prefix = engine + " exec " + node;

  DoctorCheck label = Check("Kata ready on the node", want_kata,
                            "make kind-up (waits for it); else kubectl -n kube-system logs -l "
                            "name=kata-deploy (containerd restart, /opt/kata)");
  auto labelled = k.RunIn(
      "", {"get", "nodes", "-l", "katacontainers.io/kata-runtime=true", "-o", "name"}, seconds(30));
  label.ok = labelled.ok() && !FirstWord(*labelled).empty();
  label.detail = label.ok ? FirstWord(*labelled) + " has katacontainers.io/kata-runtime=true"
                          : "no node has the label katacontainers.io/kata-runtime=true "
                            "(kata-deploy has not finished)";
  out.push_back(label);

  if (engine.empty() || node.empty()) {
    DoctorCheck c =
        Check("kind node", false,
              "run doctor on the machine that runs the kind cluster (docker or podman)");
    c.detail = "cannot look inside the node (" +
               (engine.empty() ? std::string("no container engine") : "no node name") +
               "): /dev/shm, /dev/kvm and BTF not checked";
    out.push_back(c);
    return out;
  }
  auto in_node = [&](std::vector<std::string> argv) {
    std::vector<std::string> full = {engine, "exec", node};
    full.insert(full.end(), argv.begin(), argv.end());
    return Host(k, full);
  };

  DoctorCheck kvm = Check("/dev/kvm in the node", want_kata,
                          "on the host: sudo modprobe kvm_intel (or kvm_amd); kind-config.yaml "
                          "mounts /dev/kvm only when the cluster is created: make kind-down "
                          "kind-up");
  auto kvm_r = in_node({"test", "-c", "/dev/kvm"});
  kvm.ok = kvm_r.ok() && kvm_r->ok();
  kvm.detail = kvm.ok
                   ? "character device in " + node
                   : "not a device in " + node + (kvm_r.ok() ? "" : ": " + kvm_r.error().message);
  out.push_back(kvm);

  // Kata's qemu keeps the guest's whole RAM in a file on /dev/shm: a VM whose
  // default_memory does not fit there never starts.
  long mem = kDefaultKataMemoryMib;
  std::string mem_from = "Kata's default";
  if (auto conf = in_node({"grep", "-E", "^default_memory", kKataConfig});
      conf.ok() && conf->ok()) {
    if (const long v = IntAfter(conf->out, "default_memory"); v > 0) {
      mem = v;
      mem_from = kKataConfig;
    }
  }
  DoctorCheck shm = Check("/dev/shm vs Kata memory", want_kata,
                          exec_prefix +
                              " mount -o remount,size=4608m /dev/shm (make kind-up does "
                              "this; a restarted node is back to 64 MiB)");
  auto df = in_node({"df", "-Pm", "/dev/shm"});
  long shm_mib = -1;
  if (df.ok() && df->ok()) {
    std::istringstream lines(df->out);
    std::string line;
    std::getline(lines, line);  // header
    if (std::getline(lines, line)) {
      std::istringstream f(line);
      std::string fs;
      f >> fs >> shm_mib;
    }
  }
  shm.ok = shm_mib >= mem;
  shm.detail = (shm_mib < 0 ? std::string("cannot read /dev/shm's size in ") + node
                            : "/dev/shm " + std::to_string(shm_mib) + " MiB in " + node) +
               ", Kata default_memory " + std::to_string(mem) + " MiB (" + mem_from + ")" +
               (shm.ok ? "" : ": kata-qemu VMs cannot start");
  out.push_back(shm);

  DoctorCheck btf = Check("BTF for Falco", false,
                          "boot a kernel with CONFIG_DEBUG_INFO_BTF=y, or set driver.kind: kmod in "
                          "kind-cluster/falco-values.yaml");
  auto btf_r = in_node({"test", "-e", "/sys/kernel/btf/vmlinux"});
  btf.ok = btf_r.ok() && btf_r->ok();
  btf.detail = btf.ok ? "/sys/kernel/btf/vmlinux present: Falco's modern eBPF driver can load"
                      : "/sys/kernel/btf/vmlinux missing: Falco's modern eBPF driver cannot load";
  out.push_back(btf);

  DoctorCheck images = Check("images in the node", true,
                             "make kind-up (" + engine + " save + kind load image-archive)");
  auto listed = in_node({"crictl", "images", "-q", cfg.workload_image});
  images.ok = listed.ok() && listed->ok() && !FirstWord(listed->out).empty();
  images.detail = cfg.workload_image + (images.ok ? " loaded in " : " not loaded in ") + node;
  out.push_back(images);
  return out;
}

}  // namespace sandwatch::harness::kube
