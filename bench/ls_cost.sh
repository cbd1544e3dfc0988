#!/usr/bin/env bash
# Issue 16: cost of the least-squares correction at a projection shape: one T-token block's fp64 Gram accumulation and
# one ridge solve (up to K = 4096 also the unblocked solve, for the ratio). Usage: bench/ls_cost.sh [--threads N] [T] [d]
# [K ...]   (default all cores, 1024 tokens, d 4096, K 4096 and 11008: LLaMA-2-7b's o_proj and down_proj)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/tools/jdk.sh"
"$here/come" --version >/dev/null   # builds the jar if needed
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "$here/target/come4j.jar:$here/target/lib/*" \
  come4j.merge.CorrectionBenchmark "$@" 2> >(grep -v "incubator modules" >&2)
