#!/usr/bin/env bash
# Issue-3 acceptance table on the demo model: CoMe and CoMe-P at 10/20/30% sparsity and WeightSum at 30%, perplexity on
# held-out SOTU and Moby-Dick (seq-len 256) before and after, compress wall time, chosen pairs and ratios.
# Usage: bench/compress_table.sh [MODEL_DIR]   (default ../shared/models/sotu-llama-12l; outputs in bench/out/)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
model="${1:-../shared/models/sotu-llama-12l}"
sotu=../shared/data/sotu/test.txt
moby=../shared/data/moby-dick/test.txt
out=bench/out/compress
mkdir -p "$out"
ppl() { ./come eval --model "$1" --ppl "$2" --ppl-seq-len 256 --json 2>/dev/null | python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["ppl"])'; }

rows="$out/rows.tsv"
: > "$rows"
printf 'dense\t%s\t%s\t%s\t-\t-\n' "$(python3 -c "import json; print(json.load(open('$model/config.json'))['num_hidden_layers'])")" "$(ppl "$model" $sotu)" "$(ppl "$model" $moby)" >> "$rows"
for run in come:0.1 come:0.2 come:0.3 come-p:0.1 come-p:0.2 come-p:0.3 weightsum:0.3; do
  method=${run%:*}; s=${run#*:}; dir="$out/$method-$s"
  t0=$(date +%s.%N)
  ./come compress --model "$model" --out "$dir" --sparsity "$s" --method "$method" --calib models/sotu-llama-12l-bf16/calib.txt --overwrite >/dev/null 2>"$dir.log"
  secs=$(python3 -c "import time; print('%.1f' % (time.time() - $t0))")
  pairs=$(python3 -c '
import json,sys
j=json.load(open(sys.argv[1]+"/come-merge.json"))
print("; ".join("%s+%s r=%.2f" % (s["original"][0], s["original"][1], s["ratio"][0]) for s in j["steps"]))' "$dir")
  printf '%s %s\t%s\t%s\t%s\t%s\t%s\n' "$method" "$s" "$(python3 -c "import json; print(json.load(open('$dir/config.json'))['num_hidden_layers'])")" \
    "$(ppl "$dir" $sotu)" "$(ppl "$dir" $moby)" "$secs" "$pairs" >> "$rows"
  echo "done $method $s" >&2
done
echo "| run | layers | PPL sotu | PPL moby | compress s | merges (original layers, r_a) |"
echo "|---|---|---|---|---|---|"
awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6}' "$rows"
