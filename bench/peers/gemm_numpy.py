"""fp32 matrix products through numpy (OpenBLAS) at the LSTM(256) and keras-fast LSTM(128) step shapes and 2048^3.

Prints two lines per shape: numpy-gemm <name><TAB>GFLOP/s (median of 5 by the clock), and
numpy-gemm-cpu <name><TAB>GFLOP per CPU-second of the process (all BLAS threads), which a loaded
machine disturbs less.
"""
import time

import numpy as np

SHAPES = [
    ("lstm-forward 128x1024x256 (B·Wᵀ)", 128, 1024, 256, False, True),
    ("lstm-backward-dh 128x256x1024", 128, 256, 1024, False, False),
    ("lstm-dW 1024x256x2048 (Aᵀ·B)", 1024, 256, 2048, True, False),
    ("lstm-input-proj 2048x1024x1 (K=1)", 2048, 1024, 1, False, True),
    ("keras-fast forward 64x512x128 (B·Wᵀ)", 64, 512, 128, False, True),
    ("keras-fast backward-dh 64x128x512", 64, 128, 512, False, False),
    ("square 2048x2048x2048", 2048, 2048, 2048, False, False),
]


def main() -> None:
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            print(f"# {pool.get('internal_api')} {pool.get('version')} threads={pool.get('num_threads')} coretype={pool.get('architecture')}")
    except ImportError:
        print("# threadpoolctl not installed; BLAS thread count not shown")
    rng = np.random.default_rng(1)
    for name, m, n, k, ta, tb in SHAPES:
        a = rng.random((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.random((n, k) if tb else (k, n), dtype=np.float32)
        opa = a.T if ta else a
        opb = b.T if tb else b
        c = np.empty((m, n), dtype=np.float32)
        flop = 2.0 * m * n * k
        inner = max(1, int(2e9 / flop / 10))
        np.matmul(opa, opb, out=c)
        times, cpu = [], []
        for _ in range(5):
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(inner):
                np.matmul(opa, opb, out=c)
            times.append((time.perf_counter() - start) / inner)
            cpu.append((time.process_time() - cpu_start) / inner)
        times.sort()
        cpu.sort()
        print(f"numpy-gemm {name}\t{flop / times[2] / 1e9:.4g}")
        print(f"numpy-gemm-cpu {name}\t{flop / cpu[2] / 1e9:.4g}")


if __name__ == "__main__":
    main()
