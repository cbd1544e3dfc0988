#!/usr/bin/env bash
# Larger-than-memory benchmark: a random LLaMA-2-7b-shaped bf16 checkpoint (32 layers, 13.5 GB, made by
# tools/make_random_checkpoint.py if DIR has no config.json) is compressed to 30 layers with a 4 GB heap and a single
# 128-token calibration window. The java process's RssAnon (heap + native memory, without mapped file pages) and VmRSS
# (with them) are read from /proc/PID/status every 0.2 s; the run passes if peak RssAnon stays under 6 GB.
#
# Usage: bench/big_compress.sh [DIR]      (default /work/big-llama2-7b; the output goes to DIR-30, replaced if present)
# Needs ~30 GB free disk when DIR must be generated (13.5 GB input + 12.7 GB output), ~14 GB otherwise.
# Env: PYTHON (python with torch, for the generator; default /work/pyenv/bin/python, else python3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dir="${1:-/work/big-llama2-7b}"
dir="${dir%/}"
out="$dir-30"
py="${PYTHON:-/work/pyenv/bin/python}"; [ -x "$py" ] || py=python3
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p bench/out
log=bench/out/big_compress.log

free_gb() { df -P -B1G "$1" | awk 'NR==2 {print $4}'; }
parent="$(dirname "$dir")"; mkdir -p "$parent"
if [ ! -f "$dir/config.json" ]; then
  need=30; have=$(free_gb "$parent")
  [ "$have" -ge "$need" ] || { echo "need ~${need} GB free under $parent for input + output, have ${have} GB" >&2; exit 1; }
  echo "generating $dir (13.5 GB) ..." >&2
  g0=$(date +%s.%N)
  "$py" tools/make_random_checkpoint.py --out "$dir" --shape llama2-7b >&2
  echo "generated in $(awk -v a="$g0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}') s" >&2
else
  have=$(free_gb "$parent"); existing=$([ -d "$out" ] && du -s -BG "$out" | cut -dG -f1 || echo 0)
  [ $((have + existing)) -ge 14 ] || { echo "need ~14 GB free under $parent for the output, have ${have} GB" >&2; exit 1; }
fi

# Eight short lines (231 tokens with the demo tokenizer, all ids < 4096): one 128-token window, the tail is dropped.
cat > "$work/calib.txt" <<'EOF'
Tonight I want to talk about the work that lies ahead of us, and about the choices we will make together as a people.
Our economy has grown stronger over the past year, and more families have found work in every part of the country.
We must invest in our schools, so that every child can learn the skills that the jobs of the future will demand.
The men and women who serve in our armed forces deserve our thanks, and they deserve the care we promised them.
We will keep our nation safe, and we will stand with our allies against those who threaten peace around the world.
Let us build new roads and bridges, and let us bring clean energy and fast internet to every town and every farm.
Health care should be something that every American can afford, not a privilege for the few who can pay for it.
So let us get to work, with faith in each other and confidence in the future that we will build for our children.
EOF

./come --version > /dev/null 2>&1   # builds the jar if sources changed, so the timed run is the compression alone

t0=$(date +%s.%N)
# ./come execs java, so $! is the JVM's pid
COME_JAVA_OPTS="-Xmx4g" ./come compress --model "$dir" --out "$out" --target-layers 30 --calib "$work/calib.txt" \
  --calib-seq-len 128 --calib-samples 8 --overwrite > "$log" 2>&1 &
pid=$!
peak_anon=0; peak_rss=0
while kill -0 "$pid" 2> /dev/null; do
  if read -r a r < <(awk '/^RssAnon:/ {a = $2} /^VmRSS:/ {r = $2} END {print a + 0, r + 0}' "/proc/$pid/status" 2> /dev/null); then
    [ "$a" -gt "$peak_anon" ] && peak_anon=$a
    [ "$r" -gt "$peak_rss" ] && peak_rss=$r
  fi
  sleep 0.2
done
rc=0; wait "$pid" || rc=$?
t1=$(date +%s.%N)
if [ "$rc" -ne 0 ]; then echo "come compress failed (exit $rc):" >&2; tail -20 "$log" >&2; exit 1; fi
grep -E "calibration:|^wrote" "$log" || true
awk -v t0="$t0" -v t1="$t1" -v a="$peak_anon" -v r="$peak_rss" 'BEGIN {
  ga = a * 1024 / 1e9; gr = r * 1024 / 1e9
  printf "wall time %.1f s\npeak RssAnon %.2f GB (%.2f GiB)\npeak VmRSS %.2f GB (includes mapped file pages)\n", t1 - t0, ga, a / 1048576, gr
  if (a * 1024 < 6e9) { print "PASS: peak RssAnon < 6 GB"; exit 0 } else { print "FAIL: peak RssAnon >= 6 GB"; exit 1 } }'
