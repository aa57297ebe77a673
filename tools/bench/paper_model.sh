#!/usr/bin/env bash
# The paper's model as published (a random OPT-6.7B in fp16 `.bin` shards, see paper_model.py), timed by gemel alone;
# rewrites BENCHMARKS.md's section paper-model. The checkpoint is written once (13.4 GB on disk, ~10 GB of RAM for
# a few minutes); the timing takes about ten minutes and needs about 20 GB of RAM.
#   tools/bench/paper_model.sh [DIR]      (default /tmp/gemel-paper; GEMEL_BENCH_MARKDOWN: the file to rewrite)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tools/bench"
dir="${1:-/tmp/gemel-paper}"
markdown="${GEMEL_BENCH_MARKDOWN:-$root/BENCHMARKS.md}"
py=/usr/bin/python3
. "$root/scripts/java-home.sh"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
results="$dir/results"
mkdir -p "$results"
"$py" "$here/paper_model.py" make --dir "$dir"
"$py" "$here/paper_model.py" plan --dir "$dir" --out "$dir/plan.json"
(cd "$root" && mvn -q -B -ntp -DskipTests package -pl bench -am >&2)
rm -f "$results/paper-model.jsonl"
"$py" "$here/paper_model.py" context --stage begin --java "$JAVA_HOME/bin/java" --results "$results"
# the peak resident set of the whole JVM: heap, the mapped shards and the read buffer
/usr/bin/time -f '%M' -o "$results/peak-rss-kb" \
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx6g \
  -jar "$root/bench/target/gemel-bench.jar" decoders --plan "$dir/plan.json" --out "$results/paper-model.jsonl" \
  --model opt-6.7b-fp16 2>&1 | grep -v '^WARNING'
"$py" "$here/paper_model.py" context --stage end --results "$results"
"$py" "$here/paper_model.py" render --dir "$dir" --results "$results/paper-model.jsonl" \
  --rss-kb "$(tail -n 1 "$results/peak-rss-kb")" --markdown "$markdown"
