"""goals.py - the performance goals of issue 17 and the headline table of report.md that says,
from the figures of one `make bench` run, which of them Sluice met.

GOALS is the one list of goals. Each has the text shown, the part of the run its figures come
from (run.sh's SLUICE_BENCH_ONLY names), a comparison ("at_least": Sluice / peer must be at
least the bound, for rates; "at_most": Sluice / reference at most the bound, for latencies and
memory) and the checks it is made of, every check one pair of figures of the same run. A goal
passes when every check passes; a check whose figures are missing is "not measured" with the
reason (its part did not run, or its peer could not be obtained). A goal's "evidence" names
what in the same report shows what bounds it, said beside the verdict when it falls short: a
perf profile of the C API (core.sh), the counters of a metadata call, the hflush breakdown.

Figures: `figures` is report.py's summary of results.jsonl (medians over repetitions, keyed by
(workload, variant, metric) then peer); `core` is core.sh's core.tsv (PART.NAME -> value, unit).
"""

# The memory cap: the configured buffer (memory-size) plus at most this. Checked on the C API
# (core_bench prints its memory-size), whose process holds nothing else: in the Hadoop driver
# Sluice's native memory cannot be told from the JVM's (report.py's CPU and memory table shows
# the driver's peak RSS per peer).
MEMORY_SLACK_MIB = 64

# (label, Sluice's peer, the peer compared with): the same database for both
JFS_MYSQL = ("MariaDB", "sluice-mysql", "juicefs-mysql")
JFS_SQLITE = ("SQLite", "sluice-sqlite", "juicefs-sqlite")
S3A = ("MariaDB+S3", "sluice-mysql", "s3a")


# where each kind of goal's bound is shown (core.md, the C API section of the report)
PROFILE_WRITE = ("the profile \"write\" and the CPU s/GiB rows (C API section); over HTTPS "
                 "the payload is not hashed: the HTTP/HTTPS table there")
PROFILE_COLD = "the profile \"cold-read\" (C API section)"
PROFILE_WARM = "the profile \"warm-read\" (C API section)"
META_CALLS = ("the backend operations per metadata call and their times (C API section, after "
              "the table against the raw limits)")
HFLUSH_PARTS = ("the concurrent hflush breakdown: staging (fdatasync), commit and wait per "
                "hflush (C API section)")


def _peer_goal(text, workload, variants, metric, pairs, bound, evidence):
    return {"text": text, "part": "peers", "compare": "at_least", "bound": bound,
            "evidence": evidence,
            "checks": [{"kind": "peers", "label": f"{v}, {db}" if len(pairs) > 1 else v,
                        "key": (workload, v, metric), "sluice": s, "peer": p}
                       for db, s, p in pairs for v in variants]}


def _core_goal(text, pairs, bound, evidence):
    return {"text": text, "part": "core", "compare": "at_least", "bound": bound,
            "evidence": evidence,
            "checks": [{"kind": "core", "label": label, "sluice": s, "ref": r}
                       for label, s, r in pairs]}


META_OPS = ["create", "open", "stat", "list", "rename", "delete"]
# hflush setups by the suffix of their peers' names (benchmarks/hflush.sh)
HFLUSH_SETUPS = {"1": "R=1", "2": "R=2", "2bg": "R=2 with hflush.commit=background"}

GOALS = (
    [_peer_goal("Sequential write ≥ 1.5× the JuiceFS Hadoop SDK (MariaDB+S3, MiB/s)", "seqwrite",
                ["t1", "t4"], "throughput", [JFS_MYSQL], 1.5, PROFILE_WRITE),
     _peer_goal("Sequential write ≥ 2× S3A (MiB/s)", "seqwrite", ["t1", "t4"], "throughput",
                [S3A], 2.0, PROFILE_WRITE),
     _peer_goal("Cold sequential read ≥ 1.5× the JuiceFS Hadoop SDK (MariaDB+S3, MiB/s)",
                "seqread", ["cold-t1", "cold-t4"], "throughput", [JFS_MYSQL], 1.5, PROFILE_COLD),
     _peer_goal("Cold sequential read ≥ 2× S3A (MiB/s)", "seqread", ["cold-t1", "cold-t4"],
                "throughput", [S3A], 2.0, PROFILE_COLD),
     # over HTTP the payload is hashed (SHA-256), over HTTPS not (UNSIGNED-PAYLOAD + CRC32C)
     _core_goal("Sequential write ≥ 0.9× raw S3 PUT at the same concurrency, over HTTP and "
                "HTTPS (C API, 20 transfers, MiB/s)",
                [("MariaDB+S3", "s3.sluice_write", "s3.raw_s3_put"),
                 ("MariaDB+S3 over HTTPS", "s3tls.sluice_write", "s3tls.raw_s3_put")], 0.9,
                PROFILE_WRITE),
     _core_goal("Cold sequential read ≥ 0.9× raw S3 GET at the same concurrency, over HTTP and "
                "HTTPS (C API, 20 transfers, MiB/s)",
                [("MariaDB+S3", "s3.sluice_read", "s3.raw_s3_get"),
                 ("MariaDB+S3 over HTTPS", "s3tls.sluice_read", "s3tls.raw_s3_get")], 0.9,
                PROFILE_COLD),
     _core_goal("Warm read (disk cache) ≥ 0.8× a plain local file (C API, MiB/s)",
                [("SQLite+file", "cachefile.warm_read", "cachefile.plain_file_read"),
                 ("MariaDB+S3", "caches3.warm_read", "caches3.plain_file_read")], 0.8,
                PROFILE_WARM)]
    + [_peer_goal(f"Metadata {op} ≥ 2× the JuiceFS SDK on the same database (ops/s)", "meta",
                  [f"{op}-t1", f"{op}-t16"], "ops_per_s", [JFS_MYSQL, JFS_SQLITE], 2.0,
                  META_CALLS)
       for op in META_OPS]
    + [_core_goal(f"Metadata {op} ≥ 0.8× one single-row transaction (C API, one thread, ops/s)",
                  [("MariaDB", f"mysql.sluice_{op}", "mysql.raw_db_txn"),
                   ("SQLite", f"sqlite.sluice_{op}", "sqlite.raw_db_txn")], 0.8, META_CALLS)
       for op in ("create", "rename", "delete")]
    + [{"text": f"hflush p50 and p99 ≤ HDFS's (3 DataNodes), {t} thread(s) with a file each, "
                f"{HFLUSH_SETUPS[r]}: the better Sluice database", "part": "hflush",
        "compare": "at_most", "bound": 1.0, "evidence": HFLUSH_PARTS,
        "checks": [{"kind": "hflush", "variant": f"t{t}", "replicas": r,
                    "metric": m, "label": m[:3]} for m in ("p50_us", "p99_us")]}
       for t in (1, 4, 16) for r in HFLUSH_SETUPS]
    + [{"text": f"Peak RSS of the C API ≤ memory-size + {MEMORY_SLACK_MIB} MiB (core_bench, "
                "VmHWM per phase)", "part": "core", "compare": "at_most", "bound": 1.0,
        "checks": [{"kind": "core_memory", "label": f"{phase}, {name}",
                    "rss": f"{b}.sluice_{phase}_peak_rss", "buffer": f"{b}.memory_size"}
                   for b, name in (("file", "SQLite+file"), ("s3", "MariaDB+S3"))
                   for phase in ("write", "read")]}]
)


def fmt(x):
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _median(figures, key, peer):
    f = figures.get(key, {}).get(peer)
    return f[0] if f else None


def _best_hflush(figures, variant, replicas):
    """The Sluice peer of R=replicas whose worse of p50 and p99 against HDFS is the lowest."""
    ref50 = _median(figures, ("hflush", variant, "p50_us"), "hdfs-3dn")
    ref99 = _median(figures, ("hflush", variant, "p99_us"), "hdfs-3dn")
    if not ref50 or not ref99:
        return None
    best = None
    for peer in figures.get(("hflush", variant, "p50_us"), {}):
        if not (peer.startswith("sluice-") and peer.endswith(f"-r{replicas}")):
            continue
        p50 = _median(figures, ("hflush", variant, "p50_us"), peer)
        p99 = _median(figures, ("hflush", variant, "p99_us"), peer)
        if p50 is None or p99 is None:
            continue
        worse = max(p50 / ref50, p99 / ref99)
        if best is None or worse < best[0]:
            best = (worse, peer)
    return best and best[1]


def _check(c, figures, core, labels, best):
    """(Sluice's figure, the peer's figure, ratio, whose figures: Sluice's, the peer's) of one
    check as texts but the ratio, or (None, reason)."""
    kind = c["kind"]
    if kind == "peers":
        s, p = _median(figures, c["key"], c["sluice"]), _median(figures, c["key"], c["peer"])
        if s is None or p is None:
            return None, f"{c['sluice'] if s is None else c['peer']} has no figure"
        return fmt(s), fmt(p), s / p if p else None, c["sluice"], c["peer"]
    if kind == "core":
        s, r = core.get(c["sluice"]), core.get(c["ref"])
        if s is None or r is None:
            return None, "no figure in core.tsv"
        return (fmt(s[0]), fmt(r[0]), s[0] / r[0] if r[0] else None, None,
                c["ref"].split(".", 1)[1])
    if kind == "hflush":
        peer = best.get((c["variant"], c["replicas"]))
        ref = _median(figures, ("hflush", c["variant"], c["metric"]), "hdfs-3dn")
        if peer is None or ref is None:
            return None, "no Sluice or HDFS figure"
        s = _median(figures, ("hflush", c["variant"], c["metric"]), peer)
        return (f"{s / 1000:.2f} ms", f"{ref / 1000:.2f} ms", s / ref, labels.get(peer, peer),
                labels.get("hdfs-3dn", "HDFS"))
    if kind == "core_memory":
        rss, buf = core.get(c["rss"]), core.get(c["buffer"])
        if rss is None or buf is None:
            return None, "no figure in core.tsv"
        cap = buf[0] + MEMORY_SLACK_MIB
        return f"{fmt(rss[0])} MiB", f"{cap:.0f} MiB", rss[0] / cap, None, "the cap"
    raise ValueError(kind)


def headline(figures, core, rows, meta):
    """Markdown lines of the headline table: one row per goal."""
    parts = set(meta.get("parts", ["peers", "core", "libhdfs", "spark", "hflush", "walpe"]))
    unavailable = meta.get("unavailable", {})
    labels = {r["peer"]: r.get("label", r["peer"]) for r in rows if r["workload"] == "hflush"}
    best = {(f"t{t}", r): _best_hflush(figures, f"t{t}", r)
            for t in (1, 4, 16) for r in HFLUSH_SETUPS}
    out = ["## Goals (issue 17)", "",
           "One row per goal, every figure from this run (medians of its repetitions). Ratio: "
           "Sluice's figure over the peer's or the reference's; a goal \"≥ k×\" passes when "
           "every ratio is at least k, a goal \"≤\" when every ratio is at most 1. Where a row "
           "has several figures they are its cases (thread counts, databases, phases), in the "
           "same order in every column.", "",
           "| goal | Sluice | peer / reference | ratio | verdict |", "|---|---|---|---|---|"]
    for g in GOALS:
        if g["part"] not in parts:
            out.append(f"| {g['text']} | | | | not measured (part {g['part']} not run) |")
            continue
        sl, pe, ra, missing, failed = [], [], [], [], False
        whose = ({}, {})  # Sluice's and the peer's sources, each said once below its figures
        for c in g["checks"]:
            r = _check(c, figures, core, labels, best)
            if r[0] is None:
                why = r[1]
                peer = c.get("peer")
                if peer and peer in unavailable:
                    why = f"{peer}: {unavailable[peer]}"
                elif peer and "peers" in meta and peer not in meta["peers"]:
                    why = f"peer {peer} not run"
                missing.append(f"{c['label']}: {why}")
                continue
            s_text, p_text, x, s_who, p_who = r
            for d, who in zip(whose, (s_who, p_who)):
                if who:
                    d[who] = None
            ok = x is not None and (x >= g["bound"] if g["compare"] == "at_least"
                                    else x <= g["bound"])
            failed |= not ok
            sl.append(f"{c['label']}: {s_text}")
            pe.append(p_text)
            ra.append(f"{c['label']}: " + (f"{x:.2f}×" if x is not None else "n/a"))
        if not sl:
            verdict = "not measured (" + "; ".join(dict.fromkeys(
                m.split(": ", 1)[1] for m in missing)) + ")"
        else:
            verdict = "**FALL SHORT**" if failed else "PASS"
            if failed and g.get("evidence"):
                verdict += f"<br>what bounds it: {g['evidence']}"
            if missing:
                verdict += " (not measured: " + "; ".join(missing) + ")"
        pe = [f"{c}: {t}" for c, t in zip((x.split(": ", 1)[0] for x in sl), pe)]
        for column, d in zip((sl, pe), whose):
            if d:
                column.append("(" + ", ".join(d) + ")")
        out.append("| " + " | ".join([g["text"], "<br>".join(sl), "<br>".join(pe),
                                      "<br>".join(ra), verdict]) + " |")
    out.append("")
    return out
