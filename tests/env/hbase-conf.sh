# hbase-conf.sh - sourced by the HBase test step (tests/engines/hbase.sh) and the WAL benchmark
# (benchmarks/walpe.sh): the lines of the configuration files both write for HBase.

# hbase_property NAME VALUE: one property of hbase-site.xml.
hbase_property() { echo "  <property><name>$1</name><value>$2</value></property>"; }

# hbase_log4j TIME-FORMAT LOGGER...: log4j.properties with warnings and errors on stderr, their
# time as TIME-FORMAT, and the LOGGERs at INFO.
hbase_log4j() {
  local time=$1 logger
  shift
  printf '%s\n' 'log4j.rootLogger=WARN,console' \
    'log4j.appender.console=org.apache.log4j.ConsoleAppender' \
    'log4j.appender.console.target=System.err' \
    'log4j.appender.console.layout=org.apache.log4j.PatternLayout' \
    "log4j.appender.console.layout.ConversionPattern=%d{$time} %p %c{1}: %m%n"
  for logger in "$@"; do
    echo "log4j.logger.$logger=INFO"
  done
}
