#!/bin/bash
# /init of the qemu guest that stands in for a kata-qemu pod (LOCAL STAND-IN, not Kata):
# the same isolation boundary (its own guest kernel), the workload and sensor inside.
# Brings up e1000 + user-mode networking (the host's loopback is 10.0.2.2), runs one pod
# (pod.sh in a private PID namespace), copies the ground truth and logs out through the
# second serial port, and powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo 1 >/proc/sys/kernel/sysrq
say() { echo "sandwatch-guest: $*" >/dev/ttyS0; }
say "init up after $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"
# shellcheck source=/dev/null
. /sw/cell/cell.env
hostname "$SW_HOSTNAME"
bb=/sw/bin/busybox
# The rootfs (debootstrap minbase) has no kmod; busybox's insmod loads the plain .ko.
$bb insmod /sw/modules/e1000.ko || say "insmod e1000 failed"
$bb ip link set lo up
for _ in $(seq 1 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
$bb ip link set eth0 up
$bb ip addr add 10.0.2.15/24 dev eth0
$bb ip route add default via 10.0.2.2
say "network up"
# The guest clock comes from the emulated RTC (-rtc base=utc): within about a second of the
# host's. Ground truth and the in-guest sensor share this clock, so scoring is unaffected.
mkdir -p /tmp/cell
cp /sw/cell/* /tmp/cell/
say "pod starting"
unshare --pid --fork --mount-proc /sw/lab/pod.sh /tmp/cell >/dev/ttyS0 2>&1
say "pod exited rc=$?"
$bb stty -F /dev/ttyS1 raw -echo 2>/dev/null
{
  echo "=== attack.rc"; cat /tmp/cell/attack.rc 2>/dev/null
  echo "=== ground-truth"; cat /tmp/cell/gt.jsonl 2>/dev/null
  echo "=== sensor.log"; tail -c 20000 /tmp/cell/sensor.log 2>/dev/null
  echo "=== attack.log"; tail -c 20000 /tmp/cell/attack.log 2>/dev/null
  echo "=== end"
} >/dev/ttyS1
sync
say "powering off"
echo o >/proc/sysrq-trigger
sleep 10
