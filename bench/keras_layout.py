#!/usr/bin/env python3
"""Compare the HDF5 layout of two Keras .h5 files: groups, attributes, dataset names, shapes, dtypes.

    /usr/bin/python3 bench/keras_layout.py REAL.h5 EXPORTED.h5

Prints a markdown table, one row per object or attribute in either file: what it is in each
(group; dataset shape and dtype; attribute dtype and shape, and for model_config the layers'
class names), and whether they agree. Attribute values other than layer_names / weight_names and
the layer classes are not compared (weights and configs differ by design). Exit 1 on any difference.
"""
import json
import sys

import h5py


def describe_attr(name, value):
    if name == "model_config":
        config = json.loads(value)
        body = config["config"]
        layers = body if isinstance(body, list) else body["layers"]
        return "json: " + " → ".join(entry["class_name"] for entry in layers)
    if name.startswith("model_config:"):
        return value
    kind = "str" if isinstance(value, (str, bytes)) else f"{value.dtype.kind}{value.dtype.itemsize}{list(value.shape)}"
    if name in ("layer_names", "weight_names") and getattr(value, "dtype", None) is not None and value.dtype.kind in "OS":
        return f"{kind} = {[v.decode() if isinstance(v, bytes) else v for v in value]}"
    return kind


def layout(path):
    rows = {}
    with h5py.File(path, "r") as f:
        def add(name, obj):
            if isinstance(obj, h5py.Dataset):
                rows[name] = f"dataset {list(obj.shape)} {obj.dtype}"
            else:
                rows[name] = "group"
            for key, value in obj.attrs.items():
                rows[f"{name}@{key}"] = "attr " + describe_attr(key, value)
                if key == "model_config":  # each layer's config keys (Keras reads them by name)
                    body = json.loads(value)["config"]
                    for i, entry in enumerate(body if isinstance(body, list) else body["layers"]):
                        rows[f"{name}@model_config layer {i} ({entry['class_name']}) keys"] = ", ".join(sorted(entry["config"]))
        add("/", f)
        f.visititems(add)
    return rows


def main(real, exported):
    a, b = layout(real), layout(exported)
    print(f"| object (@attribute) | {real.split('/')[-1]} | {exported.split('/')[-1]} | same |")
    print("|---|---|---|---|")
    differences = 0
    for key in sorted(set(a) | set(b)):
        same = a.get(key) == b.get(key)
        differences += not same
        print(f"| `{key}` | {a.get(key, '—')} | {b.get(key, '—')} | {'yes' if same else '**no**'} |")
    print(f"\n{len(set(a) | set(b)) - differences} of {len(set(a) | set(b))} entries agree; {differences} differ.")
    return 1 if differences else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
