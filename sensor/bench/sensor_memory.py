#!/usr/bin/python3
"""Runs sandwatch-sensor against N extra idle processes and says where its memory goes.

Starts `sleep` children (real processes, so the sensor tracks them): --sleepers N of them,
or with --processes N as many as bring the machine to N processes. Then the node-mode
sensor (--capture poll, file output), waits, and reads the running sensor's
/proc/PID/status (VmRSS, RssAnon, RssFile, VmHWM), /proc/PID/smaps (resident memory per
mapping, sorted into the categories below) and its own counters from the last heartbeat
(scans, scan_cpu_us_total, processes_tracked). Prints one JSON object on stdout; with
--smaps-out also keeps the raw smaps. Progress goes to stderr.

Categories of resident memory (smaps Rss, KiB):
  main heap         [heap]: glibc's main arena (brk)
  thread arenas     anonymous read-write mappings starting on a 64 MiB boundary: glibc's
                    per-thread malloc arenas
  thread stacks     anonymous read-write mappings of exactly the default stack size,
                    directly above a guard page
  main stack        [stack]
  other anonymous   every other private anonymous mapping (large malloc blocks, TLS, ...)
  file: NAME        file-backed mappings, by file name (binary and shared libraries)

Example:
  /usr/bin/python3 sensor/bench/sensor_memory.py --sensor build/bin/sandwatch-sensor \\
      --sleepers 1000 --seconds 30
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

ARENA_ALIGN = 64 << 20


def log(msg):
    print(f"sensor_memory: {msg}", file=sys.stderr, flush=True)


def status_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "Threads"):
                out[key] = int(rest.split()[0])
    return out


def parse_smaps(text):
    """Yields (start, end, perms, path, fields) per mapping."""
    head = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")
    cur = None
    for line in text.splitlines():
        m = head.match(line)
        if m:
            if cur:
                yield cur
            cur = (int(m[1], 16), int(m[2], 16), m[3], m[4].strip(), {})
        elif cur and ":" in line:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                cur[4][key] = int(parts[0])
    if cur:
        yield cur


def classify(maps, stack_size):
    """Resident KiB per category; see the module docstring."""
    cats = {}
    prev = None
    for start, end, perms, path, fields in maps:
        rss = fields.get("Rss", 0)
        if path == "[heap]":
            cat = "main heap"
        elif path == "[stack]":
            cat = "main stack"
        elif path.startswith("["):
            cat = path
        elif path:
            cat = "file: " + os.path.basename(path.split(" ")[0])
        elif "w" not in perms:
            cat = "guard pages and reserve"
        elif start % ARENA_ALIGN == 0:
            cat = "thread arenas"
        elif (end - start == stack_size and prev is not None and prev[1] == start
              and prev[2].startswith("---")):
            cat = "thread stacks"
        else:
            cat = "other anonymous"
        cats[cat] = cats.get(cat, 0) + rss
        prev = (start, end, perms)
    return dict(sorted(cats.items(), key=lambda kv: -kv[1]))


def last_heartbeat_counters(path):
    counters = {}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if '"scans"' not in line:
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    continue
                found = find_counters(obj)
                if found:
                    counters = found
    except OSError:
        pass
    return counters


def find_counters(obj):
    if isinstance(obj, dict):
        if "scans" in obj and "scan_cpu_us_total" in obj:
            return obj
        for v in obj.values():
            r = find_counters(v)
            if r:
                return r
    return None


def spawn_sleepers(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    if soft != resource.RLIM_INFINITY and soft < n + 200:
        raise SystemExit(f"sensor_memory: RLIMIT_NPROC {soft} is too low for {n} sleepers")
    procs = []
    for i in range(n):
        procs.append(subprocess.Popen(["sleep", "100000"], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if (i + 1) % 1000 == 0:
            log(f"{i + 1} of {n} sleepers started")
    return procs


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sensor", required=True, help="sandwatch-sensor binary")
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--sleepers", type=int, default=1000, help="idle processes to add [1000]")
    what.add_argument("--processes", type=int,
                      help="add idle processes until the machine has this many in all")
    ap.add_argument("--seconds", type=float, default=30, help="run time before sampling [30]")
    ap.add_argument("--poll-interval", default="0.05", help="sensor --poll-interval [0.05]")
    ap.add_argument("--heartbeat-interval", default="1", help="sensor heartbeat seconds [1]")
    ap.add_argument("--smaps-out", help="also write the sensor's raw smaps here")
    ap.add_argument("--sensor-arg", action="append", default=[],
                    help="extra sensor flag (repeatable), e.g. --sensor-arg=--mode=node")
    a = ap.parse_args()
    if not os.access(a.sensor, os.X_OK):
        raise SystemExit(f"sensor_memory: {a.sensor} is not an executable; build it first")

    stack_size = resource.getrlimit(resource.RLIMIT_STACK)[0]
    if stack_size == resource.RLIM_INFINITY:
        stack_size = 8 << 20
    machine = sum(1 for d in os.listdir("/proc") if d.isdigit())
    if a.processes is not None:
        a.sleepers = max(0, a.processes - machine - 1)  # the sensor itself is one more
    log(f"{machine} processes on the machine; adding {a.sleepers}")
    sleepers = spawn_sleepers(a.sleepers)
    out = tempfile.NamedTemporaryFile(prefix="sw-mem-", suffix=".jsonl", delete=False)
    out.close()
    sensor = None
    try:
        cmd = [a.sensor, "--mode", "node", "--capture", "poll", "--poll-interval",
               a.poll_interval, "--heartbeat-interval", a.heartbeat_interval,
               "--output", "file:" + out.name, "--log-level", "warn"] + a.sensor_arg
        log("running " + " ".join(cmd) + f" for {a.seconds:g} s")
        load0 = os.getloadavg()
        sensor = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        time.sleep(a.seconds)
        if sensor.poll() is not None:
            raise SystemExit(f"sensor_memory: the sensor exited early ({sensor.returncode})")
        st = status_kib(sensor.pid)
        with open(f"/proc/{sensor.pid}/smaps") as f:
            smaps = f.read()
        ticks = sum(int(x) for x in open(f"/proc/{sensor.pid}/stat").read().rsplit(")", 1)[1]
                    .split()[11:13])
        if a.smaps_out:
            with open(a.smaps_out, "w") as f:
                f.write(smaps)
        sensor.terminate()
        sensor.wait(timeout=30)
        counters = last_heartbeat_counters(out.name)
        scans = counters.get("scans", 0)
        result = {
            "sleepers": a.sleepers,
            "machine_processes_before": machine,
            "seconds": a.seconds,
            "poll_interval": float(a.poll_interval),
            "load_average_start": load0[0],
            "load_average_end": os.getloadavg()[0],
            "status_kib": st,
            "smaps_rss_kib": classify(parse_smaps(smaps), stack_size),
            "cpu_s": ticks / os.sysconf("SC_CLK_TCK"),
            "counters": {k: counters.get(k) for k in
                         ("scans", "scan_cpu_us_total", "processes_tracked")},
            "scan_cpu_us_per_scan": (counters.get("scan_cpu_us_total", 0) / scans
                                     if scans else None),
        }
        tracked = counters.get("processes_tracked") or 0
        if tracked:
            result["rss_anon_bytes_per_tracked_process"] = st["RssAnon"] * 1024 / tracked
        print(json.dumps(result))
    finally:
        if sensor is not None and sensor.poll() is None:
            sensor.kill()
            sensor.wait()
        for p in sleepers:
            p.kill()
        for p in sleepers:
            p.wait()
        os.unlink(out.name)


if __name__ == "__main__":
    main()
