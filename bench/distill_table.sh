#!/usr/bin/env bash
# Issue-5 acceptance table on the demo model: perplexity (sotu test, moby test; seq-len 256) before compression, after
# CoMe at 30 %, and after hierarchical distillation with each loss (schedule sp) and with schedule mp, training on
# sotu train.txt only. Usage: bench/distill_table.sh [STEPS] [LR]   (default: come distill's automatic schedule, issue 17:
# a budget sized to the layer, lr searched per layer on held-out training windows, early stopping; the issue-5 table was
# `bench/distill_table.sh 500 1e-3`; outputs in bench/out/distill/)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
schedule=(); [ -n "${1:-}" ] && schedule+=(--steps "$1"); [ -n "${2:-}" ] && schedule+=(--lr "$2")
mp_schedule=(); [ -n "${1:-}" ] && mp_schedule+=(--distill-steps "$1"); [ -n "${2:-}" ] && mp_schedule+=(--distill-lr "$2")
model=../shared/models/sotu-llama-12l
train=../shared/data/sotu/train.txt
sotu=../shared/data/sotu/test.txt
moby=../shared/data/moby-dick/test.txt
out=bench/out/distill
mkdir -p "$out"
ppl() { ./come eval --model "$1" --ppl "$2" --ppl-seq-len 256 --json 2>/dev/null | python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["ppl"])'; }
timed() { local t0; t0=$(date +%s.%N); "$@"; python3 -c "import time; print('%.0f' % (time.time() - $t0))" > "$out/last.secs"; }

rows="$out/rows.tsv"
: > "$rows"
printf 'dense (12 layers)\t-\t-\t%s\t%s\n' "$(ppl "$model" $sotu)" "$(ppl "$model" $moby)" >> "$rows"
[ -d "$out/come30" ] || ./come compress --model "$model" --out "$out/come30" --sparsity 0.3 --calib models/sotu-llama-12l-bf16/calib.txt >/dev/null 2>"$out/come30.log"
printf 'CoMe 30 %% (8 layers)\t-\t-\t%s\t%s\n' "$(ppl "$out/come30" $sotu)" "$(ppl "$out/come30" $moby)" >> "$rows"
for loss in kl_hidden mse logit_lens_kl; do
  dir="$out/sp-$loss"
  timed ./come distill --teacher "$model" --student "$out/come30" --data "$train" --out "$dir" --loss "$loss" \
    "${schedule[@]}" --overwrite > "$dir.log" 2>&1
  curve=$(python3 -c '
import json,sys
j=json.load(open(sys.argv[1]+"/come-distill.json"))
print(", ".join("%d: %.4g -> %.4g" % (l["layer"], l["loss_first"], l["loss_last"])
                + (" (lr %g, best step %d of %d)" % (l["lr"], l["best_step"], l["steps_run"]) if "lr" in l else "") for l in j["layers"]))' "$dir")
  printf 'CoMe 30 %% + distill sp, %s\t%s\t%s\t%s\t%s\t%s\n' "$loss" "$(cat $out/last.secs)" "$curve" "$(ppl "$dir" $sotu)" "$(ppl "$dir" $moby)" >> "$rows"
  echo "done sp $loss" >&2
done
dir="$out/mp-kl_hidden"
timed ./come compress --model "$model" --out "$dir" --sparsity 0.3 --calib models/sotu-llama-12l-bf16/calib.txt --distill-each --distill-data "$train" \
  "${mp_schedule[@]}" --overwrite > "$dir.log" 2>&1
printf 'CoMe 30 %% with distill mp, kl_hidden\t%s\t-\t%s\t%s\n' "$(cat $out/last.secs)" "$(ppl "$dir" $sotu)" "$(ppl "$dir" $moby)" >> "$rows"
echo "| run | wall s | loss per layer (first -> last tenth) | PPL sotu | PPL moby |"
echo "|---|---|---|---|---|"
awk -F'\t' 'NR<=2 {printf "| %s | - | - | %s | %s |\n", $1, $4, $5} NR>2 {printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5}' "$rows"
