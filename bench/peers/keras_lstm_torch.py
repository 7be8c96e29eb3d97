"""Experiment B peer in PyTorch: LSTM(256) on 16 one-bit steps -> Dropout(0.2) -> Dense(9, sigmoid),
MSE, Adam (lr 0.001, eps 1e-7), batch 128, float32, torch.set_num_threads(threads).

Times `batches` training steps after 3 warm-up steps and scales to one epoch of 512 batches
(65,536 samples). Prints: torch-lstm-epoch<TAB>seconds per epoch (scaled)<TAB>batches timed<TAB>CPU-seconds per epoch (scaled)
"""
import sys
import time

import numpy as np
import torch
from torch import nn


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, 256, batch_first=True)
        self.drop = nn.Dropout(0.2)
        self.dense = nn.Linear(256, 9)

    def forward(self, x):
        out, _ = self.lstm(x)
        return torch.sigmoid(self.dense(self.drop(out[:, -1])))


def main(batches: int, threads: int) -> None:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    i, j = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    i, j = i.ravel(), j.ravel()
    bits = lambda v, n: ((v[:, None] >> np.arange(n - 1, -1, -1)[None, :]) & 1)
    x = torch.from_numpy(np.concatenate([bits(i, 8), bits(j, 8)], axis=1).astype(np.float32)[:, :, None])
    y = torch.from_numpy(bits(i + j, 9).astype(np.float32))
    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
    loss_fn = nn.MSELoss()
    order = torch.randperm(x.shape[0])

    def step(k):
        idx = order[(k * 128) % 65536:(k * 128) % 65536 + 128]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()

    for k in range(3):
        step(k)
    start, cpu_start = time.perf_counter(), time.process_time()
    for k in range(batches):
        step(k + 3)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"torch-lstm-epoch\t{elapsed / batches * 512:.4g}\t{batches}\t{cpu / batches * 512:.4g}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 64, int(sys.argv[2]) if len(sys.argv) > 2 else 2)
