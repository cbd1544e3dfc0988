#!/usr/bin/env bash
# Benchmark (b): GEMM GFLOP/s for 7B-shaped layer products (T=2048 x 4096x4096, 11008x4096, 4096x11008) against the
# machine's fp32 FMA peak, both measured by the same Java tool. Usage: bench/gemm.sh [T] [NxK ...] [--dtype BF16]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/tools/jdk.sh"
"$here/come" --version >/dev/null   # builds the jar if needed
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "$here/target/come4j.jar:$here/target/lib/*" \
  come4j.tensor.KernelBenchmark "$@" 2> >(grep -v "incubator modules" >&2)
