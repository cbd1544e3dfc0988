#!/usr/bin/env bash
# Issue-6 comparison on the demo model: every method at 10/20/30 % sparsity, perplexity on held-out SOTU and
# Moby-Dick (seq-len 256), through `come bench` (resumable: rerun to continue after an interruption).
# Usage: bench/baselines_table.sh [MODEL_DIR] [THREADS]   (default ../shared/models/sotu-llama-12l, 1 thread; bench/out/demo)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
model="${1:-../shared/models/sotu-llama-12l}"
./come bench --model "$model" --sparsity 0.1,0.2,0.3 \
  --methods come,shortgpt,reverse,magnitude,magnitude+,weightsum,mka,laco,sleb,come-p \
  --ppl ../shared/data/sotu/test.txt --ppl ../shared/data/moby-dick/test.txt --ppl-seq-len 256 \
  --calib models/sotu-llama-12l-bf16/calib.txt --out bench/out/demo --threads "${2:-1}"
