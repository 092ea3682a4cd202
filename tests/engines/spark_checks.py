"""spark_checks.py - what the Spark jobs of tests/engines/spark.sh share: their session, set up by
spark.sh's spark-defaults.conf alone, and their checks, one TAP line each, appended to the file
spark.sh numbers."""
import sys

from pyspark.sql import SparkSession


def session(app_name):
    """The job's session, its SparkContext, its JVM and its Hadoop configuration."""
    spark = SparkSession.builder.appName(app_name).getOrCreate()
    sc = spark.sparkContext
    return spark, sc, sc._jvm, sc._jsc.hadoopConfiguration()


class Checks:
    """check(cond, what, detail): "ok - LABEL: what" or "not ok - ..." in the TAP file; a failure
    also goes to stderr as "FAILED [LABEL]: what detail", where spark.sh looks for it. scrub
    rewrites what first (a job's local paths, which differ from run to run)."""

    def __init__(self, tap_path, label, scrub=lambda what: what):
        self.tap = open(tap_path, "a")
        self.label = label
        self.scrub = scrub
        self.failures = 0

    def __call__(self, cond, what, detail=""):
        what = self.scrub(what)
        self.tap.write(f"{'ok' if cond else 'not ok'} - {self.label}: {what}\n")
        self.tap.flush()
        if not cond:
            self.failures += 1
            print(f"FAILED [{self.label}]: {what} {detail}", file=sys.stderr, flush=True)

    def exit(self):
        """Ends the job: status 1 if any check failed."""
        self.tap.close()
        sys.exit(1 if self.failures else 0)
