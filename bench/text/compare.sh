#!/usr/bin/env bash
# Side by side, in one run: char-rnn training throughput of Carry (bench/Carry.Bench text: the
# model, task and training step of `carry train text`) and of the PyTorch anchor
# (bench/text/charrnn_torch.py), at karpathy's defaults, on both corpora, 2 threads each,
# one after the other. Prints one line per run and the load average before and after.
# Usage: bash bench/text/compare.sh [SECONDS_PER_TORCH_RUN] [CARRY_STEPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
steps="${2:-40}"
dotnet build bench/Carry.Bench -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null
bench=bench/Carry.Bench/bin/Release/net10.0/Carry.Bench.dll
echo "load before: $(uptime)"
for run in "data/tinyshakespeare.txt 0" "data/tang5.txt 128"; do
  set -- $run
  dotnet "$bench" text --corpus "$1" --embedding "$2" --steps "$steps" --threads 2
  /usr/bin/python3 bench/text/charrnn_torch.py --corpus "$1" --embedding "$2" --seconds "$seconds" --threads 2
done
echo "load after: $(uptime)"
