#!/usr/bin/env bash
# `carry import keras` on every real Keras file in ../shared/keras (their licences keep them out of
# the repository): each model's summary, then its outputs on a random batch against Keras's
# equations in numpy (bench/keras_h5.py, reading the file's own weights), within 1e-5.
#   bash bench/keras_real.sh [DIR]        (default ../shared/keras)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/../shared/keras}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
files=("$dir"/*.h5 "$dir"/*.hdf5)
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  echo "== carry import keras $(basename "$f")"
  "$root/carry" import keras "$f" -o "$work/$(basename "$f").carry"
  echo
done
/usr/bin/python3 "$root/bench/keras_h5.py" cases "$work/cases" "${files[@]}"
dotnet run -c Release --project "$root/bench/Carry.Bench" -- keras "$work"/cases/*.json
# The addition example's model at its own job: random sums asked as the example asks them.
if [ -f "$dir/Bielos_addition_model.hdf5" ]; then
  echo
  echo "Keras's addition_rnn model, imported, on 1000 random sums of 1- to 4-digit numbers:"
  dotnet run -c Release --project "$root/bench/Carry.Bench" -- keras-addition "$dir/Bielos_addition_model.hdf5" 1000
fi
