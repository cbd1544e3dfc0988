#!/usr/bin/env bash
# Training-step benchmark (issue 5): forward + backward + AdamW of one decoder layer of the demo model, batch 8 x 256
# tokens, in come4j and in torch (transformers' decoder layer), same machine, same run, same thread count; prints both
# and the ratio. THREADS=1 compares thread CPU times (robust when other work shares the machine); the default (all
# cores) compares wall times and wants a quiet machine.
# Usage: [THREADS=n] bench/distill_step.sh [MODEL_DIR] [layer] [batch] [seq_len] [steps] [rounds]
# Needs a Python with torch and transformers: PYTHON=/path/to/python (default: .venv/bin/python, then python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/tools/jdk.sh"
model="${1:-$here/../shared/models/sotu-llama-12l}"; layer="${2:-0}"; batch="${3:-8}"; T="${4:-256}"; steps="${5:-10}"; rounds="${6:-3}"
py="${PYTHON:-$here/.venv/bin/python}"; [ -x "$py" ] || py=python3
threads="${THREADS:-$(nproc)}"
"$here/come" --version >/dev/null 2>&1   # builds the jar if needed
for r in $(seq "$rounds"); do   # alternate the two so drift on a shared machine hits both
  j=$("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "$here/target/come4j.jar:$here/target/lib/*" \
      come4j.distill.StepBenchmark "$model" "$layer" "$batch" "$T" "$steps" "$threads" 2>/dev/null)
  t=$("$py" "$here/bench/distill_step.py" "$model" "$layer" "$batch" "$T" "$steps" "$threads")
  echo "$j"; echo "$t"
  jm=$(sed -E 's/.*mean ([0-9.]+) ms.*/\1/' <<<"$j"); tm=$(sed -E 's/.*mean ([0-9.]+) ms.*/\1/' <<<"$t")
  awk -v j="$jm" -v t="$tm" 'BEGIN { printf "round: come4j / torch step time = %.2f (below 1: come4j faster)\n", j / t }'
done
