#!/usr/bin/env python3
"""Keras .h5 files in Keras's own layouts, and Keras's equations in numpy, for checking `carry import keras`.

No Keras runs here. This script writes small Sequential models the way each Keras version lays
them out in HDF5 (h5py), and computes what Keras would output for them from the equations of
Keras's layers (numpy, float64), reading the weights from the .h5 file in Keras's layout — never
from Carry. Carry is checked against those outputs (within 1e-5).

    /usr/bin/python3 bench/keras_h5.py fixtures tests/fixtures/keras
        The repository's test files: NAME.h5 and NAME.json ({"h5", "input_shape", "input",
        "output_shape", "output"}) for each model; and refused-*.h5 that Carry must refuse.
    /usr/bin/python3 bench/keras_h5.py cases DIR FILE.h5 ...
        A NAME.json case as above for each given (real) Keras file, with random inputs.

Layouts (as read from each version's saving code, and from the real files in ../shared/keras):
  - standalone Keras 2.0.x: root attrs model_config (a JSON whose "config" is a bare list of
    layers), keras_version, backend; model_weights/{layer}/{layer}/kernel:0, fixed-length byte
    strings in layer_names / weight_names.
  - tf.keras 2.x: an InputLayer in the config; recurrent weights under {layer}/{layer}/{layer}_cell/;
    variable-length strings; model_weights/top_level_model_weights (2.8+).
  - Keras 3 (legacy_h5_format): config entries with module/registered_name, InputLayer's
    "batch_shape"; weight names are variable paths without ":0" (lstm/lstm_cell/kernel).
"""
import json
import sys
from pathlib import Path

import h5py
import numpy as np

VLEN = h5py.string_dtype("utf-8")


# ----------------------------------------------------------------------------- Keras's equations

def activation(name, x, keras3):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "hard_sigmoid":  # Keras 2: clip(0.2x + 0.5); Keras 3: relu6(x + 3) / 6
        return np.clip(x / 6 + 0.5, 0, 1) if keras3 else np.clip(0.2 * x + 0.5, 0, 1)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"activation {name}")


def recurrent(cls, cfg, w, x, keras3):
    """Keras's SimpleRNN, LSTM and GRU cells over x [N, T, I], zero initial state."""
    n, steps, _ = x.shape
    units = cfg["units"]
    kernel, rkernel = w["kernel"], w["recurrent_kernel"]
    bias = w.get("bias")
    act = lambda v: activation(cfg.get("activation", "tanh"), v, keras3)
    ract = lambda v: activation(cfg.get("recurrent_activation", "sigmoid" if keras3 else "hard_sigmoid"), v, keras3)
    h = np.zeros((n, units))
    c = np.zeros((n, units))
    outputs = []
    for t in range(steps):
        xt = x[:, t, :]
        if cls == "SimpleRNN":
            h = act(xt @ kernel + h @ rkernel + (bias if bias is not None else 0))
        elif cls == "LSTM":  # gates i, f, c, o
            z = xt @ kernel + h @ rkernel + (bias if bias is not None else 0)
            i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
            c = ract(f) * c + ract(i) * act(g)
            h = ract(o) * act(c)
        else:  # GRU, gates z, r, h
            H = units
            if cfg.get("reset_after", False):
                b_in, b_rec = (bias[0], bias[1]) if bias is not None else (0, 0)
                xz = xt @ kernel + b_in
                hz = h @ rkernel + b_rec
                z = ract(xz[:, :H] + hz[:, :H])
                r = ract(xz[:, H:2 * H] + hz[:, H:2 * H])
                hh = act(xz[:, 2 * H:] + r * hz[:, 2 * H:])
            else:
                xz = xt @ kernel + (bias if bias is not None else 0)
                z = ract(xz[:, :H] + h @ rkernel[:, :H])
                r = ract(xz[:, H:2 * H] + h @ rkernel[:, H:2 * H])
                hh = act(xz[:, 2 * H:] + (r * h) @ rkernel[:, 2 * H:])
            h = z * h + (1 - z) * hh
        outputs.append(h)
    return np.stack(outputs, axis=1) if cfg.get("return_sequences", False) else h


def layer_weights(group, name):
    """{kernel, recurrent_kernel, bias, embeddings} of one layer group, by weight_names (float64)."""
    if name not in group:
        return {}
    g = group[name]
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs.get("weight_names", [])]
    out = {}
    for n in names:
        key = n.split("/")[-1].split(":")[0]
        out[key] = np.asarray(g[n], dtype=np.float64)
    return out


def reference(path, x):
    """Keras's output for input x (float64): walks model_config, reads weights in Keras's layout."""
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        version = f.attrs.get("keras_version", f["model_weights"].attrs.get("keras_version", "2"))
        version = version.decode() if isinstance(version, bytes) else str(version)
        keras3 = int(version.split(".")[0]) >= 3
        body = config["config"]
        layers = body if isinstance(body, list) else body["layers"]
        weights = f["model_weights"]
        y = np.asarray(x, dtype=np.float64)
        for entry in layers:
            cls, cfg = entry["class_name"], entry["config"]
            w = layer_weights(weights, cfg.get("name", ""))
            if cls == "InputLayer" or cls == "Dropout":
                continue
            if cls == "TimeDistributed":
                cls, cfg = entry["config"]["layer"]["class_name"], entry["config"]["layer"]["config"]
            if cls == "Embedding":
                y = w["embeddings"][y[..., 0].astype(int)]
            elif cls == "Dense":
                y = activation(cfg.get("activation", "linear"), y @ w["kernel"] + w.get("bias", 0), keras3)
            elif cls == "RepeatVector":
                y = np.repeat(y[:, None, :], cfg["n"], axis=1)
            elif cls == "Activation":
                y = activation(cfg["activation"], y, keras3)
            elif cls == "Softmax":
                y = activation("softmax", y, keras3)
            elif cls in ("SimpleRNN", "LSTM", "GRU"):
                y = recurrent(cls, cfg, w, y, keras3)
            else:
                raise ValueError(f"layer {cls}")
        return y


# ----------------------------------------------------------------------------- writing Keras's layouts

def strings(values, layout):
    """weight_names / layer_names as each layout stores them."""
    if layout == "keras2.0":
        return np.array([v.encode() for v in values], dtype=f"S{max([len(v) for v in values] + [1])}")
    return np.array(values, dtype=VLEN)


def write_model(path, layout, version, layers, weights):
    """layers: [(class_name, config)]; weights: {layer name: [(weight name, array)]} in Keras's order."""
    if layout == "keras3":
        entries = [{"module": "keras.layers", "class_name": c, "config": cfg, "registered_name": None} for c, cfg in layers]
        config = {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": True, "layers": entries}, "registered_name": None}
    elif layout == "keras2.0":
        config = {"class_name": "Sequential", "config": [{"class_name": c, "config": cfg} for c, cfg in layers]}
    else:
        config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [{"class_name": c, "config": cfg} for c, cfg in layers]}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = version
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        mw = f.create_group("model_weights")
        names = [cfg["name"] for c, cfg in layers if c != "InputLayer"]
        mw.attrs["layer_names"] = strings(names, layout)
        mw.attrs["keras_version"] = version
        mw.attrs["backend"] = "tensorflow"
        for name in sorted(names) if layout == "keras3" else names:
            g = mw.create_group(name)
            items = weights.get(name, [])
            if not items:
                g.attrs["weight_names"] = np.array([], dtype=np.float64)  # as Keras writes a layer without weights
                continue
            g.attrs["weight_names"] = strings([n for n, _ in items], layout)
            for n, value in items:
                g.create_dataset(n, data=value.astype(np.float32))
        if layout != "keras2.0":
            mw.create_group("top_level_model_weights").attrs["weight_names"] = np.array([], dtype=np.float64)


def rnn_weights(layout, name, cls, inputs, units, rng, use_bias=True, reset_after=False, scale=0.6):
    gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[cls]
    cell = {"SimpleRNN": "simple_rnn_cell", "LSTM": "lstm_cell", "GRU": "gru_cell"}[cls]
    prefix = {"keras2.0": f"{name}/", "tfkeras": f"{name}/{cell}/", "keras3": f"{name}/{cell}/"}[layout]
    suffix = "" if layout == "keras3" else ":0"
    items = [(f"{prefix}kernel{suffix}", rng.uniform(-scale, scale, (inputs, gates * units))),
             (f"{prefix}recurrent_kernel{suffix}", rng.uniform(-scale, scale, (units, gates * units)))]
    if use_bias:
        shape = (2, gates * units) if reset_after else (gates * units,)
        items.append((f"{prefix}bias{suffix}", rng.uniform(-scale, scale, shape)))
    return items


def dense_weights(layout, name, inputs, units, rng, scale=0.6):
    suffix = "" if layout == "keras3" else ":0"
    return [(f"{name}/kernel{suffix}", rng.uniform(-scale, scale, (inputs, units))), (f"{name}/bias{suffix}", rng.uniform(-scale, scale, (units,)))]


def rnn_config(name, units, **extra):
    cfg = {"name": name, "trainable": True, "units": units, "activation": "tanh", "use_bias": True, "return_sequences": False,
           "return_state": False, "go_backwards": False, "stateful": False, "unroll": False, "dropout": 0.0, "recurrent_dropout": 0.0}
    cfg.update(extra)
    return cfg


def dense_config(name, units, act):
    return {"name": name, "trainable": True, "units": units, "activation": act, "use_bias": True}


def fixtures(out):
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261130)
    models = {}

    # Standalone Keras 2.0.2, as Keras's addition_rnn example: config a bare list, hard_sigmoid gates, no InputLayer.
    L = "keras2.0"
    models["keras2-addition-rnn"] = (L, "2.0.2", [
        ("LSTM", rnn_config("lstm_1", 6, batch_input_shape=[None, 5, 4], recurrent_activation="hard_sigmoid", implementation=0)),
        ("RepeatVector", {"name": "repeat_vector_1", "trainable": True, "n": 3}),
        ("LSTM", rnn_config("lstm_2", 6, return_sequences=True, recurrent_activation="hard_sigmoid")),
        ("TimeDistributed", {"name": "time_distributed_1", "trainable": True, "layer": {"class_name": "Dense", "config": dense_config("dense_1", 4, "softmax")}}),
    ], {"lstm_1": rnn_weights(L, "lstm_1", "LSTM", 4, 6, rng), "lstm_2": rnn_weights(L, "lstm_2", "LSTM", 6, 6, rng),
        "time_distributed_1": dense_weights(L, "time_distributed_1", 6, 4, rng)}, (5, 5, 4))
    # Standalone Keras 2.0.2 GRU: no reset_after key (reset before the product), hard_sigmoid by default.
    models["keras2-gru"] = (L, "2.0.2", [
        ("GRU", rnn_config("gru_1", 5, batch_input_shape=[None, 4, 3], recurrent_activation="hard_sigmoid")),
        ("Dense", dense_config("dense_1", 2, "sigmoid")),
    ], {"gru_1": rnn_weights(L, "gru_1", "GRU", 3, 5, rng), "dense_1": dense_weights(L, "dense_1", 5, 2, rng)}, (4, 4, 3))

    # tf.keras 2.8: InputLayer, GRU with reset_after True (bias [2, 3H]) and False, relu and linear Dense.
    L = "tfkeras"
    models["tfkeras-gru"] = (L, "2.8.0", [
        ("InputLayer", {"batch_input_shape": [None, 4, 3], "dtype": "float32", "sparse": False, "ragged": False, "name": "gru_input"}),
        ("GRU", rnn_config("gru", 5, return_sequences=True, recurrent_activation="sigmoid", reset_after=True)),
        ("GRU", rnn_config("gru_1", 4, recurrent_activation="hard_sigmoid", reset_after=False)),
        ("Dense", dense_config("dense", 3, "relu")),
        ("Dense", dense_config("dense_1", 2, "linear")),
    ], {"gru": rnn_weights(L, "gru", "GRU", 3, 5, rng, reset_after=True), "gru_1": rnn_weights(L, "gru_1", "GRU", 5, 4, rng),
        "dense": dense_weights(L, "dense", 4, 3, rng), "dense_1": dense_weights(L, "dense_1", 3, 2, rng)}, (4, 4, 3))
    # tf.keras 2.6: Embedding → SimpleRNN (per step) → Dropout → TimeDistributed(Dense) → Activation → Softmax.
    models["tfkeras-embedding"] = (L, "2.6.0", [
        ("InputLayer", {"batch_input_shape": [None, None], "dtype": "float32", "name": "embedding_input"}),
        ("Embedding", {"name": "embedding", "trainable": True, "input_dim": 7, "output_dim": 4, "mask_zero": False, "input_length": None}),
        ("SimpleRNN", rnn_config("simple_rnn", 5, return_sequences=True, activation="relu")),
        ("Dropout", {"name": "dropout", "trainable": True, "rate": 0.3}),
        ("TimeDistributed", {"name": "time_distributed", "trainable": True, "layer": {"class_name": "Dense", "config": dense_config("dense", 3, "linear")}}),
        ("Activation", {"name": "activation", "trainable": True, "activation": "tanh"}),
        ("Softmax", {"name": "softmax", "trainable": True, "axis": -1}),
    ], {"embedding": [("embedding/embeddings:0", rng.uniform(-1, 1, (7, 4)))], "simple_rnn": rnn_weights(L, "simple_rnn", "SimpleRNN", 4, 5, rng),
        "time_distributed": dense_weights(L, "time_distributed", 5, 3, rng)}, "tokens")
    # The seed's model (SEEDS.md's Keras experiment): LSTM(256) on (16, 1) → Dropout(0.2) → Dense(9, sigmoid).
    models["tfkeras-seed-lstm"] = (L, "2.8.0", [
        ("InputLayer", {"batch_input_shape": [None, 16, 1], "dtype": "float32", "name": "lstm_input"}),
        ("LSTM", rnn_config("lstm", 256, recurrent_activation="sigmoid", unit_forget_bias=True)),
        ("Dropout", {"name": "dropout", "trainable": True, "rate": 0.2}),
        ("Dense", dense_config("dense", 9, "sigmoid")),
    ], {"lstm": rnn_weights(L, "lstm", "LSTM", 1, 256, rng, scale=0.1), "dense": dense_weights(L, "dense", 256, 9, rng)}, "bits16")

    # Keras 3: module/registered_name entries, batch_shape, weight paths without ":0", hard_sigmoid = relu6(x+3)/6.
    L = "keras3"
    models["keras3-lstm-gru"] = (L, "3.3.3", [
        ("InputLayer", {"batch_shape": [None, 6, 2], "dtype": "float32", "sparse": False, "name": "input_layer"}),
        ("LSTM", rnn_config("lstm", 5, return_sequences=True, recurrent_activation="hard_sigmoid", unit_forget_bias=True)),
        ("GRU", rnn_config("gru", 4, recurrent_activation="hard_sigmoid", reset_after=True)),
        ("Dense", dense_config("dense", 3, "softmax")),
    ], {"lstm": rnn_weights(L, "lstm", "LSTM", 2, 5, rng, scale=1.5), "gru": rnn_weights(L, "gru", "GRU", 5, 4, rng, reset_after=True, scale=1.5),
        "dense": dense_weights(L, "dense", 4, 3, rng)}, (4, 6, 2))

    for name, (layout, version, layers, weights, inputs) in models.items():
        path = out / f"{name}.h5"
        write_model(path, layout, version, layers, weights)
        if inputs == "tokens":
            x = rng.integers(0, 7, (3, 5, 1)).astype(np.float64)
        elif inputs == "bits16":
            x = rng.integers(0, 2, (4, 16, 1)).astype(np.float64)
        else:
            x = rng.uniform(-2, 2, inputs)
        write_case(out / f"{name}.json", path.name, x, reference(path, x))

    # Files Carry must refuse, each with one line naming the layer.
    L = "tfkeras"
    write_model(out / "refused-mask-zero.h5", L, "2.8.0", [
        ("Embedding", {"name": "embedding", "input_dim": 5, "output_dim": 2, "mask_zero": True, "batch_input_shape": [None, None]}),
        ("LSTM", rnn_config("lstm", 2, recurrent_activation="sigmoid")),
    ], {"embedding": [("embedding/embeddings:0", rng.uniform(-1, 1, (5, 2)))], "lstm": rnn_weights(L, "lstm", "LSTM", 2, 2, rng)})
    write_model(out / "refused-conv1d.h5", L, "2.8.0", [
        ("Conv1D", {"name": "conv1d", "filters": 2, "kernel_size": [3], "batch_input_shape": [None, 8, 1]}),
    ], {"conv1d": [("conv1d/kernel:0", rng.uniform(-1, 1, (3, 1, 2))), ("conv1d/bias:0", np.zeros(2))]})


def write_case(path, h5_name, x, y):
    case = {"h5": h5_name, "input_shape": list(x.shape), "input": x.ravel().tolist(), "output_shape": list(y.shape), "output": y.ravel().tolist()}
    path.write_text(json.dumps(case))


def cases(out, files):
    """A case per real file: random inputs of the file's declared shape (tokens for an Embedding)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for file in files:
        file = Path(file)
        with h5py.File(file, "r") as f:
            config = json.loads(f.attrs["model_config"])
        body = config["config"]
        layers = body if isinstance(body, list) else body["layers"]
        first = next(e for e in layers if e["class_name"] != "InputLayer")
        declared = next((e["config"].get("batch_input_shape") or e["config"].get("batch_shape") for e in layers
                         if e["config"].get("batch_input_shape") or e["config"].get("batch_shape")), None)
        if first["class_name"] == "Embedding":
            steps = declared[1] if declared and declared[1] else 6
            x = rng.integers(0, first["config"]["input_dim"], (8, steps, 1)).astype(np.float64)
        else:
            x = rng.uniform(-1, 1, (8, declared[1], declared[2]))
            if "addition" in file.name:  # one-hot characters, as the addition example feeds it
                x = np.eye(declared[2])[rng.integers(0, declared[2], (8, declared[1]))]
        write_case(out / f"{file.stem}.json", str(file.resolve()), x, reference(file, x))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "fixtures":
        fixtures(Path(sys.argv[2]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "cases":
        cases(Path(sys.argv[2]), sys.argv[3:])
    else:
        sys.exit(__doc__)
