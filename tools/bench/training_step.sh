#!/usr/bin/env bash
# Training steps (forward + backward to the input embeddings, 1,536 tokens) on the same random weights and
# inputs: PyTorch autograd, then gemel keeping every block's activations, then gemel with recompute under a
# 350 MB heap; each side runs the same step twice (the first pays for set-up and, in gemel, the JIT). Each
# gemel run is a fresh JVM so its peak RSS is its own.
#   tools/bench/training_step.sh [DIR] [SHAPE]      (SHAPE: opt-125m (default), opt-350m-prenorm, opt-1.3b)
# RECOMPUTE_HEAP caps the recompute run's heap (default: 350m, 1200m for opt-1.3b), to show what it needs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-/tmp/gemel-training-step}"
shape="${2:-opt-125m}"
. "$root/scripts/java-home.sh"
. "$root/tools/bench/openblas-kernels.sh"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
[ -f "$dir/model/model.safetensors" ] || /usr/bin/python3 "$root/tools/bench/training_step.py" make "$dir" --shape "$shape"
/usr/bin/python3 "$root/tools/bench/training_step.py" torch "$dir"
(cd "$root" && mvn -q -B -ntp -DskipTests package -pl app -am && mvn -q -B -ntp -pl engine test-compile)
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC
      -cp "$root/app/target/gemel-app.jar:$root/engine/target/test-classes")
"${java[@]}" gemel.engine.grad.TrainingStepBench "$dir" --keep 2>&1 | grep -v '^WARNING'
heap="${RECOMPUTE_HEAP:-$([ "$shape" = opt-1.3b ] && echo 1200m || echo 350m)}"
"${java[@]}" "-Xmx$heap" gemel.engine.grad.TrainingStepBench "$dir" --recompute 2>&1 | grep -v '^WARNING'
