"""How docs/explain.md's broken adder was chosen: the seed-0 iamtrask Elman adder with its
recurrent weights scaled, run in numpy from the .carry file (no Carry code involved).

    ./carry train iamtrask --out elman.carry
    python3 bench/explain_broken.py elman.carry

For each scale it prints the step at which all ones plus one (width 5,000) first gives a wrong
bit (None: never) and, when it fails, the fraction of the 65,536 8-bit pairs added exactly.
Scaling weight_hh by 0.99 keeps every 8-bit pair exact and loses the carry after 75 steps: the
tests build that model (ExplainModels.Broken).
"""
import json, struct, sys
import numpy as np


def load(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    header = json.loads(b[8:8 + n])
    tensors = {}
    for name, v in header.items():
        if name == '__metadata__':
            continue
        s, e = v['data_offsets']
        dtype = {'F64': np.float64, 'F32': np.float32}[v['dtype']]
        tensors[name] = np.frombuffer(b[8 + n + s:8 + n + e], dtype=dtype).reshape(v['shape'])
    return tensors


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def exact8(w_ih, w_hh, v):
    a, b = np.meshgrid(np.arange(256), np.arange(256))
    a, b = a.ravel(), b.ravel()
    h = np.zeros((len(a), w_hh.shape[0]))
    right = np.ones(len(a), dtype=bool)
    s = a + b
    for t in range(9):
        x = np.stack([(a >> t) & 1, (b >> t) & 1], 1).astype(float)
        h = sigmoid(x @ w_ih.T + h @ w_hh.T)
        right &= (sigmoid(h @ v.T)[:, 0] >= 0.5) == ((s >> t) & 1).astype(bool)
    return right.mean()


def chain(w_ih, w_hh, v, width):
    """The first step where (2^width - 1) + 1 gives a wrong bit, or None."""
    h = np.zeros((1, w_hh.shape[0]))
    for t in range(width + 1):
        x = np.array([[1.0 if t < width else 0.0, 1.0 if t == 0 else 0.0]])
        h = sigmoid(x @ w_ih.T + h @ w_hh.T)
        if (sigmoid(h @ v.T)[0, 0] >= 0.5) != (t == width):
            return t
    return None


def main():
    d = load(sys.argv[1] if len(sys.argv) > 1 else 'elman.carry')
    w_ih, w_hh, v = d['layers.0.weight_ih_l0'], d['layers.0.weight_hh_l0'], d['layers.1.weight']
    for scale in [0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 1.01, 1.05]:
        c = chain(w_ih, w_hh * scale, v, 5000)
        print('weight_hh x', scale, 'chain fails at step', c, 'exact at 8 bits', exact8(w_ih, w_hh * scale, v) if c is not None else '')
    for scale in [0.9, 0.95, 0.99, 1.01, 1.05]:
        print('dense weight x', scale, 'chain fails at step', chain(w_ih, w_hh, v * scale, 5000))


if __name__ == '__main__':
    main()
