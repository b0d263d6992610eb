#!/usr/bin/python3
"""Times a psutil process_iter scan of the fields sandwatch's ProcessScanner reads.

The comparison baseline for docs/performance.md ("Sensor scan"). Run with Debian's
/usr/bin/python3 (python3-psutil). Prints one JSON object on stdout.

Modes:
  incremental  an agent loop like sandwatch's: process_iter() (psutil caches Process
               objects and re-checks each known pid's create time from /proc/PID/stat),
               and full details only for processes not seen before.
  full         process_iter(attrs=FIELDS) every scan: every process re-read in full
               (what most psutil-based monitors do).
  one          full details of one process (--pid), a fresh Process each time.

Examples:
  /usr/bin/python3 scripts/psutil_scan.py --mode incremental --scans 50
  /usr/bin/python3 scripts/psutil_scan.py --mode one --pid 1 --scans 200
"""
import argparse
import json
import sys
import time

import psutil

# The fields ProcessScanner fills: name, exe, cmdline, ppid, uid, cwd, open files,
# and sockets resolved against /proc/PID/net/{tcp,tcp6,udp,udp6}.
FIELDS = ["pid", "name", "exe", "cmdline", "ppid", "uids", "cwd", "open_files", "connections"]


def details(proc):
    info = proc.as_dict(attrs=FIELDS, ad_value=None)
    return info


def scan_incremental(seen):
    current = {}
    for proc in psutil.process_iter():
        try:
            key = (proc.pid, proc.create_time())
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
        current[key] = seen.get(key) or details(proc)
    return current


def scan_full():
    return {p.pid: p.info for p in psutil.process_iter(attrs=FIELDS, ad_value=None)}


def timed(fn, scans):
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(scans):
        fn()
    cpu1, wall1 = time.process_time(), time.perf_counter()
    return (cpu1 - cpu0) / scans * 1e6, (wall1 - wall0) / scans * 1e6


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["incremental", "full", "one"], default="incremental")
    ap.add_argument("--scans", type=int, default=20, help="timed scans (default 20)")
    ap.add_argument("--pid", type=int, default=0, help="process for --mode one")
    args = ap.parse_args(argv)
    if args.scans < 1:
        ap.error("--scans must be at least 1")

    if args.mode == "incremental":
        state = {"seen": scan_incremental({})}  # warm-up: everything becomes known

        def step():
            state["seen"] = scan_incremental(state["seen"])
        processes = len(state["seen"])
        cpu_us, wall_us = timed(step, args.scans)
    elif args.mode == "full":
        processes = len(scan_full())
        cpu_us, wall_us = timed(scan_full, args.scans)
    else:
        if args.pid <= 0:
            ap.error("--mode one needs --pid")
        processes = 1
        cpu_us, wall_us = timed(lambda: details(psutil.Process(args.pid)), args.scans)

    json.dump({"mode": args.mode, "scans": args.scans, "processes": processes,
               "cpu_us_per_scan": round(cpu_us, 2), "wall_us_per_scan": round(wall_us, 2),
               "psutil": psutil.__version__}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
