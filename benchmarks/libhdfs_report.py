#!/usr/bin/env python3
"""libhdfs_report.py - the report's "libhdfs" section (markdown on stdout) from libhdfs.jsonl, as
written by benchmarks/libhdfs.sh (which passes the run's settings in LH_* variables).

A figure is the median of its repetitions. Ratios are Sluice's libhdfs against the peer measured in
the same run, written so that above 1 means Sluice's library is faster (Sluice/peer for rates,
peer/Sluice for times); the shim's are libhdfs/libsluice read rates (1 = no overhead).
"""
import json
import os
import statistics
import sys
from collections import defaultdict

from report import fmt  # the main report's numbers, written alike

RATE_UNITS = {"MiB/s", "reads/s"}  # the rest are times


def main(path):
    e = os.environ
    vals = defaultdict(list)
    units = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                k = (r["workload"], r["variant"], r["peer"], r["metric"])
                vals[k].append(float(r["value"]))
                units[k] = r["unit"]

    def fig(variant, peer, metric, workload="libhdfs"):
        k = (workload, variant, peer, metric)
        if k not in vals:
            return None
        v = vals[k]
        return statistics.median(v), min(v), max(v), units[k]

    def cell(f):
        if f is None:
            return "-"
        m, lo, hi, unit = f
        return f"{fmt(m)} {unit}" + (f" [{fmt(lo)}-{fmt(hi)}]" if lo != hi else "")

    def ratio(s, p):
        if s is None or p is None or s[0] <= 0 or p[0] <= 0:
            return "-"
        r = s[0] / p[0] if s[3] in RATE_UNITS else p[0] / s[0]
        return f"**{r:.2f}x**"

    out = ["## libhdfs", ""]
    mib = fig("local", "local", "dataset")
    out += [
        f"pyarrow {e.get('LH_PYARROW', '?')} `pyarrow.fs.HadoopFileSystem(\"default\")` writes a "
        f"Parquet dataset ({int(e.get('LH_ROWS', 0)):,} rows, "
        f"{fmt(mib[0]) if mib else '?'} MiB in 8 files: id, a random int64, a random double, a "
        "short string), reads it back whole, then reads one column with a filter (footers and "
        "column chunks by positional reads); one process per peer and repetition, peers "
        f"interleaved, {e.get('LH_REPS', '?')} repetition(s), medians [min-max]. Sluice's "
        "`libhdfs.so` runs with no JVM; Apache's libhdfs (JNI, "
        f"{e.get('LH_APACHE_INFO') or 'not built'}; {e.get('LH_JAVA', '')}) goes through "
        "Hadoop 3.3.6's client and the Sluice jar on the same volume with the same settings "
        "(300 MiB buffers, 20 transfers, a disk cache each); the local disk through pyarrow's "
        "LocalFileSystem. Reads follow the write in the same process (warm caches for every "
        "peer). Connecting (starting the JVM for Apache's) is timed apart. CPU time: all "
        "threads of the process (the JVM's too) during the write and the reads; peak RSS "
        "includes the dataset held in memory, the same for every peer. Ratios: Sluice's "
        "libhdfs against the peer, above 1 = Sluice's better (faster, less CPU or memory).",
        ""]
    if e.get("LH_UNAVAILABLE"):
        out += [f"- **apache-libhdfs: not measured** - {e['LH_UNAVAILABLE']}", ""]
    names = {"file": "SQLite + file", "s3": "MariaDB + S3"}
    metrics = [("write", "write"), ("read", "read whole dataset"),
               ("read_column", "read one column, filtered"),
               ("cpu", "CPU time of the write and reads"), ("rss", "peak RSS"),
               ("connect", "connect")]
    out += ["| volume | step | Sluice libhdfs | Apache libhdfs + jar | Sluice vs Apache | "
            "local disk | Sluice vs local |", "|---|---|---|---|---|---|---|"]
    for v in ("file", "s3"):
        for metric, what in metrics:
            s = fig(v, "sluice-libhdfs", metric)
            a = fig(v, "apache-libhdfs", metric)
            lo = fig("local", "local", metric)
            if s is None and a is None:
                continue
            local_ratio = ratio(s, lo) if metric != "connect" else "-"
            out.append(f"| {names[v]} | {what} | {cell(s)} | {cell(a)} | {ratio(s, a)} | "
                       f"{cell(lo) if metric != 'connect' else '-'} | {local_ratio} |")
    out.append("")

    out += [
        "The shim's overhead (`build/bin/hdfs_bench`): one file of "
        f"{e.get('LH_SIZE', '?')} MiB read in one process through libsluice (`sluice_read`, "
        "`sluice_pread`) and through `libsluice-hdfs.so` (`hdfsRead`, `hdfsPread`), each side "
        "with its own volume handle and the same settings, warm (written by a third handle, "
        "read once by each before): "
        f"{e.get('LH_ROUNDS', '?')} rounds of sequential reads of the whole file in 1 MiB calls "
        "(as many as take about 0.25 s) and of positional reads of 64 KiB at random offsets (at "
        f"least {e.get('LH_OPS', '?')}, in batches of 64), the two sides taking turns pass by pass "
        "and batch by batch. Rates: medians over the rounds. Ratio: libhdfs / libsluice rate, "
        "median [min-max] over the rounds (1 = no overhead); CPU: libsluice / libhdfs CPU time of "
        "the calling thread (below 1: the shim costs CPU). Warm reads make the layers' cost as "
        "visible as it can be; where positional reads are not served from memory (thousands a "
        "second, not a hundred thousand) the row weighs the shim against the storage as well.",
        "",
        "| volume | read | libsluice | libhdfs (shim) | shim / libsluice | CPU |",
        "|---|---|---|---|---|---|"]
    for v in ("file", "s3"):
        for kind, what in (("seq", "sequential, 1 MiB calls"), ("pread", "random 64 KiB preads")):
            g = {m: fig(v, "shim", f"{kind}_{m}", "libhdfs-shim")
                 for m in ("sluice", "hdfs", "ratio", "ratio_min", "ratio_max", "cpu_ratio")}
            if None in g.values():
                out.append(f"| {names[v]} | {what} | - | - | failed: see libhdfs.log | - |")
                continue
            out.append(f"| {names[v]} | {what} | {cell(g['sluice'])} | {cell(g['hdfs'])} | "
                       f"**{g['ratio'][0]:.2f}** [{g['ratio_min'][0]:.2f}-"
                       f"{g['ratio_max'][0]:.2f}] | {g['cpu_ratio'][0]:.2f} |")
    out += ["", f"The pyarrow part took {e.get('LH_PARQUET_S', '?')} s, the shim part "
            f"{e.get('LH_SHIM_S', '?')} s."]
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: libhdfs_report.py libhdfs.jsonl")
    main(sys.argv[1])
