"""Experiment A peer in PyTorch autograd: the same 2-16-1 sigmoid Elman network without biases,
one sample per step, half sum of squared errors, SGD lr 0.1, float64, one thread.

Prints: iamtrask-torch<TAB>seconds for the iterations run<TAB>iterations
(bench/compare.sh runs a fraction of 50,000 and scales; it says so in the table).
"""
import sys
import time

import numpy as np
import torch


def main(iterations: int) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    w0 = torch.tensor(2 * rng.random_sample((2, 16)) - 1, requires_grad=True)
    w1 = torch.tensor(2 * rng.random_sample((16, 1)) - 1, requires_grad=True)
    wh = torch.tensor(2 * rng.random_sample((16, 16)) - 1, requires_grad=True)
    opt = torch.optim.SGD([w0, w1, wh], lr=0.1)
    a = rng.randint(128, size=iterations)
    b = rng.randint(128, size=iterations)
    c = a + b
    bits = ((np.stack([a, b], axis=1)[:, None, :] >> np.arange(8)[None, :, None]) & 1).astype(np.float64)  # [N, 8, 2] LSB first
    target = ((c[:, None] >> np.arange(8)[None, :]) & 1).astype(np.float64)  # [N, 8]
    xs = torch.from_numpy(bits)
    ys = torch.from_numpy(target)
    start = time.perf_counter()
    for j in range(iterations):
        h = torch.zeros(1, 16, dtype=torch.float64)
        loss = torch.zeros((), dtype=torch.float64)
        for t in range(8):
            h = torch.sigmoid(xs[j, t:t + 1] @ w0 + h @ wh)
            y = torch.sigmoid(h @ w1)
            loss = loss + 0.5 * ((y[0, 0] - ys[j, t]) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    elapsed = time.perf_counter() - start
    print(f"iamtrask-torch\t{elapsed:.4g}\t{iterations}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50000)
