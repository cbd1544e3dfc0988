#!/usr/bin/env bash
# Benchmark (b): GEMM GFLOP/s for 7B-shaped layer products (T=2048 x 4096x4096, 11008x4096, 4096x11008) on every
# backend that loads (vector, onednn), in one process, against peaks measured by the same Java tool:
#   fp32 products: the fp32 FMA peak (independent Vector API FMA chains on registers, every thread);
#   bf16 products: the bf16 dot-product peak, 2 x the fp32 FMA peak measured in the same run: AVX512-BF16's VDPBF16PS
#   does two bf16 multiply-adds per fp32 lane at the FMA's throughput (the Vector API has no bf16 instruction to time
#   directly; AMX tiles, which oneDNN's gemm does not use here, would go beyond it).
# Peaks and products are timed alike: the best of five ~0.4 s trials (each product's median trial is printed too).
# Each product's trials alternate with trials of the peak, and its share is of that peak: a slow spell of this shared
# machine slows both sides of the ratio alike. The scaling line's share is of the run's best peak.
# Each product is timed with its weight mapped (read where it lies, as the layers of a model streamed from disk, e.g.
# 7B) and resident (the backend's prepared form, as a model that fits).
# Usage: bench/gemm.sh [T] [NxK ...]              both runs below
#        bench/gemm.sh [T] [NxK ...] --dtype BF16 --compute BF16   one run: stored weights, product precision
# Threads: all cores (COME_JAVA_OPTS is passed to java, e.g. -Djava.util.concurrent.ForkJoinPool.common.parallelism).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/tools/jdk.sh"
"$here/come" --version >/dev/null   # builds the jar if needed
run() {
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED ${COME_JAVA_OPTS:-} \
    -cp "$here/target/come4j.jar:$here/target/lib/*" come4j.tensor.KernelBenchmark "$@" 2> >(grep -v "incubator modules" >&2)
}
if printf '%s\n' "$@" | grep -q -- '--compute'; then
  run "$@"
else
  echo "== fp32 weights, fp32 products (today's path)"
  run "$@" --dtype F32 --compute F32
  echo "== bf16 weights, bf16 products (--dtype bfloat16 on a bf16 checkpoint)"
  run "$@" --dtype BF16 --compute BF16
fi
