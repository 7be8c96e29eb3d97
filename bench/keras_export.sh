#!/usr/bin/env bash
# `carry export -o x.h5` checked two ways, since no Keras runs here:
#  1. round trip: an 8-bit concat adder of the seed's shape (LSTM(256) -> Dropout -> Dense(9, sigmoid);
#     ADDER=FILE to use a trained one, otherwise one epoch of `carry train`), exported, imported back,
#     and all 65,536 sums compared;
#  2. layout: the real tf.keras 2.8 file in ../shared/keras (GRU -> Dense -> Dense) imported and
#     exported again, its HDF5 layout compared entry by entry with the original (bench/keras_layout.py).
#   bash bench/keras_export.sh [DIR]
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/../shared/keras}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
adder="${ADDER:-$work/adder.carry}"
if [ ! -f "$adder" ]; then
  "$root/carry" train --units 256 --epochs 1 --bits 8 --encoding concat --seed 0 -o "$adder" | tail -2
fi
"$root/carry" export --model "$adder" -o "$work/adder.h5"
"$root/carry" import keras "$work/adder.h5" -o "$work/back.carry" | head -1
dotnet run -c Release --project "$root/bench/Carry.Bench" -- keras-roundtrip "$adder" "$work/back.carry"
echo
real="$dir/PedroOliveiraPT_PCA_GRU_60secs_MSE.h5"
"$root/carry" import keras "$real" -o "$work/real.carry" | head -1
"$root/carry" export --model "$work/real.carry" -o "$work/real-again.h5"
/usr/bin/python3 "$root/bench/keras_layout.py" "$real" "$work/real-again.h5"
