#!/usr/bin/env bash
# Side-by-side: Carry against its peers on this machine, in one run.
#   bench/compare.sh [--fast]
# Runs Carry's quick benchmarks (bench/Carry.Bench -- quick), the article's numpy script, the same
# network in PyTorch autograd, one Experiment-B epoch in PyTorch (2 threads) and fp32 GEMM through
# numpy/OpenBLAS; prints one table of figures and ratios and writes docs/performance.md.
# --fast shortens the peers' runs (fractions, scaled; the table says which).
set -euo pipefail
cd "$(dirname "$0")/.."
FAST=0
[[ "${1:-}" == "--fast" ]] && FAST=1
PY=/usr/bin/python3
THREADS=${THREADS:-$(nproc)}

# The peers run on Debian's packages; PyTorch needs OpenBLAS's pthread build, or it falls back to
# the reference BLAS.
if ! "$PY" -c 'import numpy, torch' 2>/dev/null || ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  echo "installing the peers' packages (python3-numpy python3-torch libopenblas0-pthread)..." >&2
  apt-get update -qq && apt-get install -y -qq python3-numpy python3-torch libopenblas0-pthread python3-threadpoolctl >/dev/null
fi

OUTDIR=$(mktemp -d)
trap 'rm -rf "$OUTDIR"' EXIT
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

echo "building Carry.Bench (Release)..." >&2
dotnet build bench/Carry.Bench -c Release -v quiet -nologo >/dev/null
BENCH=bench/Carry.Bench/bin/Release/net10.0/Carry.Bench.dll

echo "Carry quick benchmarks ($THREADS threads)..." >&2
# The epoch first and alone, so that its peak working set is the training's own.
dotnet "$BENCH" quick --threads "$THREADS" --reps 3 --only epoch | tee "$OUTDIR/carry.txt" >&2
dotnet "$BENCH" quick --threads "$THREADS" --reps 5 --only gemm,lstm,predict,a | tee -a "$OUTDIR/carry.txt" >&2
dotnet "$BENCH" quick --threads "$THREADS" --reps 5 --only cells,cells-epoch | tee -a "$OUTDIR/carry.txt" >&2

if [[ $FAST == 1 ]]; then A_NUMPY=5000; A_TORCH=1000; B_BATCHES=16; else A_NUMPY=50000; A_TORCH=5000; B_BATCHES=64; fi
echo "numpy/OpenBLAS fp32 GEMM..." >&2
env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS="$THREADS" "$PY" bench/peers/gemm_numpy.py | tee "$OUTDIR/numpy_gemm.txt" >&2
echo "the article's numpy script, $A_NUMPY iterations..." >&2
env -u OPENBLAS_CORETYPE "$PY" bench/peers/iamtrask_numpy.py "$A_NUMPY" | tee "$OUTDIR/iamtrask_numpy.txt" >&2
echo "PyTorch autograd, $A_TORCH iterations..." >&2
env -u OPENBLAS_CORETYPE "$PY" bench/peers/iamtrask_torch.py "$A_TORCH" | tee "$OUTDIR/iamtrask_torch.txt" >&2
echo "PyTorch LSTM(256), $B_BATCHES batches..." >&2
env -u OPENBLAS_CORETYPE "$PY" bench/peers/keras_lstm_torch.py "$B_BATCHES" "$THREADS" | tee "$OUTDIR/torch_lstm.txt" >&2
echo "whole processes: ./carry train iamtrask against the numpy script (start-up included)..." >&2
./carry --version >/dev/null # build and publish the CLI first, outside the timing
"$PY" bench/peers/whole_process.py "carry train iamtrask" 5 -- ./carry train iamtrask --out "$OUTDIR/elman.carry" | tee "$OUTDIR/whole.txt" >&2
env -u OPENBLAS_CORETYPE "$PY" bench/peers/whole_process.py "numpy script" 1 -- "$PY" bench/peers/iamtrask_numpy.py 50000 | tee -a "$OUTDIR/whole.txt" >&2
# Experiment B as a user runs it: one epoch of `carry train keras` (LSTM, then GRU) against the
# PyTorch script training a whole epoch, start-up included; keras-fast to every pair exact.
if [[ $FAST == 1 ]]; then TORCH_EPOCH_BATCHES=64; else TORCH_EPOCH_BATCHES=512; fi
echo "whole processes: one Experiment-B epoch, Carry (LSTM, GRU) and PyTorch ($TORCH_EPOCH_BATCHES batches)..." >&2
"$PY" bench/peers/whole_process.py "carry train keras --epochs 1" 1 -- ./carry train keras --epochs 1 --threads "$THREADS" --out "$OUTDIR/k.carry" | tee -a "$OUTDIR/whole.txt" >&2
"$PY" bench/peers/whole_process.py "carry train keras --cell gru --epochs 1" 1 -- ./carry train keras --cell gru --epochs 1 --threads "$THREADS" --out "$OUTDIR/g.carry" | tee -a "$OUTDIR/whole.txt" >&2
env -u OPENBLAS_CORETYPE "$PY" bench/peers/whole_process.py "pytorch keras epoch" 1 -- "$PY" bench/peers/keras_lstm_torch.py "$TORCH_EPOCH_BATCHES" "$THREADS" | tee -a "$OUTDIR/whole.txt" >&2
if [[ $FAST == 0 ]]; then
  echo "whole processes: carry train keras, 3 epochs (memory over epochs), and keras-fast to every pair exact..." >&2
  "$PY" bench/peers/whole_process.py "carry train keras --epochs 3" 1 -- ./carry train keras --epochs 3 --threads "$THREADS" --out "$OUTDIR/k3.carry" | tee -a "$OUTDIR/whole.txt" >&2
  "$PY" bench/peers/whole_process.py "carry train keras-fast" 1 -- ./carry train keras-fast --threads "$THREADS" --out "$OUTDIR/kf.carry" | tee -a "$OUTDIR/whole.txt" >&2
  ./carry eval --model "$OUTDIR/kf.carry" --json > "$OUTDIR/kf.json" 2>/dev/null || true
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
CORES=$(nproc)
export OUTDIR MODEL CORES LOAD_BEFORE LOAD_AFTER THREADS TORCH_EPOCH_BATCHES
"$PY" - <<'PYEOF'
import datetime, os

out = os.environ["OUTDIR"]

def lines(name):
    with open(os.path.join(out, name)) as f:
        return [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]

carry = {l[0]: float(l[1]) for l in lines("carry.txt")}
numpy_gemm = {l[0].removeprefix("numpy-gemm "): float(l[1]) for l in lines("numpy_gemm.txt") if l[0].startswith("numpy-gemm ")}
numpy_gemm_cpu = {l[0].removeprefix("numpy-gemm-cpu "): float(l[1]) for l in lines("numpy_gemm.txt") if l[0].startswith("numpy-gemm-cpu ")}
a_np = lines("iamtrask_numpy.txt")[0]
a_th = lines("iamtrask_torch.txt")[0]
b_th = lines("torch_lstm.txt")[0]
a_np_s = float(a_np[1]) * 50000 / int(a_np[2])
a_th_s = float(a_th[1]) * 50000 / int(a_th[2])
b_th_s = float(b_th[1])

rows = []  # workload, carry, peer name, peer figure, ratio (Carry better when > 1), target
def row(work, cval, cunit, peer, pval, punit, ratio, target):
    rows.append((work, f"{cval:.4g} {cunit}", peer, f"{pval:.4g} {punit}", f"{ratio:.2f}×", target))

ca = carry["experiment A 50,000 iterations (double, fused)"]
row("Experiment A, 50,000 iterations (double)", ca, "s", f"article's numpy script ({a_np[2]} it., scaled)" if int(a_np[2]) != 50000 else "article's numpy script", a_np_s, "s", a_np_s / ca, "≤ 0.1 s")
row("Experiment A, 50,000 iterations (double)", ca, "s", f"PyTorch autograd ({a_th[2]} it., scaled)", a_th_s, "s", a_th_s / ca, "")
cl = carry.get("experiment A 50,000 iterations (double, layers)")
if cl:
    rows.append(("Experiment A, 50,000 iterations (double), through the layers", f"{cl:.4g} s", "", "", "", ""))
whole = {l[0].removeprefix("whole-process "): (float(l[1]), float(l[2]), float(l[3])) for l in lines("whole.txt")}
if "carry train iamtrask" in whole and "numpy script" in whole:
    (cw, cc, _), (nw, nc, _) = whole["carry train iamtrask"], whole["numpy script"]
    row("`./carry train iamtrask`, whole process", cw, "s", "`python3 bench/peers/iamtrask_numpy.py 50000`, whole process", nw, "s", nw / cw, "≥ 80× numpy; aim 200×")
    row("`./carry train iamtrask`, whole process, CPU-seconds", cc, "cpu-s", "numpy script", nc, "cpu-s", nc / cc, "")
keras1, gru1, torch_epoch = (whole.get(k) for k in ("carry train keras --epochs 1", "carry train keras --cell gru --epochs 1", "pytorch keras epoch"))
if keras1 and torch_epoch:
    torch_whole = torch_epoch[0] if os.environ["TORCH_EPOCH_BATCHES"] == "512" else float(b_th[1])  # the script's own scaled epoch when it timed fewer batches
    row("`./carry train keras --epochs 1`, whole process", keras1[0], "s", f"PyTorch script, one epoch, whole process ({os.environ['TORCH_EPOCH_BATCHES']} batches{'' if os.environ['TORCH_EPOCH_BATCHES'] == '512' else ', epoch scaled'})",
        torch_whole, "s", torch_whole / keras1[0], "≥ 4.5× PyTorch")
if keras1 and gru1:
    rows.append(("`./carry train keras --cell gru --epochs 1` / the same with LSTM, whole processes", f"{gru1[0]:.4g} s / {keras1[0]:.4g} s = {gru1[0] / keras1[0]:.2f}×", "", "", "", "GRU ≤ 0.9× LSTM"))
for name in ("carry train keras --epochs 1", "carry train keras --epochs 3"):
    if name in whole:
        rows.append((f"`./{name}`, peak resident memory", f"{whole[name][2]:.0f} MiB", "", "", "", "≤ 200 MiB for any number of epochs"))
if "carry train keras-fast" in whole:
    import json
    exact = ""
    try:
        res = json.load(open(os.path.join(out, "kf.json")))["results"]
        exact = f" (then `carry eval`: {res[0]['exact'] * 100:.2f}% of {res[0]['samples']:,} pairs exact)"
    except (OSError, ValueError, KeyError, IndexError):
        exact = " (eval failed)"
    rows.append(("`./carry train keras-fast`, whole process" + exact, f"{whole['carry train keras-fast'][0]:.4g} s", "", "", "", "≤ 120 s; aim 60 s"))
fma = next((v for k, v in carry.items() if k.startswith("fma-only loop")), None)
cf = carry["experiment A 50,000 iterations (float, fused)"]
rows.append(("Experiment A, 50,000 iterations (float)", f"{cf:.4g} s", "", "", "", "≤ 0.05 s"))
cb = carry["experiment B epoch (65,536 samples)"]
row("Experiment B, one epoch (LSTM 256, batch 128)", cb, "s", f"PyTorch, {os.environ['THREADS']} threads ({b_th[2]} batches, scaled)", b_th_s, "s", b_th_s / cb, "≥ 4.5× PyTorch")
cbc, bthc = carry.get("experiment B epoch CPU time"), float(b_th[3]) if len(b_th) > 3 else None
if cbc and bthc:
    row("Experiment B, one epoch, CPU-seconds (all threads)", cbc, "cpu-s", "PyTorch", bthc, "cpu-s", bthc / cbc, "")
rows.append(("Experiment B, effective rate", f"{carry['experiment B effective']:.4g} GFLOP/s", "PyTorch", f"{65536 * 25.3e6 / b_th_s / 1e9:.4g} GFLOP/s", "", "≥ 83 GFLOP/s"))
for key, value in carry.items():
    if key.startswith("cells ") and key.endswith("per step and gate-unit, / LSTM's") and not key.startswith("cells lstm:"):
        rows.append((f"{key.removeprefix('cells ').split(':')[0]} step (forward+backward) per gate-unit, / LSTM's", f"{value:.3g}×", "", "", "", "≤ 1.3×"))
    if key.startswith("cells ") and key.endswith("per step and HxH product, / LSTM's"):
        rows.append((f"{key.removeprefix('cells ').split(':')[0]} step (forward+backward) per H×H product, / LSTM's", f"{value:.3g}×", "", "", "", ""))
gru_epoch = carry.get("cells gru: experiment B epoch CPU time / LSTM's")
if gru_epoch:
    rows.append(("GRU(256) epoch / LSTM(256) epoch, CPU-seconds, same run", f"{gru_epoch:.3g}×", "", "", "", "≤ 0.9×"))
rows.append(("LSTM(256) train step, batch 128", f"{carry['lstm256 train step (batch 128, T 16)']:.4g} ms", "", "", "", ""))
if "lstm128 train step (batch 64, T 16; keras-fast)" in carry:
    rows.append(("LSTM(128) train step, batch 64 (keras-fast's shapes)", f"{carry['lstm128 train step (batch 64, T 16; keras-fast)']:.4g} ms", "", "", "", ""))
rows.append(("allocation per LSTM train step", f"{carry['lstm256 train step allocation']:.0f} B", "", "", "", "0 B (BenchmarkDotNet)"))
rows.append(("peak working set, Experiment B epoch (process)", f"{carry['peak working set (process)']:.0f} MiB", "", "", "", "< 200 MiB"))
rows.append(("inference, 65,536 pairs (Predict, batch 1024)", f"{carry['experiment B inference (65,536 pairs)']:.4g} s", "", "", "", "≤ 2 s"))
for key, value in carry.items():
    if key.startswith("experiment B inference, shared prefixes"):
        rows.append(("inference, 65,536 pairs (prefix trie, as carry eval)" + (" — same outputs (within 1e-5)" if "identical: True" in key else " — OUTPUTS DIFFER"), f"{value:.4g} s", "", "", "", "≤ 2 s"))
for shape, gf in numpy_gemm.items():
    c = carry.get(f"gemm {shape}")
    if c is not None:
        share = f"≥ 50% of peak: {c / (fma * int(os.environ['THREADS'])) * 100:.0f}% of {fma * int(os.environ['THREADS']):.0f}" if fma else ""
        row(f"fp32 GEMM {shape}", c, "GFLOP/s", "numpy/OpenBLAS", gf, "GFLOP/s", c / gf, share)
    c_cpu, n_cpu = carry.get(f"gemm {shape} per CPU-second"), numpy_gemm_cpu.get(shape)
    if c_cpu and n_cpu:
        row(f"fp32 GEMM {shape}, per CPU-second", c_cpu, "GFLOP/cpu-s", "numpy/OpenBLAS", n_cpu, "GFLOP/cpu-s", c_cpu / n_cpu, "")
    c_packed = carry.get(f"gemm {shape} B packed")
    if c is not None and c_packed is not None:
        share = f"≥ 50% of peak: {c_packed / (fma * int(os.environ['THREADS'])) * 100:.0f}% of {fma * int(os.environ['THREADS']):.0f}" if fma else ""
        row(f"fp32 GEMM {shape}, B packed once (as the layers run the step products)", c_packed, "GFLOP/s", "numpy/OpenBLAS (packs per call)", gf, "GFLOP/s", c_packed / gf, share)

header = ("workload", "Carry", "peer", "peer's figure", "Carry's advantage", "target")
widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(6)]
def fmt(r):
    return "  ".join(str(v).ljust(w) for v, w in zip(r, widths))
print(fmt(header))
print(fmt(["-" * w for w in widths]))
for r in rows:
    print(fmt(r))

now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
md = [
    "# Performance",
    "",
    f"Measured {now} by `bench/compare.sh` on {os.environ['MODEL']}, {os.environ['CORES']} cores; Carry on "
    f"{os.environ['THREADS']} threads. Load average (1, 5, 15 min) {os.environ['LOAD_BEFORE']} before the run and "
    f"{os.environ['LOAD_AFTER']} after: with a load above the core count every figure here, Carry's and the peers', "
    "is slower than on an idle machine, and ratios are the more trustworthy numbers; the rows per "
    "CPU-second (work done per second of processor time, all threads counted) are the least disturbed "
    "by other processes, since they do not count the time a thread waits for a core.",
    "",
    "Ratios are the peer's time over Carry's (or Carry's rate over the peer's): above 1, Carry is faster. "
    "Peers run on Debian's python3-numpy and python3-torch with libopenblas0-pthread; where the table says "
    "scaled, a fraction of the run was timed and scaled to the whole (the PyTorch epoch from its batches, "
    "the PyTorch Experiment A from its iterations).",
    "",
    "| " + " | ".join(header) + " |",
    "| " + " | ".join("---" for _ in header) + " |",
]
md += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
md += [
    "",
    "## How the figures are made",
    "",
    "- `bench/compare.sh` (add `--fast` for shorter peer runs) builds bench/Carry.Bench and runs "
    "`Carry.Bench quick --only epoch` alone (so that its peak working set is the training's own), then "
    "`--only gemm,lstm,predict,a`, then the peers in bench/peers/. `THREADS=1 bench/compare.sh` runs Carry "
    "and the PyTorch epoch on one thread.",
    "- BenchmarkDotNet, with the memory diagnoser: `dotnet run -c Release --project bench/Carry.Bench -- "
    "--filter '*Gemm*'` (also `*LstmStep*`, `*ExperimentA*`, `*ExperimentB*`).",
    "- Threads: `new ComputeContext(n)` assigned to `Sequential<T>.Compute` (or a layer's `Compute`, or "
    "passed to `Gemm.Multiply(context, ...)`); the default, `ComputeContext.Default`, uses every core. "
    "Results are bit-identical for every thread count.",
    "- Inference over all pairs (`carry eval`, `predict --all`, the per-epoch score) uses `AllPairsInference`, "
    "which runs each distinct input prefix through the recurrent layers once (131,070 states instead of "
    "1,048,576 for 8-bit operands; an LSTM's W_hh·h shared by sibling prefixes) and gives `Predict`'s outputs "
    "within float rounding.",
    "",
    "Experiment B's effective rate counts 25.3 MFLOP per sample (forward and backward), as issue 5 does.",
    "Carry's figures are Stopwatch medians from `dotnet run -c Release --project bench/Carry.Bench -- quick`; "
    "the BenchmarkDotNet classes in bench/Carry.Bench (`-- --filter '*'`) measure the same workloads with "
    "a memory diagnoser.",
    "",
]
os.makedirs("docs", exist_ok=True)
# Hand-written analysis below the marker (the targets, the gaps and their causes) survives a re-run.
MARKER = "<!-- analysis: kept by bench/compare.sh -->"
kept = ""
if os.path.exists("docs/performance.md"):
    old = open("docs/performance.md").read()
    if MARKER in old:
        kept = old[old.index(MARKER):]
with open("docs/performance.md", "w") as f:
    f.write("\n".join(md))
    if kept:
        f.write("\n" + kept)
print("\nwrote docs/performance.md")
PYEOF
