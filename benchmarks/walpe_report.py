#!/usr/bin/env python3
"""walpe_report.py - turns benchmarks/walpe.sh's WALPE runs into walpe.md (printed) and a JSONL.

    walpe_report.py RAW-DIR MODE REPS SECONDS JSONL-OUT

RAW-DIR holds runs.tsv (rep, peer, threads, iterations, status, ms, stdout, stderr per run),
unavailable.tsv (peer, why) and each run's output. From a run's stderr: WALPE's line
"Summary: threads=T, iterations=N, syncInterval=S took Xs Yops/s" (edits/s over all threads) and
the WAL provider; from its stdout: the final ConsoleReporter dump of WALPE's metrics registry
(io.sluice.bench.walpe.Run prints it after the run): the histograms latencyHistogram.nanos (one
edit: append and the wait for its sync), syncHistogram.nanos-between-syncs (despite its name the
duration of each sync: WALActionsListener.postSync's timeInNanos) and
syncCountHistogram.countPerSync (edits a sync completed). WALPE's histograms are Dropwizard
Metrics' default reservoir: a sample of 1,028 values, so p99.9 of a long run is an estimate.

A run whose edits were not all timed, that logged "Thread failed", or that exited non-zero is a
failure: its error goes into the table, its figures nowhere. A figure is the median over the
repetitions. Ratios are Sluice's advantage (above 1: Sluice better): Sluice/peer for edits/s,
peer/Sluice for latencies.
"""
import csv
import json
import os
import re
import statistics
import sys
from collections import defaultdict

SUMMARY = re.compile(r"Summary: threads=(\d+), iterations=(\d+), syncInterval=(\d+) "
                     r"took ([\d.]+)s ([\d.]+)ops/s")
PROVIDER = re.compile(r"Instantiating WALProvider of type class (\S+)")
HISTOGRAMS = {"latencyHistogram.nanos": "edit", "syncHistogram.nanos-between-syncs": "sync",
              "syncCountHistogram.countPerSync": "per_sync"}
QUANTILES = {"median": "p50", "99%": "p99", "99.9%": "p999", "mean": "mean", "count": "count",
             "max": "max"}


def registry(path):
    """{edit|sync|per_sync: {p50, p99, p999, mean, count, max}} from the final report."""
    out, cur, final = {}, None, False
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("=== final report"):
                final, out = True, {}
                continue
            if not final:
                continue
            s = line.strip()
            if s.startswith("org.apache.hadoop.hbase.wal.WALPerformanceEvaluation."):
                cur = HISTOGRAMS.get(s.split("WALPerformanceEvaluation.", 1)[1])
                if cur:
                    out[cur] = {}
            elif cur and "=" in s:
                k, v = (x.strip() for x in re.split(r"\s*(?:<=|=)\s*", s, maxsplit=1))
                if k in QUANTILES:
                    try:
                        out[cur][QUANTILES[k]] = float(v.split()[0])
                    except ValueError:
                        pass
            elif s.startswith("--"):
                cur = None
    return out


def first_error(path):
    """The first exception a run printed (with its last "Caused by"), or None."""
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    exc = re.compile(r"^([\w$]+\.)+[\w$]*(Exception|Error)\b")
    first = next((x.strip() for x in lines if exc.match(x.strip())), None)
    if first is None:
        return None
    cause = [x.strip() for x in lines if x.startswith("Caused by:")]
    return (first + (" / " + cause[-1] if cause and cause[-1] != first else ""))[:500]


def parse(raw):
    runs = []
    with open(os.path.join(raw, "runs.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            r["threads"], r["iterations"] = int(r["threads"]), int(r["iterations"])
            log = os.path.join(raw, r["stderr"])
            err = first_error(log) if os.path.exists(log) else "no output"
            text = open(log, errors="replace").read() if os.path.exists(log) else ""
            m = SUMMARY.search(text)
            p = PROVIDER.search(text)
            r["provider"] = p.group(1).rsplit(".", 1)[-1] if p else None
            reg = registry(os.path.join(raw, r["stdout"])) if m else {}
            want = r["threads"] * r["iterations"]
            got = reg.get("edit", {}).get("count")
            # WALPE logs a writer thread's exception and carries on
            thread_failed = "Thread failed" in text
            if thread_failed:
                err = next(x for x in text.splitlines() if "Thread failed" in x)[:400]
            if r["status"] != "ok" or not m or thread_failed or got != want:
                why = r["status"] if r["status"] != "ok" else "no Summary line" if not m else \
                    f"{int(got or 0)} of {want} edits timed" if got != want else ""
                r["error"] = "; ".join(x for x in (why, err) if x) or "failed"
            else:
                r["ops"] = float(m.group(5))
                r["reg"] = reg
            runs.append(r)
    return runs


def med(xs):
    return statistics.median(xs) if xs else None


def f(x, nd=2):
    if x is None:
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:.{nd}f}"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def main(raw, mode, reps, seconds, jsonl):
    runs = parse(raw)
    unavailable = []
    if os.path.exists(os.path.join(raw, "unavailable.tsv")):
        with open(os.path.join(raw, "unavailable.tsv")) as fh:
            unavailable = [line.rstrip("\n").split("\t", 1) for line in fh if "\t" in line]
    peers = list(dict.fromkeys(r["peer"] for r in runs))
    threads = sorted({r["threads"] for r in runs})
    iters = {r["threads"]: r["iterations"] for r in runs}
    providers = sorted({f"{r['peer']}: {r['provider']}" for r in runs if r.get("provider")})

    fig = defaultdict(lambda: defaultdict(list))  # (peer, threads) -> name -> [values]
    errors = defaultdict(list)
    with open(jsonl, "w") as out:
        for r in runs:
            key = (r["peer"], r["threads"])
            base = {"peer": r["peer"], "workload": "walpe", "variant": f"threads={r['threads']}",
                    "rep": int(r["rep"]), "iterations": r["iterations"]}
            if "error" in r:
                errors[key].append(f"rep {r['rep']}: {r['error']}")
                out.write(json.dumps({**base, "metric": "ops_per_s", "value": None,
                                      "unit": "ops/s", "error": r["error"]}) + "\n")
                continue
            vals = {"ops_per_s": (r["ops"], "ops/s")}
            for h, unit, scale in (("edit", "ms", 1e6), ("sync", "ms", 1e6)):
                for q in ("p50", "p99", "p999"):
                    v = r["reg"].get(h, {}).get(q)
                    if v is not None:
                        vals[f"{h}_{q}"] = (v / scale, unit)
            if "mean" in r["reg"].get("per_sync", {}):
                vals["edits_per_sync"] = (r["reg"]["per_sync"]["mean"], "edits")
            for name, (v, unit) in vals.items():
                fig[key][name].append(v)
                out.write(json.dumps({**base, "metric": name, "value": v, "unit": unit}) + "\n")

    def m(peer, t, name):
        return med(fig[(peer, t)].get(name, []))

    sl = [p for p in peers if p.startswith("sluice")]
    others = [p for p in peers if p not in sl]
    lines = ["## HBase WALPerformanceEvaluation", ""]
    lines.append(
        f"HBase 2.5.11's `WALPerformanceEvaluation` (hbase-server tests jar), {mode} mode, "
        f"{reps} repetition(s), peers interleaved; {seconds} s for the part. Per run: THREADS "
        "threads, each writing its own region of one shared WAL (`-threads T -regions T`), each "
        "edit a Put of a 16-byte key and one 512-byte value, a WAL sync after every edit "
        "(WALPE's defaults; no `-nosync`), `-verify` after the timing; iterations per thread: "
        + ", ".join(f"{iters[t]:,} at {t} thread(s)" for t in threads) + ". HBase's default WAL "
        "provider" + (f" ({'; '.join(providers)})" if providers else "") + "; on HDFS it writes "
        "through HBase's fan-out DFS output, elsewhere through HBase's wrapper around the file "
        "system's stream (an hflush per sync); `hbase.unsafe.stream.capability.enforce` at its "
        "default (true). The peers' settings are the peer driver's (run.sh): Sluice on the "
        "MariaDB + S3 and the SQLite + S3 volume with a disk cache (an hflush stages to it, "
        "fdatasync'ed); the JuiceFS SDK on the same volumes, no writeback (an hflush uploads to "
        "S3); HDFS: a MiniDFSCluster (1 NameNode, 1 DataNode, replication 1) on loopback.")
    lines.append("")
    lines.append("edits/s: WALPE's Summary (all threads' edits over the wall time). Edit: the "
                 "latency of one append with the wait for its sync, as a handler sees it; sync: "
                 "the duration of a WAL sync; both in ms, from WALPE's Dropwizard histograms (a "
                 "1,028-value sample per run: p99.9 is an estimate). Edits/sync: the mean number "
                 "of edits one sync completed (group commit). Medians over the repetitions; "
                 "[min-max] of edits/s when more than one. 2 cores shared by client, servers "
                 "and MinIO: noisy figures.")
    lines.append("")
    for peer, why in unavailable:
        lines.append(f"- **{peer}: not measured** - {why}")
    if unavailable:
        lines.append("")
    head = ["peer", "threads", "edits/s", "edit p50", "edit p99", "edit p99.9", "sync p50",
            "sync p99", "edits/sync"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for t in threads:
        for p in sl + others:
            key = (p, t)
            ops = fig[key].get("ops_per_s", [])
            if not ops:
                lines.append(f"| {p} | {t} | failed (below) |" + " |" * (len(head) - 3))
                continue
            cell = f(med(ops))
            if len(ops) > 1:
                cell += f" [{f(min(ops))}-{f(max(ops))}]"
            if errors[key]:
                cell += f" ({len(errors[key])} failed run(s))"
            row = [p, str(t), cell] + [f(m(p, t, n)) for n in
                                       ("edit_p50", "edit_p99", "edit_p999", "sync_p50",
                                        "sync_p99", "edits_per_sync")]
            lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    if sl and others:
        lines.append("Sluice against each peer: edits/s Sluice/peer, edit-latency p50 and p99 "
                     "peer/Sluice (above 1: Sluice better).")
        lines.append("")
        head = ["threads", "peer"] + [f"{s} vs it: edits/s, p50, p99" for s in sl]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for t in threads:
            for p in others:
                cells = [str(t), p]
                for s in sl:
                    cells.append(", ".join((
                        ratio(m(s, t, "ops_per_s"), m(p, t, "ops_per_s")),
                        ratio(m(p, t, "edit_p50"), m(s, t, "edit_p50")),
                        ratio(m(p, t, "edit_p99"), m(s, t, "edit_p99")))))
                lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    failed = [(k, e) for k, es in errors.items() for e in es]
    if failed:
        lines.append("Failed runs (their logs are in walpe/ beside this report):")
        lines.append("")
        for (p, t), e in failed:
            lines.append(f"- {p}, {t} thread(s), {e}")
        lines.append("")
    print("\n".join(lines).rstrip())


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit("usage: walpe_report.py RAW-DIR MODE REPS SECONDS JSONL-OUT")
    main(*sys.argv[1:])
