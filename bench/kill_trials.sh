#!/usr/bin/env bash
# Kill-and-rerun trials (docs/reliability.md): each command is halted at each step of its output commit and SIGKILLed at
# random moments; every rerun must exit 0 with the uninterrupted run's bytes, no scratch left in its temp folder,
# nothing beside the output, and the input unchanged.
# Usage: bench/kill_trials.sh [CMD ...]   CMD: compress:METHOD (any registered method), distill, each, bench
#        KILLS=N random kills per command (default 4), HALTS="committed ..." commit steps to halt at (default all 4).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
C=$here/come; F=$here/src/test/resources/fixtures; P=$F/ppl.txt
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT; mkdir -p $W/tmp; cd $W
cp -r $F/llama3-gqa-bf16 teacher
$C compress --model teacher --out student --target-layers 2 --calib $P --calib-seq-len 32 >/dev/null 2>&1
tin=$(find teacher -type f | sort | xargs sha256sum | sha256sum)
# every file's bytes, but for the measured step times ("seconds" in come-merge.json, <span class="t"> in report.html)
hash() {
  (cd "$1" && find . -type f -path "${2:-*}" | sort | while read -r f; do
    case $f in
      */come-merge.json) echo "$f $(grep -v '"seconds"' "$f" | sha256sum)" ;;
      */report.html) echo "$f $(sed 's/<span class="t">[^<]*<\/span>//g' "$f" | sha256sum)" ;;
      *) echo "$f $(sha256sum < "$f")" ;;
    esac
  done) | sha256sum
}
args() {
  case $1 in
    compress:*) echo compress --model teacher --out o/out --target-layers 2 --calib $P --calib-seq-len 32 --method ${1#compress:} --overwrite ;;
    distill) echo distill --teacher teacher --student student --data $P --out o/out --steps 40 --batch 2 --train-seq-len 16 --save-every 5 --overwrite ;;
    each) echo compress --model teacher --out o/out --target-layers 1 --calib $P --calib-seq-len 32 --distill-each --distill-data $P --distill-steps 20 --overwrite ;;
    bench) echo bench --model teacher --out o/out --sparsity 0.4,0.7 --methods come,shortgpt --ppl $P --ppl-seq-len 32 ;;
  esac
}
pattern() { [ $1 = bench ] && echo "./cells/*/model/*" || echo "*"; }
run() { COME_JAVA_OPTS="-Djava.io.tmpdir=$W/tmp ${1:-}" $C $(args $cmd) >/dev/null 2>$W/err; }
ok=0; bad=0
check() { # $1 label $2 reference
  h=$(hash o/out "$(pattern $cmd)")
  left=$(ls -A o | grep -v '^out$' | tr '\n' ' '); scratch=$(ls -A $W/tmp | tr '\n' ' ')
  hidden=$(find o/out -name '.*' 2>/dev/null | head -3 | tr '\n' ' ')
  tnow=$(find teacher -type f | sort | xargs sha256sum | sha256sum)
  if [ "$h" = "$2" ] && [ -z "$left" ] && [ -z "$scratch" ] && [ -z "$hidden" ] && [ "$tnow" = "$tin" ] && [ "$rc" = 0 ]; then ok=$((ok+1)); r=ok
  else bad=$((bad+1)); r="FAIL rc=$rc left=[$left] scratch=[$scratch] hidden=[$hidden] $(tail -1 $W/err)"; fi
  echo "$cmd $1: $r"
}
RANDOM=12
for cmd in "${@:-compress:come compress:come-p distill each bench}"; do
 for cmd in $cmd; do
  rm -rf o; mkdir o
  run; rc=$?; [ $rc = 0 ] || { echo "$cmd: reference run failed ($(tail -1 $W/err))"; bad=$((bad+1)); continue; }
  ref=$(hash o/out "$(pattern $cmd)")
  t0=$(date +%s%N); run; t1=$(date +%s%N); dur=$(( (t1 - t0) / 1000000 ))
  echo "$cmd: reference run ${dur} ms"
  for pt in ${HALTS:-committed old-output-moved new-output-in-place run-folder-cleared}; do
    [ $cmd = bench ] && rm -rf o/out
    run "-Dcome4j.crash-at=$pt"; run; rc=$?
    check "halt at $pt" "$ref"
  done
  for i in $(seq ${KILLS:-4}); do
    rm -rf o/out
    ms=$(( RANDOM % dur ))
    COME_JAVA_OPTS="-Djava.io.tmpdir=$W/tmp" $C $(args $cmd) >/dev/null 2>&1 & pid=$! # the launcher execs the JVM: $pid is the JVM
    sleep $(echo "scale=3; $ms/1000" | bc); kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    sc=$(ls -A $W/tmp | wc -l)
    run; rc=$?
    check "SIGKILL at ${ms} ms (scratch folders left $sc, freed line $(grep -c freed $W/err))" "$ref"
  done
 done
done
echo "trials: $ok ok, $bad failed"
[ $bad = 0 ]
