"""Draws from numpy's legacy generator (np.random.seed + random / randint), the values
tests/Carry.Tests/NumpyRandomTests.cs holds Carry.Arithmetic.NumpyRandom to.

    /usr/bin/python3 bench/peers/numpy_random_reference.py
"""
import numpy as np

for seed in (0, 1, 42, 4294967295):
    np.random.seed(seed)
    print(f"seed {seed} random:", ", ".join(repr(float(v)) for v in np.random.random(5)))
    print(f"seed {seed} randint(128):", ", ".join(str(np.random.randint(128)) for _ in range(8)))
    print(f"seed {seed} randint(1000):", ", ".join(str(np.random.randint(1000)) for _ in range(8)))
    print(f"seed {seed} randint(2**31+1):", ", ".join(str(np.random.randint(2**31 + 1)) for _ in range(4)))
