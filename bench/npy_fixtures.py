#!/usr/bin/python3
"""Writes the .npy test fixtures with real numpy (Debian's python3-numpy), and expected.json
with each file's dtype, shape and values, for tests/Carry.Tests/NpyTests.cs.

    /usr/bin/python3 bench/npy_fixtures.py   (Debian's python, which has python3-numpy) tests/Carry.Tests/Data/npy
"""
import json
import os
import sys

import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "tests/Carry.Tests/Data/npy"
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(11)

arrays = {
    # [batch, time, features] as carry predict reads it
    "float32_2x3x2.npy": (rng.standard_normal((2, 3, 2)) * 10).astype("<f4"),
    "float64_3x4.npy": np.array([[1 / 3, -2.5, 1e-300, 6.02e23], [0.0, -0.0, 1e300, -7.0], [0.1, 0.2, 0.3, 0.4]], dtype="<f8"),
    "int32_2x5.npy": np.array([[0, 1, 2, 3, -4], [2147483647, -2147483648, 7, 8, 9]], dtype="<i4"),
    "int64_4.npy": np.array([0, -1, 2**40, -(2**62)], dtype="<i8"),
    "float32_scalar_shape_1x1x1.npy": np.array([[[np.float32(3.25)]]], dtype="<f4"),
}
expected = {}
for name, a in arrays.items():
    np.save(os.path.join(out, name), a)
    expected[name] = {"dtype": a.dtype.str, "shape": list(a.shape), "values": [float(v) if a.dtype.kind == "f" else int(v) for v in a.ravel()]}

# A format 2.0 header (4-byte length), as numpy writes for headers over 64 KiB or when asked.
v2 = np.arange(6, dtype="<f4").reshape(2, 3) / 8
with open(os.path.join(out, "float32_v2_2x3.npy"), "wb") as f:
    np.lib.format.write_array(f, v2, version=(2, 0))
expected["float32_v2_2x3.npy"] = {"dtype": "<f4", "shape": [2, 3], "values": [float(v) for v in v2.ravel()]}

# Files Carry must refuse with one line.
np.save(os.path.join(out, "bad_bigendian.npy"), np.arange(3, dtype=">f4"))
np.save(os.path.join(out, "bad_fortran.npy"), np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
np.save(os.path.join(out, "bad_uint8.npy"), np.arange(3, dtype="u1"))

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"numpy": np.__version__, "files": expected}, f, indent=1)
print(f"wrote {len(expected)} arrays and 3 refusals to {out} with numpy {np.__version__}")
