# hbase-java-flags.sh - sourced: HBASE_JAVA_FLAGS, what HBase's bin/hbase passes to Java 11+
# (its add_jdk11_jvm_flags) and nothing else for Sluice; the HBase test step
# (tests/engines/hbase.sh) and the WALPerformanceEvaluation benchmark (benchmarks/walpe.sh) run
# HBase with them.
HBASE_JAVA_FLAGS=(-Xmx1g -Dorg.apache.hbase.thirdparty.io.netty.tryReflectionSetAccessible=true
  --add-modules jdk.unsupported --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED
  --add-opens java.base/java.util.concurrent=ALL-UNNAMED
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-exports java.base/sun.net.dns=ALL-UNNAMED --add-exports java.base/sun.net.util=ALL-UNNAMED)
