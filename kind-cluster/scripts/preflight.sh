#!/usr/bin/env bash
# Checks that this machine can run the sandwatch kind cluster with Kata, before anything
# is created. Every failed check prints what is wrong and the FIX; nothing is changed.
#
# Usage: kind-cluster/scripts/preflight.sh
# Checks: /dev/kvm, the kvm module and nested virtualisation, the vhost_net and
# vhost_vsock modules, BTF (/sys/kernel/btf/vmlinux, for Falco's modern eBPF driver), the
# planned node /dev/shm against Kata's default_memory and the memory to back it, a
# container engine, and the versions of kind, kubectl and helm.
# Environment (tests point these at fixture trees): SYSFS_ROOT (/sys), DEV_ROOT (/dev),
# PROC_ROOT (/proc). Exit 0 when every check passed, 1 otherwise.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
handle_args "$@"

SYSFS="${SYSFS_ROOT:-/sys}"
DEV="${DEV_ROOT:-/dev}"
PROC="${PROC_ROOT:-/proc}"
MIN_KIND=0.20.0
MIN_KUBECTL=1.27.0
MIN_HELM=3.8.0   # OCI charts (kata-deploy) need helm >= 3.8

failures=0
ok() { printf 'ok    %s\n' "$1"; }
warn() { printf 'warn  %s\n      note: %s\n' "$1" "$2"; }
bad() {
  printf 'FAIL  %s\n      FIX: %s\n' "$1" "$2"
  failures=$((failures + 1))
}

# /dev/kvm: Kata's qemu needs hardware virtualisation.
if [ -c "$DEV/kvm" ] || { [ -n "${DEV_ROOT:-}" ] && [ -e "$DEV/kvm" ]; }; then
  ok "/dev/kvm present"
else
  bad "/dev/kvm missing: Kata cannot start VMs" \
    "enable VT-x/AMD-V in the firmware, then: sudo modprobe kvm_intel (or kvm_amd)"
fi

# The kvm vendor module and its nested parameter.
kvm_mod=""
for m in kvm_intel kvm_amd; do
  if [ -d "$SYSFS/module/$m" ]; then kvm_mod="$m"; break; fi
done
in_vm=0
if grep -qw hypervisor "$PROC/cpuinfo" 2>/dev/null; then in_vm=1; fi
has_vmx=0
if grep -qwE 'vmx|svm' "$PROC/cpuinfo" 2>/dev/null; then has_vmx=1; fi
if [ -z "$kvm_mod" ]; then
  if [ "$in_vm" -eq 1 ] && [ "$has_vmx" -eq 0 ]; then
    bad "this machine is a VM without nested virtualisation (no vmx/svm flag in $PROC/cpuinfo)" \
      "on the outer host: echo 'options kvm_intel nested=1' | sudo tee /etc/modprobe.d/kvm-nested.conf, reload kvm_intel, and give this VM host-passthrough CPU; or use a bare-metal laptop"
  else
    bad "no kvm_intel or kvm_amd module loaded (nothing under $SYSFS/module/kvm_{intel,amd})" \
      "sudo modprobe kvm_intel   (AMD: sudo modprobe kvm_amd)"
  fi
else
  nested="$(cat "$SYSFS/module/$kvm_mod/parameters/nested" 2>/dev/null || echo unknown)"
  case "$nested" in
    Y|y|1) ok "$kvm_mod loaded, nested virtualisation enabled" ;;
    *)
      if [ "$in_vm" -eq 1 ]; then
        bad "$kvm_mod nested=$nested inside a VM: Kata VMs would be nested and cannot start" \
          "echo 'options $kvm_mod nested=1' | sudo tee /etc/modprobe.d/kvm-nested.conf && sudo modprobe -r $kvm_mod && sudo modprobe $kvm_mod (on the outer host too)"
      else
        warn "$kvm_mod loaded, nested=$nested (bare metal: Kata VMs are first-level, so this is fine)" \
          "to enable anyway: echo 'options $kvm_mod nested=1' | sudo tee /etc/modprobe.d/kvm-nested.conf"
      fi
      ;;
  esac
fi

# vhost: the kata agent talks over vhost-vsock; vhost-net carries the VM's network.
for m in vhost_net vhost_vsock; do
  node="${m/_/-}"
  if [ -d "$SYSFS/module/$m" ] || [ -e "$DEV/$node" ]; then
    ok "$m module loaded ($DEV/$node)"
  else
    bad "$m module not loaded ($DEV/$node missing)" \
      "sudo modprobe $m && echo $m | sudo tee /etc/modules-load.d/$m.conf"
  fi
done

# BTF: Falco's modern eBPF driver (driver.kind=modern_ebpf in falco-values.yaml) is CO-RE
# and needs the kernel's type information; kind nodes share the host kernel.
if [ -e "$SYSFS/kernel/btf/vmlinux" ]; then
  ok "BTF present ($SYSFS/kernel/btf/vmlinux): Falco's modern eBPF driver can load"
else
  bad "$SYSFS/kernel/btf/vmlinux missing: Falco's modern eBPF driver cannot load, so host Falco would see nothing" \
    "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (the stock Debian, Ubuntu and Fedora kernels are), or set driver.kind: kmod in kind-cluster/falco-values.yaml"
fi

# /dev/shm: Kata's qemu keeps each VM's whole RAM (default_memory) in a file on /dev/shm.
# kind-up remounts the node's /dev/shm to NODE_SHM_MIB; that must hold at least one VM,
# and the host must have the memory to back it.
if ! shm_mib_ok "$NODE_SHM_MIB"; then
  bad "NODE_SHM_MIB=$NODE_SHM_MIB is less than Kata's default_memory ($KATA_DEFAULT_MEMORY_MIB MiB): kata-qemu VMs would not start" \
    "unset NODE_SHM_MIB (default 4608), or set it to at least $KATA_DEFAULT_MEMORY_MIB"
else
  ok "node /dev/shm will be ${NODE_SHM_MIB} MiB (Kata default_memory ${KATA_DEFAULT_MEMORY_MIB} MiB per VM)"
fi
mem_mib="$(awk '/^MemTotal:/ {print int($2 / 1024)}' "$PROC/meminfo" 2>/dev/null)"
need_mib=$((KATA_DEFAULT_MEMORY_MIB + 2048))
if [ -z "$mem_mib" ]; then
  warn "cannot read $PROC/meminfo" "one Kata VM needs $KATA_DEFAULT_MEMORY_MIB MiB of RAM besides the node"
elif [ "$mem_mib" -lt "$need_mib" ]; then
  bad "${mem_mib} MiB of RAM: one Kata VM ($KATA_DEFAULT_MEMORY_MIB MiB in /dev/shm) plus the kind node, Falco and the receiver need about $need_mib MiB" \
    "use a machine with more memory, or lower Kata's default_memory (and KATA_DEFAULT_MEMORY_MIB) with a kata-deploy drop-in"
else
  ok "${mem_mib} MiB of RAM (>= $need_mib MiB for one Kata VM plus the node)"
fi

# A container engine for kind's nodes.
engine="$(container_engine)"
if [ "$engine" = none ]; then
  bad "no working docker daemon and no podman" "install Docker Engine, or: sudo apt-get install podman"
else
  ok "container engine: $engine"
fi

# Tool versions.
check_tool() {
  local name="$1" min="$2" version="$3" how="$4"
  if [ -z "$version" ]; then
    bad "$name not found on PATH" "$how"
  elif version_ge "$version" "$min"; then
    ok "$name $version (>= $min)"
  else
    bad "$name $version is older than $min" "$how"
  fi
}
kind_v=""
if have kind; then kind_v="$(kind version 2>/dev/null | awk '{print $2}')"; fi
check_tool kind "$MIN_KIND" "$kind_v" \
  "install kind >= $MIN_KIND: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
kubectl_v=""
if have kubectl; then
  kubectl_v="$(kubectl version --client 2>/dev/null | awk '/Client Version/ {print $3}')"
fi
check_tool kubectl "$MIN_KUBECTL" "$kubectl_v" \
  "install kubectl >= $MIN_KUBECTL: https://kubernetes.io/docs/tasks/tools/"
helm_v=""
if have helm; then helm_v="$(helm version --short 2>/dev/null)"; fi
check_tool helm "$MIN_HELM" "$helm_v" \
  "install helm >= $MIN_HELM: https://helm.sh/docs/intro/install/"

if [ "$failures" -gt 0 ]; then
  printf '\npreflight: %d check(s) failed; fix them and run make kind-up again.\n' "$failures"
  exit 1
fi
printf '\npreflight: all checks passed.\n'
