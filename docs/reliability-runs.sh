#!/usr/bin/env bash
# Regenerates the table rows of docs/reliability.md: feeds `carry` broken files and bad flags
# and prints what it answered (stderr's one line, exit code). Run from the repository root.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
carry="$root/carry"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$carry" train --units 4 --bits 3 --epochs 1 --out good.carry --checkpoint good.ckpt >/dev/null 2>&1

# Writes a corrupted copy of good.carry: corrupt NAME 'python expression editing header h (dict) / data d (bytearray)'
corrupt() {
  python3 - "$1" "$2" <<'PY'
import json, struct, sys
name, edit = sys.argv[1], sys.argv[2]
b = open("good.carry", "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8+n]); d = bytearray(b[8+n:])
meta = h["__metadata__"]; cfg = json.loads(meta["config"])
raw = None
exec(edit)
meta["config"] = json.dumps(cfg)
if raw is None:
    hj = json.dumps(h).encode()
    raw = struct.pack("<Q", len(hj)) + hj + bytes(d)
open(name, "wb").write(raw)
PY
}
row() { # row 'what was tried' command...
  local what="$1"; shift
  local err code
  err="$("$@" 2>&1 >/dev/null)"; code=$?
  err="${err//$work\//}"
  printf '| %s | `%s` | %s |\n' "$what" "${err//|/\\|}" "$code"
}
corrupt trunc_data.carry 'raw = b[:len(b)-10]'
corrupt trunc_header.carry 'raw = b[:40]'
corrupt empty.carry 'raw = b""'
corrupt hugelen.carry 'raw = struct.pack("<Q", 2**63) + b[8:]'
corrupt notjson.carry 'raw = b[:8] + b"{" * n + b[8+n:]'
corrupt f16.carry 'h["layers.0.weight_ih_l0"]["dtype"] = "F16"'
corrupt hugeshape.carry 'h["layers.0.weight_ih_l0"]["shape"] = [65536, 262144]'
corrupt negshape.carry 'h["layers.0.weight_ih_l0"]["shape"] = [-16, 1]'
corrupt overlap.carry 'h["layers.0.weight_hh_l0"]["data_offsets"] = h["layers.0.weight_ih_l0"]["data_offsets"][:1] + [h["layers.0.weight_ih_l0"]["data_offsets"][0] + 256]'
corrupt hugeoffset.carry 'o = h["layers.0.weight_ih_l0"]["data_offsets"]; h["layers.0.weight_ih_l0"]["data_offsets"] = [2**62, 2**62 + o[1] - o[0]]'
corrupt trailing.carry 'd += b"\0" * 16'
corrupt missing.carry 'del h["layers.2.bias"]; d = d[:len(d)-4*4]'
corrupt extra.carry 'h["layers.9.weight"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(d), len(d) + 4]}; d += b"\0\0\0\0"'
corrupt format.carry 'meta["format"] = "pytorch"'
corrupt version.carry 'meta["version"] = "2"'
corrupt hugearch.carry 'cfg["layers"][0]["units"] = 65536; cfg["layers"][0]["inputSize"] = 262144'
corrupt misspelt.carry 'cfg["layers"][0]["returnSequencez"] = cfg["layers"][0].pop("returnSequences")'
corrupt badkind.carry 'cfg["layers"][0]["kind"] = "transformer"'
corrupt chain.carry 'cfg["layers"][2].update(inputSize=2, units=8, bias=False); h["layers.2.weight"]["shape"] = [8, 2]; del h["layers.2.bias"]; d = d[:len(d)-16]'
corrupt nan.carry 'd[0:4] = struct.pack("<f", float("nan"))'
corrupt inf.carry 'd[4:8] = struct.pack("<f", float("inf"))'
corrupt task.carry 'meta["task"] = json.dumps({"encoding": "gray", "bits": 8})'
corrupt flipped.carry 'd[5] ^= 0x10'
corrupt badsum.carry 'meta["sha256"] = "0" * 63'
corrupt python.carry 'del meta["sha256"]; d[5] ^= 0x10'
head -c 2000 /dev/urandom > random.carry
mkdir folder.carry

echo "## Model files (carry summary --model FILE)"
row "no such file" "$carry" summary --model nothing.carry
row "a folder" "$carry" summary --model folder.carry
row "empty file" "$carry" summary --model empty.carry
row "2,000 random bytes" "$carry" summary --model random.carry
row "truncated inside the header" "$carry" summary --model trunc_header.carry
row "truncated inside the data (10 bytes short)" "$carry" summary --model trunc_data.carry
row "header length 2^63" "$carry" summary --model hugelen.carry
row "header not JSON" "$carry" summary --model notjson.carry
row "dtype F16" "$carry" summary --model f16.carry
row "shape [65536, 262144] on a small tensor" "$carry" summary --model hugeshape.carry
row "negative dimension" "$carry" summary --model negshape.carry
row "two tensors share bytes" "$carry" summary --model overlap.carry
row "offset 2^62" "$carry" summary --model hugeoffset.carry
row "16 bytes appended" "$carry" summary --model trailing.carry
row "a tensor removed" "$carry" summary --model missing.carry
row "an extra tensor" "$carry" summary --model extra.carry
row "format pytorch" "$carry" summary --model format.carry
row "version 2" "$carry" summary --model version.carry
row "architecture says LSTM(262144 -> 65536)" "$carry" summary --model hugearch.carry
row "architecture key misspelt (returnSequencez)" "$carry" summary --model misspelt.carry
row "unknown layer kind" "$carry" summary --model badkind.carry
row "layers that do not fit together" "$carry" summary --model chain.carry
row "a NaN weight" "$carry" summary --model nan.carry
row "an infinite weight" "$carry" summary --model inf.carry
row "one weight bit flipped" "$carry" summary --model flipped.carry
row "sha256 metadata of 63 digits" "$carry" summary --model badsum.carry
row "one weight bit flipped, no sha256 key (as Python's safetensors writes)" "$carry" summary --model python.carry
row "task with an unknown encoding" "$carry" summary --model task.carry
row "a checkpoint given as a model" "$carry" summary --model good.ckpt

echo "## Checkpoint flags"
row "--resume a missing file" "$carry" train --resume nothing.ckpt
row "--resume a model file" "$carry" train --resume good.carry
row "--resume a truncated checkpoint" bash -c "head -c 100 good.ckpt > cut.ckpt && '$carry' train --resume cut.ckpt"
row "--resume with --epochs 5" "$carry" train --resume good.ckpt --epochs 5
row "--checkpoint-every -1" "$carry" train --checkpoint c.ckpt --checkpoint-every -1
row "--checkpoint-every 5 alone" "$carry" train --checkpoint-every 5
row "--checkpoint into a missing folder" "$carry" train --checkpoint no/such/c.ckpt
row "--checkpoint a folder" "$carry" train --checkpoint folder.carry
row "--checkpoint the same file as --out" "$carry" train --out x.carry --checkpoint x.carry

echo "## Other flags and numbers"
row "--epochs 0" "$carry" train --epochs 0
row "--epochs 99999999999" "$carry" train --epochs 99999999999
row "--units 1000000" "$carry" train --units 1000000
row "--lr -1" "$carry" train --lr -1
row "--lr NaN" "$carry" train --lr NaN
row "--bits 100000" "$carry" train --bits 100000
row "--seed -1" "$carry" train --seed -1
row "--batch abc" "$carry" train --batch abc
row "--no-such-flag" "$carry" train --no-such-flag
row "--out into a missing folder" "$carry" train --units 4 --bits 3 --epochs 1 --out no/such/m.carry

echo "## Training"
cp good.carry earlier.carry
row "diverging run (elman, relu, sgd, lr 1e7) over an existing output" "$carry" train --cell elman --activation relu --optimizer sgd --lr 1e7 --units 8 --bits 3 --batch 8 --dropout 0 --out earlier.carry --checkpoint d.ckpt --checkpoint-every 1
cmp -s good.carry earlier.carry && echo "(earlier.carry unchanged)"
# Background jobs of a script ignore SIGINT unless job control is on.
set -m
for sig in INT TERM; do
  "$carry" train --cell lstm --units 12 --bits 6 --epochs 30 --batch 8 --out s.carry --checkpoint s.ckpt --checkpoint-every 50 >/dev/null 2>s.err &
  pid=$!
  sleep 3; kill -$sig $pid; wait $pid; code=$?
  printf '| SIG%s mid-run | `%s` | %s |\n' "$sig" "$(sed "s#$work/##g" s.err)" "$code"
  out="$("$carry" train --resume s.ckpt 2>&1)"; code=$?
  printf '| then `carry train --resume s.ckpt` | `%s` … `%s` | %s |\n' "$(grep resuming <<<"$out" | sed "s#$work/##g")" "$(tail -1 <<<"$out" | sed "s#$work/##g")" "$code"
  rm -f s.carry s.ckpt
done
