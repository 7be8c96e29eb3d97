"""Makes tests/fixtures/charrnn.json: Carry's char-rnn pieces against PyTorch.

1. Softmax cross-entropy from logits (nn.CrossEntropyLoss, mean): loss and d loss / d logits,
   with logits large enough (±40) that a naive softmax would overflow in float.
2. Two steps of stateful truncated BPTT through a char-rnn: one-hot input of V symbols,
   2-layer LSTM(H), Linear(H, V), cross-entropy; 3 parallel streams cut in chunks of 5 steps
   (char-rnn's loader), the final (h, c) of chunk 1 detached and fed as the initial state of
   chunk 2; gradients clipped element-wise to ±clip, RMSprop(lr, alpha=0.95, eps=1e-8).
   Records the initial parameters, each step's loss and the parameters after both steps.

Run: /usr/bin/python3 bench/text/charrnn_fixture.py  (Debian's python3-torch; double precision)
"""
import json
import os

import torch

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)

# 1. Softmax cross-entropy.
rows, classes = 6, 9
logits = (torch.rand(rows, classes) * 80 - 40).requires_grad_(True)
targets = torch.randint(0, classes, (rows,))
loss = torch.nn.functional.cross_entropy(logits, targets)
loss.backward()
ce = {
    "logits": logits.detach().tolist(),
    "targets": targets.tolist(),
    "loss": loss.item(),
    "dlogits": logits.grad.tolist(),
}

# 2. A char-rnn, two chunks of truncated BPTT.
V, H, B, SEQ, CLIP, LR = 7, 8, 3, 5, 0.05, 2e-3
text = torch.randint(0, V, (B * 2 * SEQ + 1,)).tolist()
lstm = torch.nn.LSTM(V, H, num_layers=2, batch_first=True)
linear = torch.nn.Linear(H, V)
params = {}
for name, p in lstm.named_parameters():
    # Carry's names: layers.0.weight_ih_l0 (first LSTM), layers.1.weight_ih_l0 (second).
    layer = int(name[-1])
    params[f"layers.{layer}.{name[:-1]}0"] = p
params["layers.2.weight"] = linear.weight
params["layers.2.bias"] = linear.bias
initial = {k: v.detach().tolist() for k, v in params.items()}
opt = torch.optim.RMSprop(list(lstm.parameters()) + list(linear.parameters()), lr=LR, alpha=0.95, eps=1e-8)

L = (len(text) - 1) // (B * SEQ) * SEQ  # symbols per stream
state = None
losses = []
for chunk in range(2):
    x = torch.zeros(B, SEQ, V)
    y = torch.zeros(B, SEQ, dtype=torch.long)
    for b in range(B):
        for t in range(SEQ):
            i = b * L + chunk * SEQ + t
            x[b, t, text[i]] = 1.0
            y[b, t] = text[i + 1]
    opt.zero_grad()
    out, (h, c) = lstm(x, state)
    logits2 = linear(out)
    loss2 = torch.nn.functional.cross_entropy(logits2.reshape(-1, V), y.reshape(-1))
    loss2.backward()
    torch.nn.utils.clip_grad_value_(list(lstm.parameters()) + list(linear.parameters()), CLIP)
    opt.step()
    state = (h.detach(), c.detach())
    losses.append(loss2.item())

fixture = {
    "torch": torch.__version__,
    "softmax_ce": ce,
    "charrnn": {
        "vocab": V, "hidden": H, "layers": 2, "batch": B, "seq": SEQ, "clip": CLIP, "lr": LR,
        "alpha": 0.95, "eps": 1e-8, "text": text, "initial": initial, "losses": losses,
        "final": {k: v.detach().tolist() for k, v in params.items()},
    },
}
out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "charrnn.json")
with open(out, "w") as f:
    json.dump(fixture, f)
print(f"wrote {os.path.normpath(out)}: losses {losses}")
