#!/usr/bin/env bash
# Resolves the pinned Apache Kafka server and its runtime dependencies from Maven Central into
# .cache/kafka/<version>/lib. Idempotent: when the jars for this pom are already there it returns at once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
dest="$root/.cache/kafka/$version"
stamp="$dest/.stamp"
want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"

fresh() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && ls "$dest/lib"/kafka_2.13-*.jar >/dev/null 2>&1; }
# KAFKA_FETCH_QUIET=1 (the test helper): say nothing when there is nothing to do.
if fresh; then
  [ "${KAFKA_FETCH_QUIET:-}" = 1 ] || echo "Kafka $version jars present in ${dest#"$root"/}/lib"
  exit 0
fi
# Test files, the benchmark and a developer may all call this at once on a fresh clone: one resolves,
# the others wait for it and then find the jars in place.
mkdir -p "$dest"
exec 9>"$dest.lock"
if command -v flock >/dev/null; then flock 9; fi
if fresh; then
  echo "Kafka $version jars present in ${dest#"$root"/}/lib (resolved by a concurrent fetch.sh)"
  exit 0
fi
if ! command -v mvn >/dev/null; then
  echo "fetch.sh: Maven (mvn) is not installed; it resolves Kafka $version from Maven Central" >&2
  exit 1
fi
if ! command -v java >/dev/null; then
  echo "fetch.sh: Java is not installed; Kafka $version needs Java 17+" >&2
  exit 1
fi
echo "Resolving Apache Kafka $version from Maven Central into ${dest#"$root"/}/lib ..."
rm -rf "$dest/lib.tmp"
if ! mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$dest/lib.tmp" >"$dest/fetch.log" 2>&1; then
  echo "fetch.sh: Maven could not resolve Kafka $version; last lines of ${dest#"$root"/}/fetch.log:" >&2
  tail -n 30 "$dest/fetch.log" >&2
  exit 1
fi
rm -rf "$dest/lib"
mv "$dest/lib.tmp" "$dest/lib"
echo "$want" >"$stamp"
echo "Kafka $version: $(ls "$dest/lib" | wc -l) jars in ${dest#"$root"/}/lib"
