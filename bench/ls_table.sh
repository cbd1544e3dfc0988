#!/usr/bin/env bash
# Issue-16 comparison on the demo model: CoMe, CoMe-LS, its variant come-ls-pair and the
# strongest training-free baselines of the issue-6 table (ShortGPT, Taylor, Magnitude, SLEB) at 10/20/30 %, perplexity
# on held-out SOTU and Moby-Dick (seq-len 256), calibrated as the earlier tables (the demo model's calibration text),
# through `come bench` (resumable: rerun to continue).
# Usage: bench/ls_table.sh [MODEL_DIR] [THREADS]   (default ../shared/models/sotu-llama-12l, 2 threads; bench/out/issue16)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
model="${1:-../shared/models/sotu-llama-12l}"
./come bench --model "$model" --sparsity 0.1,0.2,0.3 \
  --methods come,come-ls,shortgpt,taylor,magnitude,come-p-ls,sleb,come-ls-pair \
  --ppl ../shared/data/sotu/test.txt --ppl ../shared/data/moby-dick/test.txt --ppl-seq-len 256 \
  --calib models/sotu-llama-12l-bf16/calib.txt --out bench/out/issue16 --threads "${2:-2}"
