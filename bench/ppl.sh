#!/usr/bin/env bash
# Benchmark (a): perplexity of the demo model on held-out SOTU text, come4j vs Hugging Face transformers, same model,
# text, window length and thread count, in one run. Prints both perplexities, their relative difference, both
# throughputs (tokens/s, forward passes + loss only, loading excluded) and the ratio come4j / transformers.
#
# Usage: bench/ppl.sh [--bf16] [--threads T] [--seq-len N] [--text FILE] [--ref-dtype native|fp32] [--skip-come]
#                     [--dtype auto|float32|bfloat16] [--backend auto|vector|onednn] [--rounds N]
#   --bf16        use ../shared/models/sotu-llama-12l-bf16 instead of the fp32 ../shared/models/sotu-llama-12l
#   --dtype       come4j's --dtype (default auto: the checkpoint's, as transformers' native run; bf16 products on a
#                 bf16 checkpoint); --ref-dtype fp32 pairs with --dtype float32
#   --backend     come4j's --backend (default auto)
#   --model DIR   any other checkpoint folder
#   --threads T   threads for both (default: nproc)
#   --ref-dtype   dtype transformers computes in: native (the checkpoint's, default) or fp32 (weights upcast)
#   --skip-come   run only the transformers half (e.g. before `come eval` exists)
#   --rounds N    alternate the two N times (come4j, transformers, come4j, ...) and print each round's ratio and the
#                 median: a shared machine's speed drifts by more than the effect within minutes (default 1)
# Environment: PYTHON = interpreter with torch + transformers (default .venv/bin/python, else python3). Create it with
#   python3 -m venv .venv && .venv/bin/pip install torch transformers
# Results are also kept in bench/out/ppl-*.json.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

model="../shared/models/sotu-llama-12l"
text="../shared/data/sotu/test.txt"
seq_len=256
threads="$(nproc)"
ref_dtype=native
come_dtype=auto
backend=auto
skip_come=0
rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --bf16) model="../shared/models/sotu-llama-12l-bf16" ;;
    --fp32) model="../shared/models/sotu-llama-12l" ;;
    --model) model="$2"; shift ;;
    --text) text="$2"; shift ;;
    --seq-len) seq_len="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --ref-dtype) ref_dtype="$2"; shift ;;
    --dtype) come_dtype="$2"; shift ;;
    --backend) backend="$2"; shift ;;
    --skip-come) skip_come=1 ;;
    --rounds) rounds="$2"; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "ppl.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -n "${PYTHON:-}" ]; then
  py="$PYTHON"
elif [ -x .venv/bin/python ]; then
  py=.venv/bin/python
else
  py=python3
fi
"$py" -c 'import torch, transformers' 2>/dev/null || {
  echo "ppl.sh: $py lacks torch/transformers; set PYTHON or: python3 -m venv .venv && .venv/bin/pip install torch transformers" >&2
  exit 1
}
for f in "$model/config.json" "$text"; do
  [ -f "$f" ] || { echo "ppl.sh: missing $f" >&2; exit 1; }
done

case "$rounds" in ''|*[!0-9]*|0) echo "ppl.sh: --rounds takes a positive whole number, not '$rounds'" >&2; exit 2 ;; esac
mkdir -p bench/out
stamp="$(date +%Y%m%d-%H%M%S)"

echo "model $model, text $text, seq-len $seq_len, threads $threads, transformers dtype $ref_dtype, come4j --dtype $come_dtype --backend $backend" >&2

# Last line of stdout that looks like a JSON object (tolerates log lines before it).
last_json() { grep -E '^[[:space:]]*\{' | tail -n 1; }

jsons=()
for round in $(seq "$rounds"); do
  come_json="bench/out/ppl-$stamp-$round-come4j.json"
  ref_json="bench/out/ppl-$stamp-$round-transformers.json"
  if [ "$skip_come" = 0 ]; then
    echo "== come4j (round $round of $rounds)" >&2
    ./come eval --model "$model" --ppl "$text" --seq-len "$seq_len" --json --threads "$threads" \
      --dtype "$come_dtype" --backend "$backend" | last_json > "$come_json"
  fi
  echo "== transformers (round $round of $rounds)" >&2
  "$py" tools/ppl_reference.py --model "$model" --text "$text" --seq-len "$seq_len" --threads "$threads" \
    --dtype "$ref_dtype" --json | last_json > "$ref_json"
  jsons+=("$ref_json" "$([ "$skip_come" = 0 ] && echo "$come_json")")
done

"$py" - "${jsons[@]}" <<'EOF'
import json, statistics, sys
args = sys.argv[1:]
ratios = []
print(f"{'':14}{'ppl':>14}{'tokens':>10}{'windows':>9}{'seconds':>10}{'tokens/s':>11}")
for i in range(0, len(args), 2):
    ref = json.load(open(args[i]))
    come = json.load(open(args[i + 1])) if args[i + 1] else None
    rows = [("transformers", ref)] + ([("come4j", come)] if come else [])
    for name, r in rows:
        print(f"{name:14}{r['ppl']:14.6f}{r['tokens']:10d}{r['windows']:9d}{r['seconds']:10.2f}{r['tokens_per_second']:11.1f}")
    if come:
        rel = (come["ppl"] - ref["ppl"]) / ref["ppl"]
        print(f"ppl relative difference (come4j - transformers) / transformers: {rel:+.3e}")
        if come["tokens"] != ref["tokens"] or come["windows"] != ref["windows"]:
            print(f"WARNING: token/window counts differ (tokenizer mismatch?)")
        ratios.append(come['tokens_per_second'] / ref['tokens_per_second'])
        print(f"throughput ratio come4j / transformers: {ratios[-1]:.2f}x")
if len(ratios) > 1:
    print(f"median of {len(ratios)} alternated rounds: {statistics.median(ratios):.2f}x "
          f"(rounds: {', '.join(f'{r:.2f}x' for r in ratios)})")
EOF
