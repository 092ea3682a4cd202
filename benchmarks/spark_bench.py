"""spark_bench.py ROWS REPS NAME=URL... - Spark's Parquet write and read times on each target
(a sluice:// volume, file://), targets interleaved per repetition. Prints one line per run:
NAME REP write_s read_s. Run by benchmarks/spark.sh (settings in its spark-defaults.conf).
Not a test: tests/engines/spark.sh checks the results."""
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

rows, reps = int(sys.argv[1]), int(sys.argv[2])
targets = [a.split("=", 1) for a in sys.argv[3:]]
spark = SparkSession.builder.appName("sluice-bench").getOrCreate()
df = spark.range(0, rows, 1, 4).select(
    F.col("id"), (F.col("id") % 1000).alias("k"),
    F.concat(F.lit("name-"), (F.col("id") % 5003).cast("string")).alias("name"),
    (F.col("id") * 0.5).alias("value"), F.sha1(F.col("id").cast("string")).alias("digest"))
# warm up the JVM, the code generator and the Parquet classes on the last target (file://)
df.write.mode("overwrite").parquet(f"{targets[-1][1]}/bench-warmup")
spark.read.parquet(f"{targets[-1][1]}/bench-warmup").agg(F.sum("value")).first()
for rep in range(1, reps + 1):
    for name, url in targets:
        path = f"{url}/bench-parquet"
        t = time.time()
        df.write.mode("overwrite").parquet(path)
        write_s = time.time() - t
        t = time.time()
        n = spark.read.parquet(path).agg(F.count("*"), F.sum("value"),
                                         F.countDistinct("digest")).first()[0]
        read_s = time.time() - t
        assert n == rows, (name, n)
        print(f"{name} {rep} {write_s:.3f} {read_s:.3f}", flush=True)
spark.stop()
