#!/usr/bin/python3
"""Writes summary.md for a results/bench-<time>/ folder made by scripts/bench.

Reads only what the run wrote there (Google Benchmark JSON, sensor_memory JSON, the
receiver load generator's output, environment.txt, steps.tsv) and prints Markdown on
stdout. Missing parts are reported as missing, not filled in.

usage: /usr/bin/python3 scripts/bench_summary.py results/bench-20261206T230000Z > summary.md
"""
import json
import os
import sys


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return None


def last_json_line(path):
    try:
        with open(path) as f:
            lines = [l for l in f.read().splitlines() if l.startswith("{")]
    except OSError:
        return None
    for line in reversed(lines):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    return None


def num(v, digits=0):
    if v is None:
        return "–"
    if isinstance(v, float) and digits:
        return f"{v:,.{digits}f}"
    return f"{round(v):,}"


def ratio(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}x"


def bench_index(doc):
    """{(family, arg): benchmark dict} from Google Benchmark JSON (iterations run only)."""
    out = {}
    for b in (doc or {}).get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        parts = b["name"].split("/")
        arg = parts[1] if len(parts) > 1 and parts[1].isdigit() else ""
        out[(parts[0], arg)] = b
    return out


def scan_section(d, idx, memory):
    print("## Sensor scan (`procfs_bench`)\n")
    if not idx:
        print("procfs_bench.json is missing: the step failed (see steps.tsv).\n")
        return
    sizes = sorted({a for (f, a) in idx if f == "BM_IncrementalScan" and a}, key=int)
    print("CPU µs per scan (user + system of the process), one run; ratios pair rows of "
          "this run.\n")
    print("| idle processes added | processes | incremental | paced (50 ms apart) | "
          "no fd re-reads | floor (getdents + 1 pread/pid) | scan / floor | "
          "psutil incremental | psutil / scan (default; no fd re-reads) | first scan | "
          "psutil full scan |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        g = lambda fam, key="cpu_us": idx.get((fam, n), {}).get(key)
        print(f"| {int(n):,} | {num(g('BM_IncrementalScan', 'procs'))} | "
              f"{num(g('BM_IncrementalScan'))} | {num(g('BM_IncrementalScanPaced'))} | "
              f"{num(g('BM_IncrementalScanNoFdRefresh'))} | {num(g('BM_ReadFloor'))} | "
              f"{num(g('BM_ReadFloor', 'scan_over_floor'), 2)}x | "
              f"{num(g('BM_PsutilIncrementalScan', 'psutil_cpu_us'))} | "
              f"{ratio(g('BM_PsutilIncrementalScan', 'cpu_ratio'))}; "
              f"{ratio(g('BM_PsutilIncrementalScan', 'cpu_ratio_no_refresh'))} | "
              f"{num(g('BM_FirstScan'))} | {num(g('BM_PsutilFullScan', 'psutil_cpu_us'))} |")
    print()
    print("Scanner heap after its first scans (`BM_TrackedMemory`, glibc `mallinfo2`):\n")
    print("| idle processes added | tracked | scanner heap, KiB | bytes per tracked process |")
    print("|---|---|---|---|")
    for n in sizes:
        b = idx.get(("BM_TrackedMemory", n))
        if b:
            print(f"| {int(n):,} | {num(b.get('procs'))} | {num(b.get('heap_kib'))} | "
                  f"{num(b.get('bytes_per_process'))} |")
    print()
    rows = [(a, idx[("BM_EnrichOne", a)]) for a in ("0", "1") if ("BM_EnrichOne", a) in idx]
    if rows:
        print("| one new process (`BM_EnrichOne`) | sandwatch CPU µs | psutil CPU µs | ratio |")
        print("|---|---|---|---|")
        for a, b in rows:
            what = "holding a loopback TCP connection" if a == "1" else "idle, stdio on /dev/null"
            print(f"| {what} | {num(b.get('cpu_us'), 1)} | {num(b.get('psutil_cpu_us'), 1)} | "
                  f"{ratio(b.get('cpu_ratio'))} |")
        print()
    h = idx.get(("BM_HostScan", ""))
    if h:
        print(f"`BM_HostScan` (this machine's /proc as it is): {num(h.get('procs'))} processes, "
              f"{num(h.get('cpu_us'))} µs CPU per scan, per scan {num(h.get('changes'), 2)} "
              f"changes, {num(h.get('fd_rereads'), 2)} fd re-reads, "
              f"{num(h.get('net_tables'), 2)} socket tables read.\n")


def memory_section(d, idx, memory):
    print("## Sensor process (`sensor_memory.py`)\n")
    if not memory:
        print("No sensor_memory output: the step failed (see steps.tsv).\n")
        return
    print("Node-mode sensor, `--capture poll --poll-interval 0.05`, file output, idle "
          "processes added until the machine has the target number, sampled after 30 s. "
          "`scan CPU per scan` is the sensor's own `scan_cpu_us_total / scans`; the paced "
          "benchmark is `BM_IncrementalScanPaced` of this run at the same size (1,000 or "
          "5,000 idle processes on top of the machine's, so more processes than the sensor "
          "saw): they are compared per tracked process.\n")
    print("| processes (target) | tracked | VmRSS, KiB | RssAnon, KiB | RssFile, KiB | "
          "VmHWM, KiB | anonymous bytes per tracked process | scans | scan CPU per scan, µs | "
          "paced benchmark, µs (processes) | sensor / benchmark, per process |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, m in memory:
        st = m["status_kib"]
        c = m.get("counters", {})
        per = m.get("scan_cpu_us_per_scan")
        tracked = c.get("processes_tracked")
        b = idx.get(("BM_IncrementalScanPaced", str(n)), {})
        paced, procs = b.get("cpu_us"), b.get("procs")
        rel = (per / tracked) / (paced / procs) if per and tracked and paced and procs else None
        print(f"| {n:,} | {num(tracked)} | {num(st.get('VmRSS'))} | "
              f"{num(st.get('RssAnon'))} | {num(st.get('RssFile'))} | {num(st.get('VmHWM'))} | "
              f"{num(m.get('rss_anon_bytes_per_tracked_process'))} | {num(c.get('scans'))} | "
              f"{num(per)} | {num(paced)} ({num(procs)}) | {ratio(rel, 2)} |")
    print()
    cats = []
    for _, m in memory:
        for k in m["smaps_rss_kib"]:
            if k not in cats:
                cats.append(k)
    print("Where the resident memory is (smaps Rss, KiB):\n")
    print("| mapping | " + " | ".join(f"{n:,} processes" for n, _ in memory) + " |")
    print("|---|" + "---|" * len(memory))
    for k in cats:
        if not any(m["smaps_rss_kib"].get(k, 0) for _, m in memory):
            continue  # mappings with nothing resident ([vvar], guard pages)
        print(f"| {k} | " + " | ".join(num(m["smaps_rss_kib"].get(k, 0)) for _, m in memory)
              + " |")
    print()


def micro_section(d):
    print("## Rules and state (`sensor_rules_bench`, `sensor_state_bench`)\n")
    print("| benchmark | CPU time | unit |")
    print("|---|---|---|")
    for name in ("sensor_rules_bench", "sensor_state_bench"):
        doc = load_json(os.path.join(d, name + ".json"))
        if not doc:
            print(f"| {name}: no output | | |")
            continue
        for b in doc.get("benchmarks", []):
            if b.get("run_type", "iteration") == "iteration":
                print(f"| `{b['name']}` | {b['cpu_time']:,.2f} | {b.get('time_unit', 'ns')} |")
    print()


def receiver_cost_section(d):
    """The worker's and the writer's CPU per event, from their Google Benchmark JSON."""
    doc = load_json(os.path.join(d, "receiver_ingest_bench.json"))
    print("## Receiver CPU per event (`receiver_ingest_bench`, `receiver_store_layers_bench`)\n")
    if not doc:
        print("receiver_ingest_bench: no output\n")
    else:
        print("| HTTP worker stage (batch of 100) | µs per event |")
        print("|---|---|")
        for b in doc.get("benchmarks", []):
            if b.get("run_type", "iteration") == "iteration":
                print(f"| `{b['name']}` | {num(b.get('us_per_event'), 2)} |")
        print()
    doc = load_json(os.path.join(d, "receiver_store_layers_bench.json"))
    if not doc:
        print("receiver_store_layers_bench: not run (quick mode) or no output\n")
        return
    print("| writer layer (200,000 events, commits of 400, synchronous=FULL) "
          "| µs per event | added by the layer |")
    print("|---|---|---|")
    by_layer = {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        arg = b["name"].split("layer:")[-1].split("/")[0] if "layer:" in b["name"] else ""
        layer = int(arg) if arg.isdigit() else -1
        us = b.get("cpu_us_per_event")
        by_layer[layer] = us
        # Each layer names the one it adds to (base_layer); the schema 2 and 3 chains both
        # start from the bare table.
        base = int(b.get("base_layer", -1))
        prev = by_layer.get(base)
        added = "" if prev is None or us is None else num(us - prev, 2)
        print(f"| {b.get('label') or b['name']} | {num(us, 2)} | {added} |")
    print()


def receiver_section(d):
    print("## Receiver (`receiver_loadgen`)\n")
    for name, title in (("receiver_loadgen", "Ingestion and search"),
                        ("receiver_hostile_defaults", "Hostile clients, defaults"),
                        ("receiver_hostile_raised",
                         "Hostile clients, `--max-connections-per-peer 2000 "
                         "--max-connections 4096`")):
        path = os.path.join(d, name + ".out")
        if not os.path.exists(path):
            continue
        print(f"### {title}\n")
        with open(path) as f:
            body = [l for l in f.read().splitlines() if not l.startswith("{")]
        print("\n".join(body).strip() + "\n")
        print(f"(The load generator's own output; the JSON line is in `{name}.out`.)\n")


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    d = sys.argv[1]
    env = {}
    try:
        with open(os.path.join(d, "environment.txt")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                env[k] = v
    except OSError:
        sys.exit(f"bench_summary: {d}/environment.txt is missing: not a scripts/bench folder")
    idx = bench_index(load_json(os.path.join(d, "procfs_bench.json")))
    memory = []
    for n in (1000, 5000):
        m = last_json_line(os.path.join(d, f"sensor_memory_{n}.out"))
        if m:
            memory.append((n, m))
    print(f"# Benchmark run {os.path.basename(os.path.abspath(d))}\n")
    print("Written by `scripts/bench` (`make bench`); every figure below comes from the raw "
          "outputs in this folder.\n")
    print(f"- mode: {env.get('mode')}; started {env.get('started')}, "
          f"finished {env.get('finished')}")
    print(f"- load average at start: {env.get('load_average')} (the 2 cores are shared)")
    print(f"- machine: {env.get('cpus')} × {env.get('cpu_model')}, {env.get('mem_total')}, "
          f"kernel {env.get('kernel')}")
    print(f"- build: {env.get('build_type')} with {env.get('compiler')}, commit "
          f"{env.get('commit')}; {env.get('python')}\n")
    print("| step | wall time, s | exit | load average after |")
    print("|---|---|---|---|")
    try:
        with open(os.path.join(d, "steps.tsv")) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) == 4:
                    print(f"| {p[0]} | {p[1]} | {p[2]} | {p[3]} |")
    except OSError:
        pass
    print()
    scan_section(d, idx, memory)
    memory_section(d, idx, memory)
    micro_section(d)
    receiver_cost_section(d)
    receiver_section(d)


if __name__ == "__main__":
    main()
