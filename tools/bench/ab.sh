#!/usr/bin/env bash
# Times decode steps, one matrix product, or a prompt, of two revisions of the engine in one JVM, alternating
# (gemel.bench.AlternatingSteps):
#
#   tools/bench/ab.sh REV_A REV_B MODEL_DIR [ROWS=1] [STEPS=30] [PROMPT=256]
#   tools/bench/ab.sh REV_A REV_B product DTYPE ROWS IN [TOKENS=1] [STEPS=100]
#   tools/bench/ab.sh REV_A REV_B prefill MODEL_DIR TOKENS [STEPS=10]
#
# e.g. tools/bench/ab.sh 94ceb98 73f3800 /tmp/gemel-bench/models/opt-1.3b-fp16 5
#      tools/bench/ab.sh 3d56c1f 5bba353 product F16 1024 2048    (a 4 MiB weight: from the caches)
# Each revision's engine is compiled in a temporary git worktree; the bench module of this checkout runs them.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$root/scripts/java-home.sh"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
rev_a=$1 rev_b=$2
if [ "$3" = product ]; then # AlternatingSteps' arguments before the two builds, and after them
  [ $# -ge 6 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
  before=(product "$4" "$5" "$6" "${7:-1}" "${8:-100}") after=()
elif [ "$3" = prefill ]; then
  [ $# -ge 5 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
  before=(prefill "$4" "$5" "${6:-10}") after=()
else
  before=("$3" "${4:-1}" "${5:-30}") after=("${6:-256}")
fi
work="$(mktemp -d)"
cleanup() {
  for side in a b; do git -C "$root" worktree remove --force "$work/$side" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

build() { # build <side> <rev>: the engine classes of <rev> under $work/<side>
  git -C "$root" worktree add --quiet --detach "$work/$1" "$2"
  (cd "$work/$1" && mvn -q -B -ntp -DskipTests -pl engine package >&2)
  echo "ab: $2 built in $work/$1/engine/target/classes" >&2
}
build a "$rev_a"
build b "$rev_b"
(cd "$root" && mvn -q -B -ntp -DskipTests package -pl bench -am >&2)
echo "ab: A = $rev_a, B = $rev_b" >&2
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
  -cp "$root/bench/target/gemel-bench.jar" gemel.bench.AlternatingSteps "${before[@]}" \
  "$work/a/engine/target/classes" "$work/b/engine/target/classes" "${after[@]}"
