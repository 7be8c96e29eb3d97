#!/usr/bin/env python3
"""Open a Carry .carry model in PyTorch and check that both add alike.

A .carry file is a safetensors file: an 8-byte little-endian header length, a JSON header
(tensor name -> dtype, shape, data_offsets; plus __metadata__), then the raw little-endian data.
Its tensors carry PyTorch's names and layouts under `layers.{i}.`, so a concat-encoded
`LSTM -> [Dropout] -> Dense(sigmoid)` model loads straight into torch.nn.LSTM + torch.nn.Linear
(layers.0.weight_ih_l0 -> lstm.weight_ih_l0, layers.2.weight -> linear.weight, ...).

The script runs every pair (i, j) of the model's width through torch, decodes the sums, and
compares them with Carry's own (`carry predict --all --json`), and with the exact-match
fraction of `carry eval --json`. Not part of the test suite.

    /usr/bin/python3 bench/interop.py adder.carry [--carry ./carry]
"""
import argparse
import json
import struct
import subprocess
import sys

import numpy as np
import torch


def read_carry(path):
    """Tensors (numpy) and metadata of a .carry file; uses `safetensors` when installed."""
    try:
        from safetensors.numpy import load_file  # type: ignore
        from safetensors import safe_open  # type: ignore

        tensors = load_file(path)
        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata()
        return tensors, metadata, "safetensors"
    except ImportError:
        pass
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    metadata = header.pop("__metadata__", {})
    base = 8 + header_len
    dtypes = {"F32": np.float32, "F64": np.float64}
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        array = np.frombuffer(data[base + start : base + end], dtype=np.dtype(dtypes[info["dtype"]]).newbyteorder("<"))
        tensors[name] = array.reshape(info["shape"]).astype(np.float32)
    return tensors, metadata, "hand-parsed"


class Adder(torch.nn.Module):
    """LSTM/GRU/Elman (last output) -> Linear -> sigmoid, with Carry's names mapped to torch's."""

    def __init__(self, layers, tensors):
        super().__init__()
        recurrent = layers[0]
        kind = recurrent["kind"]
        if kind == "bidirectional":
            raise SystemExit("bidirectional models are not handled by this script")
        cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "elman": torch.nn.RNN}.get(kind)
        if cls is None:
            raise SystemExit(f"layer 0 is '{kind}'; this script handles lstm, gru and elman")
        kwargs = {"nonlinearity": recurrent.get("activation", "tanh")} if kind == "elman" else {}
        self.rnn = cls(recurrent["inputSize"], recurrent["units"], batch_first=True, bias=recurrent.get("bias", True), **kwargs)
        dense_index = next(i for i, l in enumerate(layers) if l["kind"] == "dense")
        dense = layers[dense_index]
        self.linear = torch.nn.Linear(dense["inputSize"], dense["units"])
        state = {}
        for name, value in tensors.items():
            index, param = name.split(".", 2)[1:]
            target = "rnn" if int(index) == 0 else "linear" if int(index) == dense_index else None
            if target is None:
                raise SystemExit(f"unexpected tensor {name}")
            state[f"{target}.{param}"] = torch.from_numpy(np.ascontiguousarray(value))
        missing = self.load_state_dict(state, strict=True)
        self.mapping = sorted(state)

    def forward(self, x):
        out, _ = self.rnn(x)
        return torch.sigmoid(self.linear(out[:, -1, :]))


def concat_inputs(bits):
    n = 1 << bits
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    a, b = i.reshape(-1), j.reshape(-1)
    shifts = np.arange(bits - 1, -1, -1)
    x = np.concatenate([(a[:, None] >> shifts) & 1, (b[:, None] >> shifts) & 1], axis=1).astype(np.float32)
    return a, b, x[:, :, None]


def decode(outputs):
    bits = (outputs >= 0.5).astype(np.int64)
    weights = 1 << np.arange(bits.shape[1] - 1, -1, -1)
    return bits @ weights


def carry_predictions(carry, path):
    """Carry's sum for every pair, from `carry predict --all --json` (i the outer loop)."""
    run = subprocess.run([carry, "predict", "--model", path, "--all", "--json"], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"carry predict failed: {run.stderr.strip()}")
    rows = json.loads(run.stdout)["predictions"]
    return np.array([r[2] for r in rows], dtype=np.int64)


def carry_eval_exact(carry, path):
    """Exact-match fraction that `carry eval --json` reports, or None when the verb is missing."""
    run = subprocess.run([carry, "eval", "--model", path, "--json"], capture_output=True, text=True)
    if run.returncode != 0:
        return None
    return json.loads(run.stdout)["results"][0]["exact"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--carry", default="./carry")
    args = parser.parse_args()

    tensors, metadata, reader = read_carry(args.model)
    task = json.loads(metadata["task"])
    layers = json.loads(metadata["config"])["layers"]
    if task["encoding"] != "concat":
        raise SystemExit("this script checks concat-encoded models")
    bits = task["bits"]
    model = Adder(layers, tensors).eval()
    print(f"read {args.model} ({reader}): {', '.join(f'{k} {list(v.shape)}' for k, v in tensors.items())}")
    print(f"torch modules: {model}")

    a, b, x = concat_inputs(bits)
    with torch.no_grad():
        outputs = model(torch.from_numpy(x)).numpy()
    torch_sums = decode(outputs)
    carry_sums = carry_predictions(args.carry, args.model)
    agree = int((torch_sums == carry_sums).sum())
    n = len(a)
    print(f"torch correct: {int((torch_sums == a + b).sum())}/{n}")
    print(f"carry correct (predict --all --json): {int((carry_sums == a + b).sum())}/{n}")
    exact = carry_eval_exact(args.carry, args.model)
    if exact is not None:
        print(f"carry eval --json exact: {exact:.6f} ({round(exact * n)}/{n})")
    print(f"predictions that agree: {agree}/{n}")
    return 0 if agree == n else 1


if __name__ == "__main__":
    sys.exit(main())
