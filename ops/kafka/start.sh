#!/usr/bin/env bash
# A single Apache Kafka KRaft node (broker + controller) for development, in the foreground:
#   127.0.0.1:9092 (clients), 127.0.0.1:9093 (controller); data in .cache/kafka/data (kept across runs).
#   KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_DATA override them. Ctrl-C stops it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bash "$here/fetch.sh"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
lib="$root/.cache/kafka/$version/lib"
port="${KAFKA_PORT:-9092}"
cport="${KAFKA_CONTROLLER_PORT:-9093}"
data="${KAFKA_DATA:-$root/.cache/kafka/data}"
mkdir -p "$data"
config="$data/server.properties"
cat >"$config" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
# A static quorum (controller.quorum.voters) of one: `StorageTool format -t <id> -c <config>` is all it needs
# (--standalone / --initial-controllers are for dynamic quorums, controller.quorum.bootstrap.servers).
# The cluster id is made once, when the log dir is formatted; later runs reuse the data.
java_opts=(-Xms256m -Xmx1g "-Dlog4j2.configurationFile=$here/log4j2.properties" -cp "$lib/*")
if [ ! -f "$data/logs/meta.properties" ]; then
  id="$(java -cp "$lib/*" kafka.tools.StorageTool random-uuid)"
  echo "Formatting a new KRaft log dir in ${data#"$root"/}/logs (cluster $id)"
  java "${java_opts[@]}" kafka.tools.StorageTool format -t "$id" -c "$config" >/dev/null
fi
echo "Kafka $version on 127.0.0.1:$port (export KAFKA_BROKERS=127.0.0.1:$port); Ctrl-C stops it"
exec java "${java_opts[@]}" kafka.Kafka "$config"
