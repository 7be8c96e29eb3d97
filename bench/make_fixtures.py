"""Makes a set of Carry's reference fixtures, in the layout of tests/fixtures/ (and ../shared/fixtures).

    /usr/bin/python3 bench/make_fixtures.py OUT [--seed N] [--batch B] [--time T]
        [--input-size I] [--hidden-size H] [--iamtrask-seed S] [--no-iamtrask] [--same-layout-as DIR]

writes
    OUT/pytorch/rnn_tanh.json, rnn_tanh_nobias.json, lstm.json, gru.json, gru_bidirectional.json,
        lstm_2layer_bidirectional.json   torch.nn.RNN/LSTM/GRU forward and backward, float64
    OUT/pytorch/dense_sigmoid_losses.json   sigmoid(x Wᵀ + b) and three losses with their gradients
    OUT/pytorch/optimizers.json   six steps of SGD (plain, momentum, Nesterov), Adagrad, RMSprop, Adam
    OUT/iamtrask-seed{S}.txt   stdout of iamtrask's numpy adder (bench/peers/iamtrask.py), seed S

Run it with Debian's python3-torch (`apt-get install -y python3-torch`): /usr/bin/python3, not a
virtual environment's. Without size options each file has the sizes of the reference set; each
size option replaces that size in every file it applies to (dense: batch rows, input features,
hidden size as output features). The tests read every shape and hyperparameter from the files, so
`CARRY_FIXTURES=OUT dotnet test Carry.slnx -c Release` runs them against this set. The tests read
iamtrask-seed0.txt (the preset's own seed), so keep --iamtrask-seed 0 for a set the tests use.
--same-layout-as DIR checks, after writing, that every file has DIR's keys, in DIR's order, with
arrays of the same rank (and the same shapes when no size option was given).
"""
import argparse
import json
import os
import subprocess
import sys

import torch

torch.set_default_dtype(torch.float64)

RECURRENT = "torch.nn.{cls} batch_first=True; loss = sum(output*dOutput) + sum(h_n*dHn){cell}; every tensor float64, row-major nested lists"

# name: (kind, batch, time, input_size, hidden_size, num_layers, bidirectional, bias) as in the reference set
RECURRENT_FILES = {
    "rnn_tanh": ("rnn", 2, 5, 3, 4, 1, False, True),
    "rnn_tanh_nobias": ("rnn", 3, 4, 2, 5, 1, False, False),
    "lstm": ("lstm", 2, 5, 3, 4, 1, False, True),
    "gru": ("gru", 2, 5, 3, 4, 1, False, True),
    "gru_bidirectional": ("gru", 2, 4, 2, 3, 1, True, True),
    "lstm_2layer_bidirectional": ("lstm", 2, 4, 3, 4, 2, True, True),
}


def nested(t):
    return t.detach().tolist()


def recurrent(kind, batch, time, input_size, hidden, layers, bidirectional, bias):
    """One torch.nn recurrent module run forward and backward from random state, input and upstream gradients."""
    dirs = 2 if bidirectional else 1
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    extra = {"nonlinearity": "tanh"} if kind == "rnn" else {}
    module = cls(input_size, hidden, num_layers=layers, bias=bias, batch_first=True, bidirectional=bidirectional, **extra)
    x = torch.randn(batch, time, input_size, requires_grad=True)
    h0 = torch.randn(layers * dirs, batch, hidden, requires_grad=True)
    c0 = torch.randn(layers * dirs, batch, hidden, requires_grad=True) if kind == "lstm" else None
    output, state = module(x, (h0, c0) if c0 is not None else h0)
    h_n, c_n = state if c0 is not None else (state, None)
    d_output = torch.randn_like(output)
    d_hn = torch.randn_like(h_n)
    loss = (output * d_output).sum() + (h_n * d_hn).sum()
    d_cn = None
    if c_n is not None:
        d_cn = torch.randn_like(c_n)
        loss = loss + (c_n * d_cn).sum()
    loss.backward()
    named = list(module.named_parameters())
    f = {
        "description": RECURRENT.format(cls=cls.__name__, cell=" + sum(c_n*dCn)" if kind == "lstm" else ""),
        "kind": kind, "batch": batch, "time": time, "input_size": input_size, "hidden_size": hidden,
        "num_layers": layers, "bidirectional": bidirectional, "nonlinearity": "tanh" if kind == "rnn" else None, "bias": bias,
        "parameters": {n: nested(p) for n, p in named},
        "input": nested(x), "h0": nested(h0), "output": nested(output), "h_n": nested(h_n),
        "dOutput": nested(d_output), "dHn": nested(d_hn), "grad_input": nested(x.grad), "grad_h0": nested(h0.grad),
        "grad_parameters": {n: nested(p.grad) for n, p in named},
    }
    if c0 is not None:
        f.update({"c0": nested(c0), "c_n": nested(c_n), "dCn": nested(d_cn), "grad_c0": nested(c0.grad)})
    return f


def dense_losses(batch, inputs, outputs):
    """p = sigmoid(x Wᵀ + b) against 0/1 targets under mean squared error, binary cross-entropy and ½Σ(p-t)²."""
    linear = torch.nn.Linear(inputs, outputs)
    x = torch.randn(batch, inputs)
    target = (torch.rand(batch, outputs) < 0.5).to(torch.float64)
    losses = {
        "mse_mean": lambda p: torch.nn.functional.mse_loss(p, target),
        "bce_mean": lambda p: torch.nn.functional.binary_cross_entropy(p, target),
        "half_sum_squares": lambda p: 0.5 * ((p - target) ** 2).sum(),
    }
    out = {}
    for name, fn in losses.items():
        linear.zero_grad()
        xi = x.clone().requires_grad_(True)
        p = torch.sigmoid(linear(xi))
        value = fn(p)
        value.backward()
        out[name] = {"loss": value.item(), "grad_input": nested(xi.grad), "grad_weight": nested(linear.weight.grad), "grad_bias": nested(linear.bias.grad)}
    return {
        "description": "p = sigmoid(x @ weight.T + bias); each loss of p against target, with its gradients",
        "activation": "sigmoid", "weight": nested(linear.weight), "bias": nested(linear.bias),
        "input": nested(x), "target": nested(target), "output": nested(torch.sigmoid(linear(x))), "losses": out,
    }


def optimizers(steps=6, shape=(3, 2)):
    """Each optimizer from w0 through the same gradients; the parameter after every step."""
    w0 = torch.randn(*shape)
    gradients = torch.randn(steps, *shape)
    makers = {
        "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
        "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
        "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01),
        "adam": lambda p: torch.optim.Adam(p, lr=0.001, eps=1e-7),
    }
    out = {}
    for name, make in makers.items():
        w = w0.clone().requires_grad_(True)
        opt = make([w])
        after = []
        for s in range(steps):
            w.grad = gradients[s].clone()
            opt.step()
            after.append(nested(w))
        hyper = {k: (list(v) if isinstance(v, tuple) else v) for k, v in opt.defaults.items() if v is not None}
        out[name] = {"hyperparameters": hyper, "after_each_step": after}
    return {
        "description": "PyTorch optimizer update rules: start from w0, apply each gradient in turn, record the parameter after each step",
        "w0": nested(w0), "gradients": nested(gradients), "optimizers": out,
    }


def write(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, separators=(",", ":"))


def layout(value):
    """A value's layout: keys in order, arrays as ("array", rank, shape), scalars by type."""
    if isinstance(value, dict):
        return {k: layout(v) for k, v in value.items()}
    if isinstance(value, list):
        shape, probe = [], value
        while isinstance(probe, list):
            shape.append(len(probe))
            probe = probe[0] if probe else None
        return ("array", len(shape), tuple(shape))
    return type(value).__name__ if value is not None else "null"


def compare(ours, theirs, where, shapes):
    """Problems between two layouts (None matches null or a string: nonlinearity is null for gated kinds)."""
    if isinstance(theirs, dict):
        if not isinstance(ours, dict) or list(ours) != list(theirs):
            return [f"{where}: keys {list(ours) if isinstance(ours, dict) else ours} != {list(theirs)}"]
        return [p for k in theirs for p in compare(ours[k], theirs[k], f"{where}.{k}", shapes)]
    if isinstance(theirs, tuple):
        if not isinstance(ours, tuple) or ours[1] != theirs[1] or (shapes and ours[2] != theirs[2]):
            return [f"{where}: {ours} != {theirs}"]
        return []
    if ours != theirs and not ({ours, theirs} <= {"int", "float"}):
        return [f"{where}: {ours} != {theirs}"]
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0, help="torch.manual_seed for the PyTorch files (default 0)")
    for name in ("batch", "time", "input-size", "hidden-size"):
        ap.add_argument(f"--{name}", type=int, help=f"replace every file's {name.replace('-', ' ')}")
    ap.add_argument("--iamtrask-seed", type=int, default=0, help="seed of the numpy adder's run (default 0; the tests read seed 0)")
    ap.add_argument("--no-iamtrask", action="store_true", help="skip the numpy adder's 50,000-iteration run")
    ap.add_argument("--same-layout-as", metavar="DIR", help="check the written files against this fixture folder")
    a = ap.parse_args()
    sizes_given = any(v is not None for v in (a.batch, a.time, a.input_size, a.hidden_size))
    pick = lambda given, default: default if given is None else given
    if any(v is not None and v <= 0 for v in (a.batch, a.time, a.input_size, a.hidden_size)):
        sys.exit("make_fixtures.py: sizes must be positive")

    os.makedirs(os.path.join(a.out, "pytorch"), exist_ok=True)
    torch.manual_seed(a.seed)
    written = []
    for name, (kind, b, t, i, h, layers, bidi, bias) in RECURRENT_FILES.items():
        f = recurrent(kind, pick(a.batch, b), pick(a.time, t), pick(a.input_size, i), pick(a.hidden_size, h), layers, bidi, bias)
        written.append((f"pytorch/{name}.json", f))
    written.append(("pytorch/dense_sigmoid_losses.json", dense_losses(pick(a.batch, 5), pick(a.input_size, 4), pick(a.hidden_size, 3))))
    written.append(("pytorch/optimizers.json", optimizers()))
    for rel, value in written:
        write(os.path.join(a.out, rel), value)
        print(f"wrote {os.path.join(a.out, rel)}")

    if not a.no_iamtrask:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "iamtrask.py")
        rel = f"iamtrask-seed{a.iamtrask_seed}.txt"
        with open(os.path.join(a.out, rel), "w", encoding="utf-8") as f:
            subprocess.run([sys.executable, script, str(a.iamtrask_seed)], stdout=f, check=True)
        print(f"wrote {os.path.join(a.out, rel)}")

    if a.same_layout_as:
        problems = []
        for rel, value in written:
            with open(os.path.join(a.same_layout_as, rel), encoding="utf-8") as f:
                problems += compare(layout(value), layout(json.load(f)), rel, shapes=not sizes_given)
        if not a.no_iamtrask:
            rel = f"iamtrask-seed{a.iamtrask_seed}.txt"
            ours = open(os.path.join(a.out, rel), encoding="utf-8").read().split("\n")
            ref_path = os.path.join(a.same_layout_as, rel)
            if os.path.exists(ref_path):
                theirs = open(ref_path, encoding="utf-8").read().split("\n")
                kinds = lambda lines: [line.split(":")[0] if ":" in line else ("sum" if " + " in line else line) for line in lines]
                if kinds(ours) != kinds(theirs):
                    problems.append(f"{rel}: {len(ours)} lines, the reference {len(theirs)}, or their kinds differ")
        for p in problems:
            print("layout differs:", p)
        print(f"layout: {len(written)} files compared with {a.same_layout_as}: {'same' if not problems else f'{len(problems)} differences'}")
        sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
