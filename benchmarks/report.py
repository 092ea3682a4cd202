#!/usr/bin/env python3
"""report.py - turns the measurements of one `make bench` run into report.md and PNG charts.

The report opens with the goals of issue 17 and whether this run met them (goals.py, the one
list of goals, and its headline table), then how long obtaining each peer took (obtain.tsv from
run.sh and the part scripts), CPU and memory per peer for sequential I/O, and the large
directory (workload bigdir).

Input: results.jsonl from the driver (benchmarks/hadoop: one JSON object per measurement with
peer, workload, variant, metric, rep, value, unit; a failed workload has value null and an error),
the driver's raw latency files wal-<peer>-<call>-rep<K>.csv (record,latency_us), and meta.json
(title, machine, versions, settings, parts and peers run, peers that could not be obtained and
why, appendix files), core.tsv from core.sh (the C benchmark's figures, "PART.NAME VALUE UNIT")
and obtain.tsv ("peer, version, cached?, seconds" per line, tab-separated).
Output, beside them: report.md, results.csv, *.png.

The hflush part (benchmarks/hflush.sh: workloads "hflush" and "coldread") gets tables of its own
(hflush_section): one row per peer and thread count, with Sluice's latency as a multiple of
HDFS's in the same run, and the cold read from the cache group next to object storage.

A figure is the median of its repetitions; min and max are kept. Sluice's ratio to a peer is
written so that above 1 means Sluice is better: Sluice/peer for rates, peer/Sluice for times.
"""
import csv
import json
import os
import statistics
import sys
from collections import defaultdict

import goals

LOWER_IS_BETTER = {"ns", "us", "ms", "s", "MiB", "KiB", "bytes", "s/GiB"}
SLUICE_PREFIX = "sluice"
CHARTED = {"throughput", "ops_per_s", "files_per_s", "tps", "p99_us"}  # the rest: tables only
# rendered by hflush_section and bigdir_section, not as generic tables
OWN_SECTION = {"hflush", "coldread", "bigdir"}
HDFS_REF = "hdfs-3dn"  # the peer the hflush ratios are taken against


def load(path):
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                sys.exit(f"{path}:{n}: not JSON: {e}")
    return rows


def summarize(rows):
    """{(workload, variant, metric): {peer: (median, min, max, unit, n)}} in first-seen order."""
    groups = defaultdict(lambda: defaultdict(list))
    units = {}
    order = []
    for r in rows:
        if r.get("value") is None:
            continue
        key = (r["workload"], str(r.get("variant", "")), str(r.get("metric", "")))
        if key not in groups:
            order.append(key)
        groups[key][r["peer"]].append(float(r["value"]))
        units[key] = r["unit"]
    out = {}
    for key in order:
        out[key] = {p: (statistics.median(v), min(v), max(v), units[key], len(v))
                    for p, v in groups[key].items()}
    return out


fmt = goals.fmt  # one way to print a figure, in the headline and the tables alike


def sluice_peers(peers):
    return [p for p in peers if p.startswith(SLUICE_PREFIX)]


def ratio(s, p, unit):
    if s <= 0 or p <= 0:
        return "n/a"
    r = p / s if unit in LOWER_IS_BETTER else s / p
    return f"{r:.2f}x"


def chart(key, figs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    peers = list(figs)
    med = [figs[p][0] for p in peers]
    lo = [figs[p][0] - figs[p][1] for p in peers]
    hi = [figs[p][2] - figs[p][0] for p in peers]
    colors = ["#1f77b4" if p.startswith(SLUICE_PREFIX) else "#999999" for p in peers]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(peers) + 1.2))
    ax.barh(peers, med, xerr=[lo, hi], color=colors, capsize=3)
    ax.invert_yaxis()
    unit = figs[peers[0]][3]
    better = "lower is better" if unit in LOWER_IS_BETTER else "higher is better"
    ax.set_xlabel(f"{unit} ({better}; bar: median, whiskers: min-max)")
    ax.set_title(" ".join(key).strip())
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def latency_chart(samples, title, path):
    """samples: {peer: [micros]}: one CDF line per peer, log x axis."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    for peer, xs in sorted(samples.items()):
        xs = sorted(xs)
        ys = [(i + 1) / len(xs) for i in range(len(xs))]
        ax.plot(xs, ys, label=peer, linewidth=2 if peer.startswith(SLUICE_PREFIX) else 1)
    ax.set_xscale("log")
    ax.set_xlabel("latency (us, log scale)")
    ax.set_ylabel("fraction of calls")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def slug(*parts):
    s = "-".join(p for p in parts if p)
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in s)


def ms(us):
    return fmt(us / 1000.0)


def hflush_section(rows, figures, outdir, charts_ok):
    """Markdown lines for the hflush part; empty when it did not run."""
    if not any(r["workload"] in ("hflush", "coldread") for r in rows):
        return []
    labels, info = {}, {}
    for r in rows:
        if r["workload"] == "hflush" and r.get("value") is not None:
            labels.setdefault(r["peer"], r.get("label", r["peer"]))
            if r["metric"] == "ops_per_s":
                info[r["variant"]] = (r.get("call"), r.get("threads"), r.get("streams"),
                                      r.get("records"))
    lines = ["## hflush: WAL latency at 1-16 threads, next to HDFS with 3 DataNodes", ""]
    if info:
        reps = max((f[4] for k, v in figures.items() if k[0] == "hflush" for f in v.values()),
                   default=0)
        lines += [
            "Threads append 1 KiB records and call hflush after each (hsync: the last rows), "
            "each thread into a file of its own, or all into one stream (`shared`: HBase's WAL, "
            "whose syncer threads hflush one stream; the appends are serialized by the driver, "
            "the hflush calls are not). Latency of write+hflush in ms; ops/s = all records over "
            "the wall time. R = copies of an hflushed block before hflush returns: R=1 is "
            "Sluice without a cache group (staged on the writer's disk), R=2 adds a fdatasync'ed "
            "copy on a `sluice cache-server` at 127.0.0.2, and both commit before hflush "
            "returns; with background commit the hflush returns once both copies are written, "
            "unsynced (as HDFS's), and the commit, which syncs them first, follows. HDFS is a "
            "MiniDFSCluster with 3 DataNodes and replication 3, so its hflush goes through a "
            "3-node pipeline (acked in the DataNodes' memory, not on disk). All on one machine "
            "over loopback: the "
            f"network costs nothing. Median of {reps} repetition(s), peers interleaved; "
            "×HDFS = Sluice's figure over HDFS's for the same variant (below 1: Sluice is "
            "faster; issue 21 asks for at most 1 at p50 and p99).", ""]
        head = ["variant", "threads", "streams", "peer", "p50 ms", "p99 ms", "p999 ms", "ops/s",
                "p50 ×HDFS", "p99 ×HDFS"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        peers = sorted(labels, key=lambda p: (p == HDFS_REF, p))
        for variant, (call, t, streams, n) in info.items():
            def fig(peer, metric):
                f = figures.get(("hflush", variant, metric), {}).get(peer)
                return f[0] if f else None
            ref50, ref99 = fig(HDFS_REF, "p50_us"), fig(HDFS_REF, "p99_us")
            for p in peers:
                p50, p99, p999 = fig(p, "p50_us"), fig(p, "p99_us"), fig(p, "p999_us")
                ops = fig(p, "ops_per_s")
                if p50 is None:
                    continue
                x50 = x99 = ""
                if p != HDFS_REF and ref50 and ref99:
                    x50, x99 = f"{p50 / ref50:.2f}", f"{p99 / ref99:.2f}"
                lines.append("| " + " | ".join([
                    f"{call} {variant}", str(t), str(streams), labels[p], ms(p50), ms(p99),
                    ms(p999), fmt(ops), x50, x99]) + " |")
        lines += ["", f"Records per variant: {', '.join(f'{v} {i[3]}' for v, i in info.items())}"
                  " (split over the threads); p999 of fewer than 1,000 records is close to the "
                  "maximum.", ""]
        # one latency CDF per variant, every repetition's samples together
        samples = defaultdict(lambda: defaultdict(list))
        for name in sorted(os.listdir(outdir)):
            if not (name.startswith("hflush-") and name.endswith(".csv")):
                continue
            stem = name[len("hflush-"):-4].rsplit("-rep", 1)[0]
            # longest first: "shared-t4" must not be taken for "t4" of a peer "...-shared"
            for variant in sorted(info, key=len, reverse=True):
                if stem.endswith("-" + variant):
                    peer = stem[:-len(variant) - 1]
                    with open(os.path.join(outdir, name)) as f:
                        for rec in csv.reader(f):
                            if len(rec) >= 3 and rec[0] != "record":
                                samples[variant][labels.get(peer, peer)].append(float(rec[2]))
                    break
        if charts_ok:
            for variant in info:
                if samples.get(variant):
                    png = slug("cdf", "hflush", variant) + ".png"
                    latency_chart(samples[variant], f"{info[variant][0]} {variant}",
                                  os.path.join(outdir, png))
                    lines += [f"![hflush {variant}]({png})", ""]

    cold = {k: v for k, v in figures.items() if k[0] == "coldread"}
    if cold:
        def cfig(variant, metric):
            f = cold.get(("coldread", variant, metric), {}).get("sluice-mysql")
            return f[0] if f else None
        mib = next((r.get("file_mib") for r in rows if r["workload"] == "coldread"), "?")
        fills = cfig("peers-fill", "fill_reads")
        spread = next((r.get("peer_cache_mib") for r in reversed(rows)
                       if r["workload"] == "coldread" and r["variant"] == "peers"), None)
        fill_text = ""
        if fills is not None:
            fill_text = (f"The peers held every block after {fills:.0f} group read(s) that "
                         "downloaded " if fills else "The peers did not hold every block even "
                         "after 6 group reads ") + (
                             "(an owner declines offers while it writes 4 blocks, and some "
                             "exchanges fail: hflush/coldread.log); " if fills != 1
                             else "; ")
        if spread:
            fill_text += (f"their caches then held {spread[0]} and {spread[1]} MiB (blocks go "
                          "to owners by 128 MiB logical block). ")
        dropped = all(r["os_cache_dropped"] for r in rows
                      if r["workload"] == "coldread" and "os_cache_dropped" in r)
        lines += ["## Cold read from the cache group, next to object storage", "",
                  f"Sluice on MariaDB+S3 (C API, core_bench coldread): one sequential read of a "
                  f"{mib} MiB file by a new process with an empty cache dir, on 127.0.0.1. Without "
                  "a cache group it reads object storage; in the group it asks the blocks' owners, "
                  "two `sluice cache-server` nodes (127.0.0.2 and 127.0.0.3, node list of those "
                  "two). The first read in the group finds their caches empty, downloads the "
                  "blocks and gives each to its owner; the next cold reads get them from the "
                  "peers. GETs and peer fetches are the reader's own counters. "
                  + fill_text
                  + ("The OS page cache was dropped before every read. " if dropped else
                     "The OS page cache could not be dropped (not root): the peers' and the S3 "
                     "server's files may come from memory. ")
                  + "Median of the repetitions (the fill: once).", "",
                  "| read | MiB/s | ×object storage | object-store GETs | MiB from object "
                  "storage | blocks from peers | MiB from peers | failed peer asks |",
                  "|---|---|---|---|---|---|---|---|"]
        base = cfig("object-storage", "throughput")
        names = {"object-storage": "object storage (no cache group)",
                 "peers-fill": "cache group, first read (fills the peers)",
                 "peers": "cache group, from the peers" + (
                     f" (cached {spread[0]} / {spread[1]} MiB)" if spread else "")}
        for variant, name in names.items():
            rate = cfig(variant, "throughput")
            if rate is None:
                continue
            x = f"{rate / base:.2f}" if base else ""
            cells = [name, fmt(rate), x] + [
                f"{cfig(variant, m):.0f}" if cfig(variant, m) is not None else "" for m in
                ("obj_gets",)] + [fmt(cfig(variant, "obj_get_mib") or 0)] + [
                f"{cfig(variant, m) or 0:.0f}" for m in ("peer_fetched",)] + [
                fmt(cfig(variant, "peer_fetched_mib") or 0),
                f"{cfig(variant, 'peer_failed') or 0:.0f}"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def load_core(outdir):
    """core.tsv: {"PART.NAME": (value, unit)}; empty when the core part did not run."""
    core = {}
    path = os.path.join(outdir, "core.tsv")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2:
                    try:
                        core[parts[0]] = (float(parts[1]), " ".join(parts[2:]))
                    except ValueError:
                        pass  # a figure core_bench could not measure, shown as such in core.md
    return core


def obtain_section(outdir):
    """The table of how long obtaining each peer's software took in this run."""
    path = os.path.join(outdir, "obtain.tsv")
    if not os.path.exists(path):
        return []
    lines = ["## Obtaining the peers", "",
             "How long obtaining each peer's software took in this run: 0 s when it was in its "
             "cache already (the tools cache, the local Maven repository), else the download and "
             "build. Maven projects count as cached when they build offline.", "",
             "| peer | version | cached? | seconds |", "|---|---|---|---|"]
    with open(path) as f:
        for rec in csv.reader(f, delimiter="\t"):
            if len(rec) == 4:
                lines.append("| " + " | ".join(rec) + " |")
    return lines + [""]


def resources_section(figures, core):
    """CPU seconds per GiB and peak RSS of sequential I/O, one row per peer, beside the peers'
    throughput tables; the C API's rows come from the core part."""
    cols = [("seqwrite", "t1"), ("seqwrite", "t4"), ("seqread", "cold-t1"),
            ("seqread", "cold-t4")]
    peers = []
    for w, v in cols:
        for p in figures.get((w, v, "cpu_s_per_gib"), {}):
            if p not in peers:
                peers.append(p)
    c_rows = [(name, b) for b, name in (("file", "SQLite+file"), ("s3", "MariaDB+S3"))
              if f"{b}.sluice_write_cpu_s_per_gib" in core]
    if not peers and not c_rows:
        return []
    lines = ["## CPU and memory of sequential I/O", "",
             "CPU seconds (user + system of the whole process: every thread of the client, "
             "OperatingSystemMXBean.getProcessCpuTime) per GiB moved, and peak RSS (VmHWM, its "
             "window reset through /proc/self/clear_refs before each measurement) of the driver's "
             "process around each workload; the MiniDFSCluster and the S3 server run in processes "
             "of their own and do not count. The process CPU clock ticks in 10 ms: 0.16 s/GiB "
             "when 64 MiB move (quick mode). Peak RSS is the highest of the four measurements. "
             "The last rows: the C API (core_bench, 20 transfers, memory-size 512 MiB, one "
             "thread) without a JVM.", "",
             "| peer | write t1 s/GiB | write t4 s/GiB | cold read t1 s/GiB | cold read t4 s/GiB "
             "| peak RSS MiB |", "|---|---|---|---|---|---|"]

    def med(key, p):
        f = figures.get(key, {}).get(p)
        return f[0] if f else None
    for p in sluice_peers(peers) + [p for p in peers if not p.startswith(SLUICE_PREFIX)]:
        cells = [p]
        for w, v in cols:
            x = med((w, v, "cpu_s_per_gib"), p)
            cells.append(fmt(x) if x is not None else "")
        xs = [med((w, v, "rss_max"), p) for w, v in cols]
        xs = [x for x in xs if x is not None]
        cells.append(fmt(max(xs)) if xs else "")
        lines.append("| " + " | ".join(cells) + " |")
    for name, b in c_rows:
        def c(key):
            v = core.get(f"{b}.{key}")
            return fmt(v[0]) if v else ""
        rss = [core[k][0] for k in (f"{b}.sluice_write_peak_rss", f"{b}.sluice_read_peak_rss")
               if k in core]
        lines.append("| " + " | ".join([f"sluice C API, {name}", c("sluice_write_cpu_s_per_gib"),
                                        "", c("sluice_read_cpu_s_per_gib"), "",
                                        fmt(max(rss)) if rss else ""]) + " |")
    return lines + [""]


def bigdir_section(rows, figures):
    """The large directory: listing and content summary, one row per peer."""
    keys = [k for k in figures if k[0] == "bigdir"]
    errors = [r for r in rows if r["workload"] == "bigdir" and r.get("value") is None]
    if not keys and not errors:
        return []
    entries = next((r.get("entries") for r in rows if r["workload"] == "bigdir"
                    and r.get("entries")), None)
    calls = ["listStatus", "listStatusIterator", "getContentSummary"]
    peers = []
    for k in keys:
        for p in figures[k]:
            if p not in peers:
                peers.append(p)
    size = f"{entries:,}" if entries else "?"
    lines = ["## Large directory", "",
             f"A directory of {size} empty files: listStatus and listStatusIterator of it, and "
             "getContentSummary of its parent (the tree of that directory), each through a new "
             "FileSystem instance after a cold reset, through the Hadoop driver. The files are "
             "made once per volume through the same API on as many threads as make them "
             "fastest on that peer, and kept for the next repetitions; \"made at\" is that "
             "rate. Sluice and the JuiceFS SDK list one directory on the volume they share "
             "(one per database), made by whichever ran first (its row has the rate). "
             "Milliseconds, and entries per second in brackets."
             + (" Quick mode: the issue asks for 100,000." if entries and entries < 100000
                else ""), "",
             "| peer | " + " | ".join(calls) + " | made at (files/s) |",
             "|" + "---|" * (len(calls) + 2)]
    for p in sluice_peers(peers) + [p for p in peers if not p.startswith(SLUICE_PREFIX)]:
        cells = [p]
        for call in calls:
            sec = figures.get(("bigdir", call, "seconds"), {}).get(p)
            rate = figures.get(("bigdir", call, "entries_per_s"), {}).get(p)
            cells.append(f"{fmt(sec[0] * 1000)} ({fmt(rate[0])})" if sec and rate else "")
        made = figures.get(("bigdir", "create", "entries_per_s"), {}).get(p)
        threads = next((r.get("threads") for r in rows if r["peer"] == p
                        and r["workload"] == "bigdir" and r["variant"] == "create"), "?")
        cells.append(f"{fmt(made[0])} ({threads} thread{'' if threads == 1 else 's'})"
                     if made else "")
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def main(outdir):
    rp = os.path.join(outdir, "results.jsonl")  # none when only the C parts ran
    rows = load(rp) if os.path.exists(rp) else []
    meta = {}
    mp = os.path.join(outdir, "meta.json")
    if os.path.exists(mp):
        with open(mp) as f:
            meta = json.load(f)
    figures = summarize(rows)
    core = load_core(outdir)

    with open(os.path.join(outdir, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "variant", "metric", "peer", "median", "min", "max", "unit",
                    "reps"])
        for (wl, var, metric), figs in figures.items():
            for peer, (m, lo, hi, unit, n) in figs.items():
                w.writerow([wl, var, metric, peer, m, lo, hi, unit, n])
    errors = [r for r in rows if r.get("value") is None]
    # streams that do not claim the call (hasCapability false): their "flush" promises nothing
    no_op = {(r["peer"], r["variant"]) for r in rows
             if r["workload"] == "wal" and r.get("capability") is False}

    charts_ok = True
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        charts_ok = False

    lines = [f"# Sluice benchmark: {meta.get('title', os.path.basename(outdir))}", ""]
    lines += goals.headline(figures, core, rows, meta)
    for k in ("machine", "versions", "settings", "mode"):
        if k in meta:
            lines.append(f"**{k.capitalize()}:** {meta[k]}  ")
    lines.append("")
    for peer, why in meta.get("unavailable", {}).items():
        lines.append(f"- **{peer}: not measured** - {why}")
    if meta.get("unavailable"):
        lines.append("")
    for r in errors:
        lines.append(f"- **{r['peer']} {r['workload']}: failed** - {r.get('error', '?')}")
    if errors:
        lines.append("")
    lines += ["Each figure is the median of its repetitions (min-max in brackets; in full "
              "mode the workloads no goal is measured on run in the first repetition only); "
              "peers ran interleaved. Ratios are Sluice's advantage: above 1 means Sluice is better "
              "(Sluice/peer for rates, peer/Sluice for times and sizes).", ""]

    lines += obtain_section(outdir)
    lines += hflush_section(rows, figures, outdir, charts_ok)
    lines += resources_section(figures, core)
    lines += bigdir_section(rows, figures)

    by_workload = defaultdict(list)
    for key in figures:
        if key[0] not in OWN_SECTION:
            by_workload[key[0]].append(key)
    for wl, keys in by_workload.items():
        lines += [f"## {wl}", ""]
        for key in keys:
            figs = figures[key]
            peers = list(figs)
            sl = sluice_peers(peers)
            others = [p for p in peers if p not in sl]
            head = ["peer", "figure"] + [f"{s} vs it" for s in sl]
            lines.append(f"**{key[1]} {key[2]}** ({figs[peers[0]][3]})")
            lines.append("")
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            for p in sl + others:
                m, lo, hi, unit, n = figs[p]
                hollow = (p, key[1]) in no_op and key[0] == "wal"
                cells = [p + (" (no-op: the stream does not claim it)" if hollow else ""),
                         f"{fmt(m)} [{fmt(lo)}-{fmt(hi)}]"]
                for s in sl:  # Sluice against the peers, not against its own variants
                    cells.append("" if p in sl else "n/a" if hollow
                                 else ratio(figs[s][0], m, unit))
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
            if charts_ok and len(peers) > 1 and key[2] in CHARTED:
                png = slug(*key) + ".png"
                chart(key, figs, os.path.join(outdir, png))
                lines += [f"![{' '.join(key)}]({png})", ""]

    # latency distributions: every sample of the WAL workload, all repetitions together
    samples = defaultdict(lambda: defaultdict(list))
    for name in sorted(os.listdir(outdir)):
        if not (name.startswith("wal-") and name.endswith(".csv")):
            continue
        peer, call = name[4:-4].rsplit("-rep", 1)[0].rsplit("-", 1)
        with open(os.path.join(outdir, name)) as f:
            for rec in csv.reader(f):
                if len(rec) >= 2 and rec[0] != "record":
                    samples[("wal", call)][peer].append(float(rec[1]))
    if samples and charts_ok:
        lines += ["## Latency distributions", ""]
        for (wl, var), per_peer in samples.items():
            png = slug("cdf", wl, var) + ".png"
            latency_chart(per_peer, f"{wl} {var}", os.path.join(outdir, png))
            lines += [f"![{wl} {var}]({png})", ""]
    if not charts_ok:
        lines += ["(No charts: matplotlib is missing; `tests/env/deps.sh bench` installs it.)", ""]

    for extra in meta.get("appendix", []):
        p = os.path.join(outdir, extra)
        if os.path.exists(p):
            with open(p) as f:
                lines += [f.read().rstrip(), ""]

    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(os.path.join(outdir, "report.md"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULTS-DIR")
    main(sys.argv[1])
