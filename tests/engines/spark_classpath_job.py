"""spark_classpath_job.py VOLUME TAP_FILE - Spark with the Sluice jar on the JVM class path
(spark.driver.extraClassPath) and no fs.* setting, the second way of docs/configuration.md
("Spark"): Hadoop finds sluice:// through META-INF/services, and the jar's default resource binds
FileContext, which Structured Streaming's checkpoints use (before, Spark fell back to the
FileSystem API and warned that its checkpoints' correctness was not guaranteed). A Parquet write
and read, and a streaming query run twice on its checkpoint. Run by tests/engines/spark.sh."""
import sys

from pyspark.sql import functions as F

from spark_checks import Checks, session

volume, tap_path = sys.argv[1], sys.argv[2]
SL = f"sluice://{volume}/classpath"
spark, sc, jvm, hconf = session(f"sluice-classpath-{volume}")
check = Checks(tap_path, f"{volume} (jar on the class path)")

check(hconf.get("spark.hadoop.fs.sluice.impl") is None and hconf.get("fs.sluice.impl") is None,
      "no fs.sluice.impl setting")
spark.range(0, 100_000, 1, 2).write.mode("overwrite").parquet(f"{SL}/t")
got = spark.read.parquet(f"{SL}/t").agg(F.count("*"), F.sum("id")).first()
check(tuple(got) == (100_000, sum(range(100_000))), "Parquet written and read back", tuple(got))
check(hconf.get("fs.AbstractFileSystem.sluice.impl") == "io.sluice.hadoop.Sluice",
      "FileContext bound by the jar", hconf.get("fs.AbstractFileSystem.sluice.impl"))
try:
    fc = jvm.org.apache.hadoop.fs.FileContext.getFileContext(jvm.java.net.URI(SL), hconf)
    fc_class = fc.getDefaultFileSystem().getClass().getName()
except Exception as e:  # noqa: BLE001  Py4JJavaError: UnsupportedFileSystemException
    fc_class = str(e)[:300]
check(fc_class == "io.sluice.hadoop.Sluice", "FileContext.getFileContext(sluice://) gives Sluice",
      fc_class)
for run in (1, 2):
    q = (spark.readStream.format("rate-micro-batch").option("rowsPerBatch", 100)
         .option("numPartitions", 2).load()
         .writeStream.format("parquet").option("path", f"{SL}/stream-out")
         .option("checkpointLocation", f"{SL}/stream-checkpoint")
         .trigger(processingTime="0 seconds").start())
    while len([p for p in q.recentProgress if p["numInputRows"] > 0]) < 3:  # 3 batches a run
        q.awaitTermination(0.2)
        if q.exception() is not None:
            break
    q.stop()
    check(q.exception() is None, f"streaming run {run} ends without error", q.exception())
ids = spark.read.parquet(f"{SL}/stream-out").select("value").collect()
values = sorted(r[0] for r in ids)
check(len(values) == len(set(values)) and values == list(range(len(values))) and
      len(values) >= 600, "streaming, stopped and restarted: every row once, none lost",
      len(values))
spark.stop()
check.exit()
