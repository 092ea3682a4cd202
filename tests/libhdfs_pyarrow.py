"""libhdfs_pyarrow.py - pyarrow.fs.HadoopFileSystem on a Sluice volume through libsluice-hdfs.so:
writes and reads a partitioned Parquet dataset there and on local disk and compares the two, then
runs the file system calls pyarrow offers. Run by tests/libhdfs-pyarrow.sh, which sets up the
volume, core-site.xml, ARROW_LIBHDFS_DIR and JAVA_HOME."""
import sys
import time

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

volume, local_dir = sys.argv[1], sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAILED:", what, file=sys.stderr)


start = time.time()
sluice = pafs.HadoopFileSystem(volume, 0)       # pyarrow hands libhdfs "hdfs://" + host
default = pafs.HadoopFileSystem("default")      # sluice.default.volume in core-site.xml
local = pafs.LocalFileSystem()

n = 300_000
table = pa.table({
    "id": pa.array(range(n), pa.int64()),
    "name": pa.array([f"row-{i % 1000}" for i in range(n)]),
    "value": pa.array([i * 0.5 for i in range(n)], pa.float64()),
    "part": pa.array([i % 5 for i in range(n)], pa.int32()),
})

roots = {"sluice": (sluice, "/warehouse/t"), "local": (local, local_dir + "/warehouse/t")}
for name, (fs, root) in roots.items():
    ds.write_dataset(table, root, filesystem=fs, format="parquet", partitioning=["part"],
                     partitioning_flavor="hive", max_rows_per_group=50_000)


def listing(fs, root):
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    return sorted((i.path[len(root):], i.type, i.size if i.type == pafs.FileType.File else 0)
                  for i in infos)


ls_sluice, ls_local = listing(*roots["sluice"]), listing(*roots["local"])
check(ls_sluice == ls_local, f"listings differ:\n{ls_sluice}\n{ls_local}")
check(len([x for x in ls_sluice if x[1] == pafs.FileType.File]) == 5, "5 parquet files")

tables = {}
for name, (fs, root) in roots.items():
    t = ds.dataset(root, filesystem=fs, format="parquet", partitioning="hive").to_table()
    tables[name] = t.sort_by("id").select(["id", "name", "value", "part"])
check(tables["sluice"].equals(tables["local"]), "datasets differ")
check(tables["sluice"].num_rows == n, "row count")
check(tables["sluice"].column("value").to_pylist()[12345] == 12345 * 0.5, "a value")

# ranged reads: a projection and a filter on one file (footer, then column chunks: hdfsPread)
f = "/warehouse/t/part=3/part-0.parquet"
fl = local_dir + f
t = pq.read_table(f, filesystem=sluice, columns=["value"], filters=[("value", ">", 100000.0)])
tl = pq.read_table(fl, filesystem=local, columns=["value"], filters=[("value", ">", 100000.0)])
# write_dataset writes with several threads: rows within a file come in any order
check(t.sort_by("value").equals(tl.sort_by("value")), "filtered read differs")
check(t.num_rows == len([i for i in range(3, n, 5) if i * 0.5 > 100000.0]), "filtered rows")
md = pq.ParquetFile(f, filesystem=sluice).metadata
mdl = pq.ParquetFile(fl, filesystem=local).metadata
check(md.num_rows == mdl.num_rows == n // 5 and md.schema.equals(mdl.schema), "metadata")

# the file system calls
fs = sluice
fs.create_dir("/ops/a/b")
check(fs.get_file_info("/ops/a/b").type == pafs.FileType.Directory, "create_dir")
check(fs.get_file_info("/ops/missing").type == pafs.FileType.NotFound, "NotFound")
with fs.open_output_stream("/ops/a/f") as out:
    out.write(b"0123456789")
with fs.open_append_stream("/ops/a/f") as out:
    out.write(b"abc")
with fs.open_input_file("/ops/a/f") as inp:
    check(inp.size() == 13, "size")
    check(inp.read_at(5, 3) == b"34567", "read_at")  # (nbytes, offset)
    inp.seek(10)
    check(inp.read() == b"abc", "seek+read")
with fs.open_input_stream("/ops/a/f") as inp:
    check(inp.read() == b"0123456789abc", "input stream")
fs.copy_file("/ops/a/f", "/ops/g")
fs.move("/ops/g", "/ops/a/b/h")
check(fs.get_file_info("/ops/a/b/h").size == 13, "copy+move")
with default.open_input_file("/ops/a/b/h") as inp:
    check(inp.read() == b"0123456789abc", "second connection")
fs.delete_file("/ops/a/b/h")
fs.delete_dir_contents("/ops/a")
check(fs.get_file_info(pafs.FileSelector("/ops/a")) == [], "delete_dir_contents")
fs.delete_dir("/ops")
check(fs.get_file_info("/ops").type == pafs.FileType.NotFound, "delete_dir")
try:
    fs.open_input_file("/nothing/here")
    check(False, "opening a missing file must fail")
except (FileNotFoundError, OSError):
    pass

print(f"pyarrow {pa.__version__} on sluice volume '{volume}': "
      f"{'FAILED' if failures else 'ok'} ({time.time() - start:.1f} s)")
sys.exit(1 if failures else 0)
