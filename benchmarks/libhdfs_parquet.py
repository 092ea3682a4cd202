"""libhdfs_parquet.py - one repetition of the pyarrow Parquet benchmark for one peer (not a test):
writes a dataset, reads it back whole, then reads one column with a filter (column chunks by
positional reads), through pyarrow.fs.HadoopFileSystem("default") (whichever libhdfs.so
ARROW_LIBHDFS_DIR holds: Sluice's, or Apache's with a JVM) or the local file system. Run by
benchmarks/libhdfs.sh, which sets the environment; appends JSON lines (peer, workload, variant,
metric, rep, value, unit) to OUT.

  libhdfs_parquet.py PEER VARIANT hdfs|local ROOT ROWS REP OUT

The dataset is the same in every process (seeded): ROWS rows of an int64 id, a random int64, a
random float64 and a short string; random numbers so that Parquet cannot shrink them away (about
34 bytes a row on disk), in 8 files of row groups of up to 256 Ki rows. Timings start after the
connection (reported on its own: it starts the JVM for Apache's libhdfs). Also reported: the CPU
time of the process (all its threads) over the write and the reads, and its peak RSS (which
includes the dataset in memory, the same for every peer).
"""
import json
import random
import resource
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

peer, variant, kind, root, rows, rep, out = sys.argv[1:8]
rows, rep = int(rows), int(rep)


def table(n):
    rnd = random.Random(16)
    ids = pa.array(range(n), pa.int64())
    ints = pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(rnd.randbytes(8 * n))])
    # random doubles in [0, 1): 52 random mantissa bits under a fixed exponent, minus 1
    raw = bytearray(rnd.randbytes(8 * n))
    raw[7::8] = b"\x3f" * n
    raw[6::8] = bytes(b | 0xF0 for b in raw[6::8])
    dbl = pc.subtract(pa.Array.from_buffers(pa.float64(), n, [None, pa.py_buffer(bytes(raw))]), 1.0)
    names = pc.binary_join_element_wise(
        "row-", pc.cast(pc.bit_wise_and(ints, 0xFFFF), pa.string()), "")
    return pa.table({"id": ids, "key": ints, "value": dbl, "name": names})


t = table(rows)
t0 = time.monotonic()
fs = pafs.HadoopFileSystem("default", 0) if kind == "hdfs" else pafs.LocalFileSystem()
connect = time.monotonic() - t0
if kind == "hdfs":
    fs.delete_dir_contents(root, missing_dir_ok=True)
else:
    fs.create_dir(root)
    fs.delete_dir_contents(root)

results = []


def put(metric, value, unit):
    results.append({"peer": peer, "workload": "libhdfs", "variant": variant, "metric": metric,
                    "rep": rep, "value": value, "unit": unit})


cpu0 = time.process_time()  # every thread of the process, the JVM's too
per_file = -(-rows // 8)
group = min(256 * 1024, per_file)
t0 = time.monotonic()
ds.write_dataset(t, root, filesystem=fs, format="parquet", max_rows_per_file=per_file,
                 max_rows_per_group=group, min_rows_per_group=group,
                 existing_data_behavior="overwrite_or_ignore")
write_s = time.monotonic() - t0
files = [i for i in fs.get_file_info(pafs.FileSelector(root, recursive=True))
         if i.type == pafs.FileType.File]
mib = sum(i.size for i in files) / (1 << 20)

t0 = time.monotonic()
back = ds.dataset(root, filesystem=fs, format="parquet").to_table()
read_s = time.monotonic() - t0
if back.num_rows != rows:
    sys.exit(f"{peer}: read {back.num_rows} rows, wrote {rows}")

t0 = time.monotonic()
sel = ds.dataset(root, filesystem=fs, format="parquet").to_table(
    columns=["value"], filter=pc.field("value") > 0.99)
column_s = time.monotonic() - t0
if not 0 < sel.num_rows < rows // 50:
    sys.exit(f"{peer}: the filtered read gave {sel.num_rows} rows")
cpu_s = time.process_time() - cpu0

fs.delete_dir_contents(root)
put("write", mib / write_s, "MiB/s")
put("read", mib / read_s, "MiB/s")
put("read_column", column_s * 1000, "ms")
put("cpu", cpu_s, "s")
put("rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB")
put("connect", connect, "s")
put("dataset", mib, "MiB")
with open(out, "a") as f:
    for r in results:
        f.write(json.dumps(r) + "\n")
print(f"{peer} {variant} rep {rep}: {mib:.0f} MiB in {len(files)} files, write {write_s:.2f} s, "
      f"read {read_s:.2f} s, one column {column_s:.2f} s, connect {connect:.2f} s")
