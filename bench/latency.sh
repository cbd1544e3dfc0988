#!/usr/bin/env bash
# Issue-14 latency table: the demo model dense against its CoMe 30 % output, by the CoMe authors' protocol (`come
# latency`: prompt processing 1 x min(2048, max positions) tokens, 1 warm-up + 50 iterations; generation 64 x (64 + 128
# tokens), 1 warm-up + 10 iterations; the two models timed alternately). Prints the Markdown rows of docs/results.md.
# Usage: bench/latency.sh [THREADS] [MODEL_DIR]   (default: all cores, ../shared/models/sotu-llama-12l; outputs in
# bench/out/latency/). Run it on a quiet machine: the timings are only as good as the machine is idle.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
threads="${1:-$(nproc)}"
model="${2:-../shared/models/sotu-llama-12l}"
out=bench/out/latency
mkdir -p "$out"
come30="$out/come30"
if [ ! -f "$come30/config.json" ]; then
  ./come compress --model "$model" --out "$come30" --sparsity 0.3 --calib models/sotu-llama-12l-bf16/calib.txt \
    --threads "$threads" >/dev/null 2>"$out/compress.log"
fi
./come latency --model "$model" --compare "$come30" --threads "$threads" --json > "$out/latency.json" 2>"$out/latency.log"
python3 - "$out/latency.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
p = o["protocol"]
print(f"{o['threads']} threads; prompt 1 x {p['prompt_tokens']}, {p['iterations']} iterations; generation "
      f"{p['gen_batch']} x ({p['gen_prompt']} + {p['gen_new_tokens']}), {p['gen_iterations']} iterations; warm-up {p['warmup']}")
print("| phase | model | layers | tokens/s | ms/token | ms per iteration, mean ± sd | min / median / max |")
print("|---|---|---|---|---|---|---|")
for phase, name in (("prompt", "prompt processing"), ("generation", "generation")):
    for key in ("model", "compare"):
        t = o[key][phase]
        print(f"| {name} | {'dense' if key == 'model' else 'CoMe 30 %'} | {o[key]['layers']} | {t['tokens_per_second']:.1f} | "
              f"{t['ms_per_token']:.3f} | {t['ms_mean']:.1f} ± {t['ms_sd']:.1f} | {t['ms_min']:.1f} / {t['ms_median']:.1f} / {t['ms_max']:.1f} |")
for phase in ("prompt", "generation"):
    s = o["speedup"][phase]
    print(f"speed-up {phase}: {s['mean']:.3f}x (mean / mean); per iteration pair min / median / max "
          f"{s['min']:.3f} / {s['median']:.3f} / {s['max']:.3f}")
PY
