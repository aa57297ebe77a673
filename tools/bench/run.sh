#!/usr/bin/env bash
# Runs benchmark sections, gemel and its PyTorch peer in the same run, and rewrites their sections of BENCHMARKS.md.
#
#   tools/bench/run.sh [section...]     default: machine decoders clip entity-tree native-product
#   sections: machine decoders clip entity-tree native-product (its peer is C, compiled here with gcc)
#   (BENCHMARKS.md's link and train sections come from their own commands, named in those sections)
#
# Environment:
#   GEMEL_BENCH_DIR       scratch folder outside the repository: random models, plan, results (default /tmp/gemel-bench;
#                         the real set needs ~20 GB of disk, kept between runs; models are generated once)
#   GEMEL_BENCH_SET       real (default) | dev (small stand-ins that try the whole harness in a minute)
#   GEMEL_BENCH_MODELS    a space-separated subset of the plan's models, e.g. "opt-125m-fp32 llama-1b-bf16"
#   GEMEL_BENCH_MARKDOWN  the file whose sections are rewritten (default BENCHMARKS.md at the root)
#   GEMEL_BENCH_JAVA_OPTIONS  extra options for gemel's JVM, e.g. "-XX:UseAVX=2" to time 256-bit vectors as on a processor
#                         without AVX-512 (then set OPENBLAS_CORETYPE=Haswell too, so that the peer uses AVX2 as well)
# Sections run in the order listed above whatever the order asked: the bounds of the others come from machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$root/scripts/java-home.sh"
py=/usr/bin/python3
here="$root/tools/bench"
dir="${GEMEL_BENCH_DIR:-/tmp/gemel-bench}"
set_name="${GEMEL_BENCH_SET:-real}"
markdown="${GEMEL_BENCH_MARKDOWN:-$root/BENCHMARKS.md}"
results="$dir/results"
plan="$dir/plan.json"
all=(machine decoders clip entity-tree native-product)
asked=("$@")
[ ${#asked[@]} -gt 0 ] || asked=("${all[@]}")
for s in "${asked[@]}"; do
  [[ " ${all[*]} " == *" $s "* ]] || { echo "run.sh: unknown section $s (${all[*]})" >&2; exit 2; }
done
sections=()
for s in "${all[@]}"; do
  if [[ " ${asked[*]} " == *" $s "* ]]; then sections+=("$s"); fi
done

. "$here/openblas-kernels.sh"

mkdir -p "$results/logits"
generate=()
if [[ " ${sections[*]} " == *" decoders "* || " ${sections[*]} " == *" clip "* ]]; then generate=(--generate); fi
echo "bench: plan ($set_name) in $plan${generate:+, generating missing models}" >&2
"$py" "$here/plan.py" --dir "$dir" --set "$set_name" "${generate[@]}"

echo "bench: building the bench module" >&2
(cd "$root" && mvn -q -B -ntp -DskipTests package -pl bench -am >&2)
read -r -a java_options <<< "${GEMEL_BENCH_JAVA_OPTIONS:-}"
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx4g
      "${java_options[@]}" -jar "$root/bench/target/gemel-bench.jar")

models() {
  if [ -n "${GEMEL_BENCH_MODELS:-}" ]; then echo "$GEMEL_BENCH_MODELS"; return; fi
  "$py" -c 'import json, sys; print(" ".join(m["name"] for m in json.load(open(sys.argv[1]))["models"]))' "$plan"
}

report() { "$py" "$here/report.py" "$@" --results "$results"; }

# One side on one model: a failure is recorded (the report lists it) and the other models still run.
measure_model() {
  local impl=$1 model=$2
  shift 2
  if ! "$@"; then
    echo "bench: $impl failed on $model" >&2
    printf '{"section": "decoders", "impl": "%s", "model": "%s", "phase": "failed"}\n' "$impl" "$model" >> "$results/decoders.jsonl"
  fi
}
# the command as typed, with the settings that change what it measures
command="tools/bench/run.sh${*:+ $*}"
for v in GEMEL_BENCH_SET GEMEL_BENCH_MODELS GEMEL_BENCH_JAVA_OPTIONS; do
  if [ -n "${!v:-}" ]; then command="$v=\"${!v}\" $command"; fi
done

for s in "${sections[@]}"; do
  case "$s" in
    machine|decoders|clip|entity-tree|native-product)
      start=$(date +%s)
      rm -f "$results/$s.jsonl"
      report context --section "$s" --stage begin --java "$JAVA_HOME/bin/java" --command "$command"
      if [ "$s" = native-product ]; then
        command -v gcc >/dev/null || { echo "run.sh: native-product needs gcc for its C peer (apt-get install gcc)" >&2; exit 2; }
        mkdir -p "$dir/native"
        gcc -O2 -march=native -pthread -shared -fPIC -Wall -Werror -o "$dir/native/libgemel-native-product.so" "$here/native/decode_product.c"
        "${java[@]}" "$s" --plan "$plan" --out "$results/$s.jsonl" --native "$dir/native/libgemel-native-product.so"
      elif [ "$s" != decoders ]; then
        "${java[@]}" "$s" --plan "$plan" --out "$results/$s.jsonl"
        if [ "$s" != entity-tree ]; then   # the entity tree has no peer
          "$py" "$here/torch_peer.py" "$s" --plan "$plan" --out "$results/$s.jsonl"
        fi
      else
        list=($(models))
        for i in "${!list[@]}"; do
          m="${list[$i]}"
          echo "bench: decoders: $m ($((i + 1)) of ${#list[@]}, $(( $(date +%s) - start )) s so far)" >&2
          measure_model gemel "$m" "${java[@]}" decoders --plan "$plan" --out "$results/decoders.jsonl" --model "$m"
          measure_model torch "$m" "$py" "$here/torch_peer.py" decoders --plan "$plan" --out "$results/decoders.jsonl" --model "$m"
          report context --section "$s" --stage end   # the section so far, should the run be cut short
          report render --section "$s" --plan "$plan" --markdown "$markdown"
        done
      fi
      report context --section "$s" --stage end
      echo "bench: section $s took $(( $(date +%s) - start )) s" >&2
      ;;
  esac
  report render --section "$s" --plan "$plan" --markdown "$markdown"
done
