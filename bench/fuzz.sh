#!/usr/bin/env bash
# Long coverage-guided fuzzing (Jazzer) of the untrusted-file parsers: safetensors header, shard index, config.json.
# Usage: bench/fuzz.sh [DURATION per parser, e.g. 300s or 10m; default 10m]
# Each parser runs in its own JVM (surefire executions fuzz-header, fuzz-index, fuzz-config of pom.xml's profile fuzz). The corpus grows in .cifuzz-corpus/ across
# runs; an input that breaks the invariant (parse or BadInputException) stops that parser's run and is saved by Jazzer
# as src/test/resources/come4j/io/ParserFuzzTestInputs/<parser>/crash-*, which every later ./test replays: fix the
# parser, keep the file. Logs: bench/out/fuzz-*.log.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/tools/jdk.sh"
cd "$here"
duration="${1:-10m}"
mkdir -p bench/out
mvn -B -q test-compile
for id in fuzz-header fuzz-index fuzz-config; do
  log="bench/out/$id.log"
  if mvn -B -q -Pfuzz surefire:test@"$id" -Dfuzz.duration="$duration" >"$log" 2>&1; then result="no finding"; else result="FINDING (see $log)"; fi
  runs="$(grep -E '^Done [0-9]+ runs' "$log" | tail -1 || true)"
  cov="$(grep -E 'DONE +cov' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)"
  echo "$id: ${runs:-no libFuzzer summary} ($cov) - $result"
done
