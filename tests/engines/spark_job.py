"""spark_job.py VOLUME LOCAL_DIR TAP_FILE - the Spark jobs of issue 11 on sluice://VOLUME, each
compared with the same job on file://LOCAL_DIR: Parquet and ORC (2 million rows), dynamic
partition overwrite, append/overwrite, saveAsTable into a warehouse on sluice://, text and CSV, a
Structured Streaming query stopped and restarted on its sluice:// checkpoint, a task attempt that
fails once and a job that fails for good. Every output directory must have _SUCCESS and no
_temporary. Run by tests/engines/spark.sh, which writes spark-defaults.conf (SPARK_CONF_DIR); the
session here adds no settings of its own. Appends one TAP line per check to TAP_FILE; exits 1 if
any check failed."""
import os
import sys
import time

from pyspark import TaskContext
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

from spark_checks import Checks, session

volume, local_dir, tap_path = sys.argv[1], sys.argv[2], sys.argv[3]
SL = f"sluice://{volume}/spark"
LO = f"file://{local_dir}"
ROWS = 2_000_000

spark, sc, jvm, hconf = session(f"sluice-{volume}")
check = Checks(tap_path, volume, scrub=lambda what: what.replace(LO, "file://LOCAL"))


def fs_of(path):
    p = jvm.org.apache.hadoop.fs.Path(path)
    return p.getFileSystem(hconf), p


def tree(path):
    """Every entry under path, relative, directories with a trailing /; None if path is absent."""
    fs, root = fs_of(path)
    if not fs.exists(root):
        return None
    base = fs.makeQualified(root).toString().rstrip("/")
    out, todo = [], [root]
    while todo:
        for st in fs.listStatus(todo.pop()):
            rel = st.getPath().toString()[len(base) + 1:]
            if st.isDirectory():
                out.append(rel + "/")
                todo.append(st.getPath())
            else:
                out.append(rel)
    return sorted(out)


def committed(path, what):
    """_SUCCESS there, nothing named _temporary or .spark-staging anywhere below."""
    entries = tree(path) or []
    check("_SUCCESS" in entries, f"{what}: _SUCCESS in {path}", entries[:20])
    leaked = [e for e in entries if "_temporary" in e or ".spark-staging" in e]
    check(not leaked, f"{what}: no _temporary/.spark-staging in {path}", leaked[:20])
    return entries


def data_files(entries):
    return [e for e in entries if not e.endswith("/") and e.rsplit("/", 1)[-1].startswith("part-")]


def aggregates(df):
    row = df.agg(F.count("*").alias("n"), F.sum("id").alias("sum_id"),
                 F.sum("value").alias("sum_value"), F.countDistinct("name").alias("names"),
                 F.countDistinct("k").alias("ks"), F.min("k").alias("min_k"),
                 F.max("k").alias("max_k"), F.min("name").alias("min_name"),
                 F.max("name").alias("max_name"), F.min("value").alias("min_value"),
                 F.max("value").alias("max_value"), F.sum("part").alias("sum_part")).first()
    return row.asDict()


def timed(label, fn):
    t = time.time()
    result = fn()
    print(f"  {volume}: {label} {time.time() - t:.1f} s", flush=True)
    return result


start = time.time()

# -- Parquet and ORC, 2 million rows, against file://
big = spark.range(0, ROWS, 1, 4).select(
    F.col("id"), (F.col("id") % 1000).alias("k"),
    F.concat(F.lit("name-"), (F.col("id") % 5003).cast("string")).alias("name"),
    (F.col("id") * 0.5).alias("value"), (F.col("id") % 7).cast("int").alias("part"))
expected = aggregates(big)
check(expected["n"] == ROWS, "the generated DataFrame has 2,000,000 rows", expected)
for fmt in ("parquet", "orc"):
    for base in (LO, SL):
        path = f"{base}/big_{fmt}"
        where = "sluice" if base == SL else "file"
        timed(f"{fmt} write on {where}",
              lambda: big.write.mode("overwrite").format(fmt).save(path))
        entries = committed(path, f"{fmt} write")
        check(len(data_files(entries)) == 4, f"{fmt}: 4 part files in {path}", entries)
        got = timed(f"{fmt} read on {where}",
                    lambda: aggregates(spark.read.format(fmt).load(path)))
        check(got == expected, f"{fmt} read back from {where}:// equals the written DataFrame",
              (got, expected))
    # the same rows, joined on id, both ways
    diff = (spark.read.format(fmt).load(f"{SL}/big_{fmt}")
            .exceptAll(spark.read.format(fmt).load(f"{LO}/big_{fmt}")).count())
    check(diff == 0, f"{fmt}: sluice:// and file:// hold the same rows", diff)
    filtered = spark.read.format(fmt).load(f"{SL}/big_{fmt}").where("k = 7 and part = 3").count()
    check(filtered == big.where("k = 7 and part = 3").count(), f"{fmt}: pushed-down filter")

# -- partitionBy with dynamic partition overwrite
small = spark.range(0, 10_000, 1, 2).select(
    F.col("id"), (F.col("id") % 5).cast("int").alias("p"), F.lit("old").alias("tag"))
for base in (LO, SL):
    path = f"{base}/parts"
    small.write.mode("overwrite").partitionBy("p").parquet(path)
    committed(path, "partitionBy")
    (spark.range(100_000, 100_300, 1, 2)
     .select(F.col("id"), F.lit(2).alias("p"), F.lit("new").alias("tag"))
     .write.mode("overwrite").option("partitionOverwriteMode", "dynamic")
     .partitionBy("p").parquet(path))
    entries = committed(path, "dynamic partition overwrite")
    dirs = sorted(e for e in entries if e.endswith("/"))
    check(dirs == [f"p={i}/" for i in range(5)], f"dynamic overwrite: partitions p=0..4 in {path}",
          dirs)
    counts = {r["p"]: (r["n"], r["tags"]) for r in spark.read.parquet(path).groupBy("p").agg(
        F.count("*").alias("n"), F.collect_set("tag").alias("tags")).collect()}
    want = {p: (2000, ["old"]) for p in (0, 1, 3, 4)}
    want[2] = (300, ["new"])
    check(counts == want, f"dynamic overwrite replaced p=2 only in {path}", counts)

# -- partition values that paths must escape, an external table on them, partitions recovered
odd = ["a b", "x/y", "\u00e9 \u00fc", "50%", "c:d", "q?r", "h#i", "t=u", "[br]", "{c,u}", "st*ar",
       "pl+us", "semi;colon", "back\\slash", "quote'", 'dq"']
odd_df = spark.createDataFrame([(i, odd[i % len(odd)]) for i in range(len(odd) * 10)],
                               "id long, s string")
odd_trees = {}
for base in (LO, SL):
    odd_df.write.mode("overwrite").partitionBy("s").parquet(f"{base}/odd")
    committed(f"{base}/odd", "odd partition values")
    odd_trees[base] = sorted(e for e in tree(f"{base}/odd") if e.endswith("/"))
    got = sorted(tuple(r) for r in spark.read.parquet(f"{base}/odd").groupBy("s").count().collect())
    check(got == sorted((v, 10) for v in odd), f"odd partition values read back from "
          f"{base.split(':')[0]}://", got)
    check(spark.read.parquet(f"{base}/odd/s=a*").count() == 10, f"a glob in {base.split(':')[0]}://")
check(odd_trees[SL] == odd_trees[LO], "odd partition values: the same directory names as file://",
      odd_trees)
spark.sql(f"CREATE TABLE spark_ext (id long, s string) USING parquet PARTITIONED BY (s) "
          f"LOCATION '{SL}/odd'")
spark.sql("ALTER TABLE spark_ext RECOVER PARTITIONS")
check(spark.sql("SHOW PARTITIONS spark_ext").count() == len(odd) and
      spark.table("spark_ext").count() == len(odd) * 10,
      "external table: RECOVER PARTITIONS finds every partition")
spark.sql("DROP TABLE spark_ext")
check(spark.read.parquet(f"{SL}/odd").count() == len(odd) * 10,
      "external table: DROP TABLE keeps the data")

# -- mode append and overwrite
path = f"{SL}/modes"
spark.range(0, 1000, 1, 2).write.mode("overwrite").parquet(path)
spark.range(1000, 1500, 1, 2).write.mode("append").parquet(path)
entries = committed(path, "append")
got = spark.read.parquet(path).agg(F.count("*"), F.sum("id")).first()
check(tuple(got) == (1500, sum(range(1500))), "append: 1000 + 500 rows", tuple(got))
check(len(data_files(entries)) == 4, "append: 4 part files", entries)
spark.range(0, 200, 1, 1).write.mode("overwrite").parquet(path)
entries = committed(path, "overwrite")
got = spark.read.parquet(path).agg(F.count("*"), F.sum("id")).first()
check(tuple(got) == (200, sum(range(200))), "overwrite: only the 200 new rows", tuple(got))
check(len(data_files(entries)) == 1, "overwrite: the old files are gone", entries)
try:
    spark.range(0, 10).write.parquet(path)          # default mode: errorifexists
    check(False, "mode error: writing to an existing path fails")
except Exception as e:  # noqa: BLE001  AnalysisException
    check("already exists" in str(e), "mode error: writing to an existing path fails", str(e)[:300])

# -- saveAsTable into the warehouse on sluice:// (spark.sql.warehouse.dir, spark-defaults.conf)
warehouse = spark.conf.get("spark.sql.warehouse.dir")
check(warehouse.startswith(f"sluice://{volume}/"), "the warehouse is on sluice://", warehouse)
spark.sql("DROP TABLE IF EXISTS spark_t")
small.write.mode("overwrite").partitionBy("p").saveAsTable("spark_t")
table_dir = warehouse.rstrip("/") + "/spark_t"
committed(table_dir, "saveAsTable")
got = spark.table("spark_t").agg(F.count("*"), F.sum("id")).first()
check(tuple(got) == (10_000, sum(range(10_000))), "saveAsTable: spark.table reads it back",
      tuple(got))
spark.sql("INSERT INTO spark_t SELECT 20000 AS id, 'sql' AS tag, 4 AS p")
check(spark.sql("SELECT count(*) FROM spark_t WHERE p = 4").first()[0] == 2001,
      "saveAsTable: INSERT INTO adds a row")
loc = spark.sql("DESCRIBE TABLE EXTENDED spark_t").where("col_name = 'Location'").first()
check(loc is not None and loc["data_type"] == table_dir, "saveAsTable: location in the warehouse",
      loc)
spark.sql("INSERT OVERWRITE spark_t PARTITION (p = 1) SELECT 30000 AS id, 'static' AS tag")
got = {r["p"]: r["n"] for r in spark.sql("SELECT p, count(*) AS n FROM spark_t GROUP BY p").collect()}
check(got == {0: 2000, 1: 1, 2: 2000, 3: 2000, 4: 2001}, "INSERT OVERWRITE of one static partition",
      got)
committed(table_dir, "INSERT OVERWRITE")
spark.sql("ANALYZE TABLE spark_t COMPUTE STATISTICS")
stats = spark.sql("DESCRIBE TABLE EXTENDED spark_t").where("col_name = 'Statistics'").first()
fs_t, p_t = fs_of(table_dir)
files_it = fs_t.listFiles(p_t, True)
size = 0
while files_it.hasNext():
    size += files_it.next().getLen()
check(stats is not None and stats["data_type"].startswith(f"{size} bytes"),
      "ANALYZE TABLE: the table's size is that of its files", (stats, size))
spark.sql("ALTER TABLE spark_t RENAME TO spark_t2")
check(tree(table_dir) is None and spark.table("spark_t2").count() == 8002,
      "ALTER TABLE RENAME moves the table's directory", tree(table_dir))
table_dir = warehouse.rstrip("/") + "/spark_t2"
spark.sql("TRUNCATE TABLE spark_t2")
check(spark.table("spark_t2").count() == 0 and not data_files(tree(table_dir) or []),
      "TRUNCATE TABLE empties the table", tree(table_dir))
spark.sql("DROP TABLE spark_t2")
check(tree(table_dir) is None, "DROP TABLE removes the table's data", tree(table_dir))

# -- many partitions: listed by a Spark job (over parallelPartitionDiscovery.threshold, 32)
wide = spark.range(0, 40_000, 1, 2).select(F.col("id"), (F.col("id") % 40).alias("w"))
for base in (LO, SL):
    wide.write.mode("overwrite").partitionBy("w").parquet(f"{base}/wide")
    committed(f"{base}/wide", "40 partitions")
    got = spark.read.parquet(f"{base}/wide").groupBy("w").count().where("count = 1000").count()
    check(got == 40, f"40 partitions, listed in parallel, read back from {base.split(':')[0]}://",
          got)

# -- files split into many input partitions (seeks into the middle of files, block locations)
spark.conf.set("spark.sql.files.maxPartitionBytes", 256 * 1024)
spark.conf.set("spark.sql.files.openCostInBytes", 0)
lines_big = spark.range(0, 400_000, 1, 1).select(
    F.concat(F.lit("line "), F.col("id").cast("string")).alias("value"))
for base in (LO, SL):
    lines_big.write.mode("overwrite").text(f"{base}/lines")
    (big.write.mode("overwrite").option("parquet.block.size", 1 << 20)
     .parquet(f"{base}/big_rowgroups"))
split_reads = {}
for base in (LO, SL):
    t = spark.read.text(f"{base}/lines")
    pq = spark.read.parquet(f"{base}/big_rowgroups")
    split_reads[base] = (t.rdd.getNumPartitions(), t.count(), t.distinct().count(),
                         pq.rdd.getNumPartitions(), aggregates(pq))
    check(split_reads[base][1:3] == (400_000, 400_000) and split_reads[base][4] == expected,
          f"split reads from {base.split(':')[0]}://: every line and row once",
          split_reads[base][:4])
check(split_reads[SL][0] > 4 and split_reads[SL][3] > 4, "split reads: many input partitions",
      split_reads[SL][:4])
check(split_reads[SL] == split_reads[LO], "split reads: the same splits and rows as on file://",
      (split_reads[SL][:4], split_reads[LO][:4]))
spark.conf.unset("spark.sql.files.maxPartitionBytes")
spark.conf.unset("spark.sql.files.openCostInBytes")

# -- the RDD API: the old mapred committer (saveAsTextFile), FileInputFormat splits (textFile),
# CombineFileInputFormat (wholeTextFiles), a file shipped to tasks from sluice:// (addFile)
for base in (LO, SL):
    fs_b, p_b = fs_of(f"{base}/rdd-text")
    fs_b.delete(p_b, True)
    sc.parallelize(range(100_000), 3).map(lambda x: f"r{x}").saveAsTextFile(f"{base}/rdd-text")
    committed(f"{base}/rdd-text", "saveAsTextFile")
    back = sc.textFile(f"{base}/rdd-text", 12)
    check(back.getNumPartitions() >= 12 and back.count() == 100_000 and
          back.distinct().count() == 100_000,
          f"textFile in {back.getNumPartitions()} splits from {base.split(':')[0]}://")
    whole = sc.wholeTextFiles(f"{base}/rdd-text").collect()
    check(sorted(n.rsplit("/", 1)[-1] for n, _ in whole) == ["part-00000", "part-00001",
                                                            "part-00002"] and
          sum(t.count("\n") for _, t in whole) == 100_000,
          f"wholeTextFiles from {base.split(':')[0]}://", [n for n, _ in whole])
sc.addFile(f"{SL}/rdd-text/part-00001")
shipped = sc.parallelize([0], 1).map(
    lambda _: open(__import__("pyspark").SparkFiles.get("part-00001")).read().count("\n")).first()
check(shipped == 33_333, "addFile from sluice://: the file reaches the tasks", shipped)

# -- RDD checkpoint on sluice://
sc.setCheckpointDir(f"{SL}/rdd-checkpoints")
rdd = sc.parallelize(range(100_000), 4).map(lambda x: x * 2)
rdd.checkpoint()
check(rdd.sum() == 2 * sum(range(100_000)) and rdd.isCheckpointed(), "RDD checkpoint written")
check(rdd.sum() == 2 * sum(range(100_000)), "RDD checkpoint read back")

# -- text and CSV
lines = spark.range(0, 50_000, 1, 2).select(
    F.concat(F.lit("line "), F.col("id").cast("string"), F.lit(", with a comma")).alias("value"))
schema = StructType([StructField("id", LongType()), StructField("name", StringType()),
                     StructField("note", StringType())])
rows = spark.range(0, 50_000, 1, 2).select(
    F.col("id"), F.concat(F.lit("n"), F.col("id").cast("string")).alias("name"),
    F.when(F.col("id") % 3 == 0, F.lit('quoted "x", y')).otherwise(F.lit(None)).alias("note"))
for base in (LO, SL):
    lines.write.mode("overwrite").text(f"{base}/text")
    committed(f"{base}/text", "text")
    back = spark.read.text(f"{base}/text")
    check(back.count() == 50_000 and back.exceptAll(lines).count() == 0,
          f"text read back from {base.split(':')[0]}://")
    rows.write.mode("overwrite").option("header", True).csv(f"{base}/csv")
    committed(f"{base}/csv", "csv")
    back = spark.read.option("header", True).schema(schema).csv(f"{base}/csv")
    check(back.count() == 50_000 and back.exceptAll(rows).count() == 0,
          f"csv read back from {base.split(':')[0]}://")
check(spark.read.option("header", True).schema(schema).csv(f"{SL}/csv").exceptAll(
    spark.read.option("header", True).schema(schema).csv(f"{LO}/csv")).count() == 0,
    "csv: sluice:// and file:// hold the same rows")

# -- Structured Streaming: file source -> parquet sink, checkpoint on sluice://, stop and restart
stream_in, stream_out, ckpt = f"{SL}/stream/in", f"{SL}/stream/out", f"{SL}/stream/checkpoint"
for d in (f"{SL}/stream",):
    fs, p = fs_of(d)
    fs.delete(p, True)
fs_in, p_in = fs_of(stream_in)
fs_in.mkdirs(p_in)


def drop_file(i):
    """File i holds ids i*1000 .. i*1000+999 as CSV; written under a dot name, then renamed."""
    data = "".join(f"{j},f{i}\n" for j in range(i * 1000, i * 1000 + 1000)).encode()
    tmp = jvm.org.apache.hadoop.fs.Path(f"{stream_in}/.f{i}.tmp")
    out = fs_in.create(tmp, False)
    out.write(bytearray(data))
    out.close()
    check(fs_in.rename(tmp, jvm.org.apache.hadoop.fs.Path(f"{stream_in}/f{i}.csv")),
          f"stream: file {i} renamed into the input directory")


stream_schema = StructType([StructField("id", LongType()), StructField("src", StringType())])


def start_stream(**trigger):
    q = (spark.readStream.schema(stream_schema).option("maxFilesPerTrigger", 2).csv(stream_in)
         .writeStream.format("parquet").option("path", stream_out)
         .option("checkpointLocation", ckpt))
    if trigger:
        q = q.trigger(**trigger)
    return q.start()


def stream_ids():
    return sorted(r[0] for r in spark.read.parquet(stream_out).select("id").collect())


for i in range(0, 3):
    drop_file(i)
q = start_stream()                      # a continuously running query, stopped by hand
q.processAllAvailable()
q.stop()
check(stream_ids() == list(range(3000)), "stream, first run: files 0-2 once each")
for i in range(3, 7):
    drop_file(i)
q = start_stream(availableNow=True)     # restarted from the checkpoint
q.awaitTermination(300)
check(q.exception() is None, "stream, second run: no error", q.exception())
check(stream_ids() == list(range(7000)), "stream, restart: files 3-6 added, nothing twice or lost")
q = start_stream(availableNow=True)     # nothing new: no new rows
q.awaitTermination(300)
check(stream_ids() == list(range(7000)), "stream, restart without new files: unchanged")
ck = tree(ckpt) or []
check(any(e.startswith("offsets/") for e in ck) and any(e.startswith("commits/") for e in ck),
      "stream: the checkpoint has offsets/ and commits/", ck[:20])
leaked = [e for e in ck + (tree(stream_out) or []) if e.rsplit("/", 1)[-1].endswith(".tmp")
          or "_temporary" in e]
check(not leaked, "stream: no temporary files left in checkpoint or sink", leaked)


# -- stateful streaming (a running count and sum per key, complete mode): the state store's files
# in the sluice:// checkpoint carry the state across a restart; both of Spark's providers
def state_run(name, provider, ckpt_dir):
    spark.conf.set("spark.sql.streaming.stateStore.providerClass", provider)
    q = (spark.readStream.schema(stream_schema).option("maxFilesPerTrigger", 2).csv(stream_in)
         .groupBy("src").agg(F.count("*").alias("n"), F.sum("id").alias("s"))
         .writeStream.outputMode("complete").format("memory").queryName(name)
         .option("checkpointLocation", ckpt_dir).start())
    q.processAllAvailable()
    q.stop()
    return sorted(tuple(r) for r in spark.table(name).collect())


def state_want(files):
    return sorted((f"f{i}", 1000, sum(range(i * 1000, i * 1000 + 1000))) for i in files)


providers = {"HDFSBackedStateStoreProvider": "org.apache.spark.sql.execution.streaming.state."
             "HDFSBackedStateStoreProvider",
             "RocksDBStateStoreProvider": "org.apache.spark.sql.execution.streaming.state."
             "RocksDBStateStoreProvider"}
for i in range(7, 9):
    drop_file(i)
state_files = list(range(0, 9))
for short, provider in providers.items():
    state_ckpt = f"{SL}/stream/state-{short}"
    got = state_run(f"state_{short}_1", provider, state_ckpt)
    check(got == state_want(state_files), f"stateful stream ({short}), first run", got)
state_files += [9, 10]
for i in (9, 10):
    drop_file(i)
for short, provider in providers.items():
    state_ckpt = f"{SL}/stream/state-{short}"
    got = state_run(f"state_{short}_2", provider, state_ckpt)
    check(got == state_want(state_files),
          f"stateful stream ({short}), restarted: the state came back from sluice://", got)
    st = tree(state_ckpt) or []
    check(any(e.startswith("state/0/") and not e.endswith("/") for e in st),
          f"stateful stream ({short}): state files in the checkpoint", st[:20])
spark.conf.unset("spark.sql.streaming.stateStore.providerClass")

# -- a task attempt that fails once: the retry's output only, nothing of the failed attempt
@F.udf("long")
def fail_first_attempt(i):
    ctx = TaskContext.get()
    if ctx.partitionId() == 1 and ctx.attemptNumber() == 0 and i == 150_000:
        open(f"{local_dir}/attempt-failed-stage-{ctx.stageId()}", "w").close()
        raise RuntimeError("the first attempt of task 1 fails half way (intended)")
    return i


@F.udf("long")
def fail_always(i):
    if i == 150_000:
        raise RuntimeError("task 1 fails on every attempt (intended)")
    return i


def failed_attempts():
    return len([f for f in os.listdir(local_dir) if f.startswith("attempt-failed-")])


for base in (LO, SL):
    before = failed_attempts()
    path = f"{base}/retried"
    (spark.range(0, 200_000, 1, 2).select(fail_first_attempt("id").alias("id"))
     .write.mode("overwrite").parquet(path))
    entries = committed(path, "a task retried")
    check(len(data_files(entries)) == 2 and len(entries) == 3,
          f"a task retried: two part files and _SUCCESS, nothing else in {path}", entries)
    check(failed_attempts() == before + 1,
          f"a task retried: its first attempt did fail half way ({path})")
    got = spark.read.parquet(path).agg(F.count("*"), F.countDistinct("id"), F.sum("id")).first()
    check(tuple(got) == (200_000, 200_000, sum(range(200_000))),
          f"a task retried: every row once in {path}", tuple(got))

failed_tree = {}
for base in (LO, SL):
    path = f"{base}/failed"
    try:
        (spark.range(0, 200_000, 1, 2).select(fail_always("id").alias("id"))
         .write.mode("overwrite").parquet(path))
        check(False, f"a failing job fails ({base})")
    except Exception as e:  # noqa: BLE001  Py4JJavaError
        check("fails on every attempt" in str(e), f"a failing job fails ({base.split(':')[0]}://)",
              str(e)[:300])
    failed_tree[base] = tree(path)
    check(not [e for e in (failed_tree[base] or []) if not e.endswith("/")],
          f"a failed job leaves no files in {path}", failed_tree[base])
check(failed_tree[SL] == failed_tree[LO], "a failed job leaves on sluice:// what it leaves on file://",
      failed_tree)

# -- the event log (spark.eventLog.dir in spark-defaults.conf) on sluice://: written with hflush
# while the application runs (.inprogress), renamed when it stops
events = spark.conf.get("spark.eventLog.dir")
app = sc.applicationId
inprogress = [e for e in (tree(events) or []) if e.startswith(app)]
check(inprogress == [app + ".inprogress"], "event log: .inprogress while running", inprogress)
spark.stop()
done = [e for e in (tree(events) or []) if e.startswith(app)]
check(done == [app], "event log: renamed when the application stops", done)
fs_e, p_e = fs_of(f"{events}/{app}")
log_text = jvm.org.apache.commons.io.IOUtils.toString(fs_e.open(p_e), "UTF-8") if done else ""
check('"Event":"SparkListenerApplicationEnd"' in log_text and
      log_text.count('"Event":"SparkListenerJobEnd"') > 50,
      "event log: complete, with every job", log_text[-300:])
print(f"  {volume}: all jobs {time.time() - start:.1f} s, {check.failures} failed checks",
      flush=True)
check.exit()
