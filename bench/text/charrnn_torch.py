"""The PyTorch anchor for `carry train text`: a port of char-rnn's defaults.

2-layer LSTM(128), seq 50, batch 50, RMSprop lr 2e-3 alpha 0.95, gradients clipped to ±5,
every parameter from U(-0.08, 0.08), 95/5 train/validation split, B parallel streams with the
state carried from chunk to chunk (char-rnn's loader, truncated BPTT); one-hot input, or an
embedding of --embedding units (128 for the 6,054 Tang symbols).

Trains for --seconds of wall time (after one warm-up step) and prints one line:
  torch corpus=... chars_per_s=... steps=... seconds=... train_loss=... [val_loss=...]

Run: /usr/bin/python3 bench/text/charrnn_torch.py --corpus data/tinyshakespeare.txt --seconds 60
     /usr/bin/python3 bench/text/charrnn_torch.py --corpus data/tang5.txt --embedding 128 --seconds 60
(Debian's python3-torch; --threads 2 by default.)
"""
import argparse
import math
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("--corpus", required=True)
p.add_argument("--embedding", type=int, default=0)
p.add_argument("--seconds", type=float, default=60)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--validate", action="store_true", help="score the validation split at the end")
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
B, SEQ, H = 50, 50, 128

text = open(a.corpus, encoding="utf-8").read()
symbols = sorted(set(text))
V = len(symbols)
index = {c: i for i, c in enumerate(symbols)}
data = torch.tensor([index[c] for c in text], dtype=torch.long)
split = len(data) - int(len(data) * 0.05)


def streams(part, b):
    """char-rnn's loader: b contiguous streams, cut in chunks of SEQ (inputs, next-symbol targets)."""
    b = min(b, (len(part) - 1) // SEQ)
    chunks = (len(part) - 1) // (b * SEQ)
    n = chunks * SEQ
    x = torch.stack([part[i * n:(i + 1) * n] for i in range(b)])
    y = torch.stack([part[i * n + 1:(i + 1) * n + 1] for i in range(b)])
    return x, y, chunks


class CharRnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(V, a.embedding) if a.embedding else None
        self.lstm = torch.nn.LSTM(a.embedding or V, H, num_layers=2, batch_first=True)
        self.out = torch.nn.Linear(H, V)

    def forward(self, x, state):
        x = self.embed(x) if self.embed is not None else torch.nn.functional.one_hot(x, V).float()
        h, state = self.lstm(x, state)
        return self.out(h), state


model = CharRnn()
for param in model.parameters():
    torch.nn.init.uniform_(param, -0.08, 0.08)
opt = torch.optim.RMSprop(model.parameters(), lr=2e-3, alpha=0.95)
loss_fn = torch.nn.CrossEntropyLoss()
x, y, chunks = streams(data[:split], B)


def step(k, state):
    xs, ys = x[:, k * SEQ:(k + 1) * SEQ], y[:, k * SEQ:(k + 1) * SEQ]
    opt.zero_grad()
    logits, state = model(xs, state)
    loss = loss_fn(logits.reshape(-1, V), ys.reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), 5.0)
    opt.step()
    return loss.item(), tuple(s.detach() for s in state)


loss, state = step(0, None)  # warm-up, not timed
k, steps, losses = 1, 0, []
start, cpu_start = time.perf_counter(), time.process_time()
while time.perf_counter() - start < a.seconds:
    if k == chunks:
        k, state = 0, None
    loss, state = step(k, state)
    losses.append(loss)
    k, steps = k + 1, steps + 1
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
line = (f"torch corpus={a.corpus} symbols={V} chars_per_s={steps * B * SEQ / elapsed:.0f} "
        f"chars_per_cpu_s={steps * B * SEQ / cpu:.0f} steps={steps} "
        f"seconds={elapsed:.1f} train_loss={sum(losses[-20:]) / len(losses[-20:]):.4f}")
if a.validate:
    vx, vy, vchunks = streams(data[split:], B)
    with torch.no_grad():
        state, total = None, 0.0
        for j in range(vchunks):
            logits, state = model(vx[:, j * SEQ:(j + 1) * SEQ], state)
            total += loss_fn(logits.reshape(-1, V), vy[:, j * SEQ:(j + 1) * SEQ].reshape(-1)).item()
    line += f" val_loss={total / vchunks:.4f}"
print(line, flush=True)
