#!/usr/bin/env bash
# Experiment A side by side: the numpy script and `carry train iamtrask` with the same settings,
# their outputs diffed and their times printed.
#   bench/peers/iamtrask-compare.sh [seed hidden alpha iterations bits print_every]
# Needs numpy for /usr/bin/python3 (set PYTHON to use another interpreter).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${PYTHON:-/usr/bin/python3}"
seed="${1:-0}" hidden="${2:-16}" alpha="${3:-0.1}" iterations="${4:-50000}" bits="${5:-8}" every="${6:-1000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$root/carry" --help > /dev/null # build first, outside the timing

start=$(date +%s.%N)
"$python" "$root/bench/peers/iamtrask.py" "$seed" "$hidden" "$alpha" "$iterations" "$bits" "$every" > "$work/numpy.txt"
mid=$(date +%s.%N)
"$root/carry" train iamtrask --seed "$seed" --hidden "$hidden" --lr "$alpha" --iterations "$iterations" \
  --bits "$bits" --print-every "$every" --out "$work/elman.carry" > "$work/carry.txt" 2> /dev/null
end=$(date +%s.%N)

printf 'numpy: %.2f s   carry (double): %.2f s\n' "$(echo "$mid - $start" | bc)" "$(echo "$end - $mid" | bc)"
if diff -q "$work/numpy.txt" "$work/carry.txt" > /dev/null; then
  echo "outputs identical ($(wc -l < "$work/carry.txt") lines)"
else
  echo "outputs differ:"; diff "$work/numpy.txt" "$work/carry.txt" | head -20; exit 1
fi
