# Apache Kafka, single-node KRaft (broker + controller in one JVM), from Maven Central.
# Sourced by stack.sh after lib.sh.

KAFKA_PORT=${RECO_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${RECO_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_HOME=$STACK_HOME/kafka-$KAFKA_VERSION
KAFKA_PID=$STACK_RUN/kafka.pid
KAFKA_LOG=$STACK_LOGS/kafka.log
KAFKA_DATA=$STACK_DATA/kafka
KAFKA_HEAP=${RECO_KAFKA_HEAP:--Xmx512m -Xms256m}

kafka_install() {
  if [ -f "$KAFKA_HOME/.complete" ]; then return 0; fi
  need_tool java "install a Java runtime >= 11 (e.g. apt-get install openjdk-17-jre-headless)"
  local jv; jv=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  version_at_least "${jv:-0}" 11 || die "Kafka $KAFKA_VERSION needs Java >= 11, found ${jv:-unknown}; install e.g. openjdk-17-jre-headless"
  need_tool mvn "install Apache Maven (e.g. apt-get install maven)"
  rm -rf "$KAFKA_HOME"
  with_progress "resolving Apache Kafka $KAFKA_VERSION from Maven Central" "~1 min" "$STACK_LOGS/build-kafka.log" \
    mvn -q -B -f "$REPO_ROOT/deploy/local/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/libs"
  touch "$KAFKA_HOME/.complete"
}

# kafka_cmd MAINCLASS ARGS...: the JVM command line for a Kafka main class.
kafka_cmd() {
  # shellcheck disable=SC2206 # the heap flags are meant to split
  KAFKA_CMD=(java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$REPO_ROOT/deploy/local/kafka/log4j.properties"
    -cp "$KAFKA_HOME/libs/*" "$@")
}

kafka_config() {
  local cfg=$KAFKA_DATA/server.properties
  cat >"$cfg" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.network.threads=2
num.io.threads=2
PROPS
  echo "$cfg"
}

# Ready = the port answers and this start (not an earlier one) logged
# "Kafka Server started", read from the log offset recorded at start.
kafka_ready() {
  # grep without -q reads to the end: with -q, tail could die of SIGPIPE and
  # pipefail would turn a match into a failure
  tcp_open "$KAFKA_PORT" && tail -c +"$(cat "$STACK_RUN/kafka.logoffset" 2>/dev/null || echo 1)" "$KAFKA_LOG" | grep -c "Kafka Server started" >/dev/null
}

kafka_start() {
  if pid_alive "$KAFKA_PID"; then say "kafka: already running (pid $(cat "$KAFKA_PID"))"; return 0; fi
  port_check "$KAFKA_PORT" "Kafka broker"
  port_check "$KAFKA_CONTROLLER_PORT" "Kafka controller"
  mkdir -p "$KAFKA_DATA"
  local cfg; cfg=$(kafka_config)
  if [ ! -f "$KAFKA_DATA/logs/meta.properties" ]; then
    say "kafka: formatting storage (once)"
    # A fixed cluster id: the data dir belongs to this one local cluster.
    kafka_cmd kafka.tools.StorageTool format -t "rEcOmMeNdErLoCaLcLuStw" -c "$cfg"
    "${KAFKA_CMD[@]}" >>"$KAFKA_LOG" 2>&1 || die "formatting Kafka storage failed; see $KAFKA_LOG"
  fi
  touch "$KAFKA_LOG"; echo $(( $(stat -c %s "$KAFKA_LOG") + 1 )) >"$STACK_RUN/kafka.logoffset"
  kafka_cmd kafka.Kafka "$cfg"
  start_daemon kafka "$KAFKA_PID" "$KAFKA_LOG" "${KAFKA_CMD[@]}"
  wait_for kafka "$KAFKA_LOG" 120 kafka_ready
  say "kafka: ready on 127.0.0.1:$KAFKA_PORT"
}

kafka_stop() { stop_daemon kafka "$KAFKA_PID"; }

kafka_status() { component_status kafka "$KAFKA_PID" "$KAFKA_LOG" "127.0.0.1:$KAFKA_PORT  data $KAFKA_DATA" tcp_open "$KAFKA_PORT"; }
