#!/usr/bin/env bash
# 7B at realistic calibration: the random LLaMA-2-7b-shaped bf16 checkpoint (tools/make_random_checkpoint.py, made
# if DIR has no config.json and more than 40 GB are free), 16 windows x 2048 tokens of SOTU text (as many whole
# addresses as windows, shuffled with the default seed, then cut to the windows), CoMe 32 -> 28
# layers and CoMe-P for one step, on every backend x dtype, each with -Xmx4g. Per merge step (from come-merge.json):
# seconds, layer-tokens/s (calibration tokens x layers the step ran: merging pair (a, a+1) of L layers leaves L-1, of
# which a..L-2 run again; CoMe-P: x its candidate passes + 1) and GFLOP/s (2 x parameters per layer + 2 x seq_len x
# hidden per token per layer: projections and causal attention, plus 2 x vocab x hidden per token for each LM head pass
# of the calibration NLL, whose time the step's seconds include); peak RssAnon of the JVM (/proc, every 0.2 s; must
# stay < 6 GB). The first calibration pass (every layer over every window, as the reference runs them) is timed on its
# own: its layer-tokens/s is the per-layer comparison with transformers.
# Beside it, transformers' LlamaDecoderLayer in bf16 over the same number of windows (tools/layer_reference.py: one
# layer timed, scaled to the model) and the ratio per layer. Everything goes to bench/out/big_calib-STAMP.{log,tsv}.
#
# Usage: bench/big_calib.sh [--model DIR] [--windows 16] [--seq-len 2048] [--remove 4] [--threads T]
#                           [--backends "vector onednn"] [--dtypes "float32 bfloat16"] [--skip-torch] [--skip-come-p]
#   e.g. a quick trial on the demo model: bench/big_calib.sh --model models/sotu-llama-12l-bf16 --windows 4 --seq-len 256 --remove 2
# Env: PYTHON (python with torch + transformers for the reference; default .venv/bin/python, else python3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dir=/work/big-llama2-7b; windows=16; seq_len=2048; remove=4; threads="$(nproc)"
backends="vector onednn"; dtypes="float32 bfloat16"; skip_torch=0; skip_come_p=0
while [ $# -gt 0 ]; do
  case "$1" in
    --model) dir="${2%/}"; shift ;;
    --windows) windows="$2"; shift ;;
    --seq-len) seq_len="$2"; shift ;;
    --remove) remove="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --backends) backends="$2"; shift ;;
    --dtypes) dtypes="$2"; shift ;;
    --skip-torch) skip_torch=1 ;;
    --skip-come-p) skip_come_p=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "big_calib.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
py="${PYTHON:-}"; [ -n "$py" ] || { [ -x .venv/bin/python ] && py=.venv/bin/python || py=python3; }
text=../shared/data/sotu/train.txt
[ -f "$text" ] || { echo "big_calib.sh: missing $text" >&2; exit 1; }
free_gb() { df -P -B1G "$1" | awk 'NR==2 {print $4}'; }
if [ ! -f "$dir/config.json" ]; then
  have=$(free_gb "$(dirname "$dir")")
  [ "$have" -gt 40 ] || { echo "big_calib.sh: need > 40 GB free under $(dirname "$dir") to generate $dir, have $have GB" >&2; exit 1; }
  "$py" tools/make_random_checkpoint.py --out "$dir" --shape llama2-7b >&2
fi
read -r layers hidden vocab < <(python3 -c 'import json,sys; c = json.load(open(sys.argv[1])); print(c["num_hidden_layers"], c["hidden_size"], c["vocab_size"])' "$dir/config.json")
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p bench/out
stamp="$(date +%Y%m%d-%H%M%S)"; log="bench/out/big_calib-$stamp.log"; tsv="bench/out/big_calib-$stamp.tsv"
echo "model $dir ($layers layers), $windows x $seq_len calibration tokens, threads $threads, measured on $(hostname)" | tee "$log"
./come --version > /dev/null 2>&1   # builds the jar first, so the timed runs are the compressions alone

# One compression with -Xmx4g; prints the peak RssAnon in kB on stdout. --batch 1: one window per forward pass, so the
# passes of two windows fit side by side in half the 4 GB heap (two windows per pass, the default, would run one at a time).
compress() { # method target backend dtype out
  COME_JAVA_OPTS="-Xmx4g" ./come compress --model "$dir" --out "$5" --method "$1" --target-layers "$2" \
    --backend "$3" --dtype "$4" --threads "$threads" --calib "$text" --calib-seq-len "$seq_len" \
    --calib-tokens $((windows * seq_len)) --calib-samples "$windows" --calib-max-len 0 --batch 1 --overwrite >> "$log" 2>&1 &
  local pid=$! peak=0 a
  while kill -0 "$pid" 2> /dev/null; do
    a=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2> /dev/null || echo 0)
    [ "${a:-0}" -gt "$peak" ] && peak=$a
    sleep 0.2
  done
  wait "$pid" || { echo "big_calib.sh: come compress failed, see $log" >&2; exit 1; }
  echo "$peak"
}

printf "method\tbackend\tdtype\tstep\tlayers_run\tseconds\tlayer_tokens_per_s\tgflops\tpeak_anon_gb\twall_s\n" > "$tsv"
for backend in $backends; do
  for dtype in $dtypes; do
    for method in come come-p; do
      [ "$method" = come-p ] && [ "$skip_come_p" = 1 ] && continue
      target=$([ "$method" = come ] && echo $((layers - remove)) || echo $((layers - 1)))
      echo "== $method $layers -> $target, --backend $backend --dtype $dtype" | tee -a "$log"
      t0=$(date +%s.%N)
      peak=$(compress "$method" "$target" "$backend" "$dtype" "$work/out")
      wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
      first=$(grep -a "first calibration pass:" "$log" | tail -n 1)
      python3 - "$work/out/come-merge.json" "$method" "$backend" "$dtype" "$peak" "$wall" "$seq_len" "$hidden" "$vocab" "$first" >> "$tsv" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1])); method, backend, dtype, peak, wall, S, hidden, vocab, first = sys.argv[2:11]
tokens, p = r["settings"]["tokens"], r["input"]["parameters_per_layer"]
flops_per_token_layer = 2 * p + 2 * int(S) * int(hidden)
head = lambda passes: 2 * int(vocab) * int(hidden) * tokens * passes
row = lambda step, run, secs, lt, flops: print(f"{method}\t{r['backend']['name']}\t{r['backend']['compute_dtype']}\t{step}\t{run}\t{secs:.1f}\t"
                                              f"{lt / secs:.0f}\t{flops / secs / 1e9:.1f}\t{int(peak) * 1024 / 1e9:.2f}\t{wall}")
m = re.search(r"pass: (\d+) layers x \d+ tokens in ([\d.]+) s", first)
if m: # the layers' run of the first pass alone (its calibration NLL after it is not in these seconds)
    L, secs = int(m.group(1)), float(m.group(2))
    row("first", f"{L}x1", secs, tokens * L, flops_per_token_layer * tokens * L)
for s in r["steps"]:
    run = s["layers_before"] - 1 - s["pair"][0]
    passes = 1 + len(s.get("candidates", []))
    lt = tokens * run * passes
    row(s["step"], f"{run}x{passes}", s["seconds"], lt, flops_per_token_layer * lt + head(passes))
PY
      rm -rf "$work/out"
    done
  done
done
column -t -s $'\t' "$tsv" | tee -a "$log"

if [ "$skip_torch" = 0 ]; then
  echo "== transformers LlamaDecoderLayer, bfloat16, $windows x $seq_len tokens, one layer timed" | tee -a "$log"
  "$py" tools/layer_reference.py --model "$dir" --windows "$windows" --seq-len "$seq_len" --threads "$threads" \
    --dtype bfloat16 | tail -n 1 | tee "$work/ref.json" | tee -a "$log"
  python3 - "$tsv" "$work/ref.json" "$windows" "$seq_len" <<'PY' | tee -a "$log"
import csv, json, sys
ref = json.load(open(sys.argv[2])); tps = ref["tokens_per_second_per_layer"]
print(f"transformers bf16: {tps:.0f} layer-tokens/s, {ref['model_seconds']:.1f} s for all {ref['layers']} layers")
for row in csv.DictReader(open(sys.argv[1]), delimiter="\t"):
    if row["method"] == "come" and row["step"] in ("first", "1"):
        what = "in the first pass's layers" if row["step"] == "first" else "in step 1 (its calibration NLL's LM head and the merge included)"
        print(f"come4j {row['backend']} {row['dtype']}: {float(row['layer_tokens_per_s']):.0f} layer-tokens/s {what} = "
              f"{float(row['layer_tokens_per_s']) / tps:.2f}x transformers bf16 per layer")
PY
fi
