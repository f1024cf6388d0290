"""Python's Dask on the shapes of examples/overhead.rs, for a side-by-side figure.

    python3 -m venv .venv && .venv/bin/pip install dask
    .venv/bin/python scripts/compare_dask.py            # 10k tasks a shape
    .venv/bin/python scripts/compare_dask.py 100000     # a larger size

Prints one JSON line per case, the same fields as the Rust example's `overhead` case.
Trivial tasks (x + 1), build and compute timed separately, medians of 3 runs, each run
checked against the serial answer.
"""
import json
import statistics
import sys
import time

import dask
from dask import delayed


@delayed(pure=False)
def inc(x):
    return x + 1


@delayed(pure=False)
def add(x, y):
    return x + y


@delayed(pure=False)
def total(xs):
    return sum(xs)


def build(shape, n):
    if shape == "fan_out":
        source = inc(0)
        return total([inc(source) for _ in range(n)]), n + 3
    if shape == "chain":
        x = inc(0)
        for _ in range(1, n):
            x = inc(x)
        return x, n
    level = [inc(i) for i in range(n)]
    while len(level) > 1:
        level = [add(*p) if len(p) == 2 else p[0] for p in (level[i:i + 2] for i in range(0, len(level), 2))]
    return level[0], 2 * n - 1


def expected(shape, n):
    return {"fan_out": 2 * n, "chain": n, "binary_tree": n * (n + 1) // 2}[shape]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    sys.setrecursionlimit(max(10_000, 4 * n))
    for shape in ["fan_out", "chain", "binary_tree"]:
        for scheduler in ["sync", "threads"]:
            builds, computes = [], []
            for _ in range(3):
                start = time.perf_counter()
                graph, tasks = build(shape, n)
                builds.append(time.perf_counter() - start)
                start = time.perf_counter()
                value = graph.compute(scheduler=scheduler, num_workers=2 if scheduler == "threads" else None)
                computes.append(time.perf_counter() - start)
                assert value == expected(shape, n), (shape, value)
            b = statistics.median(builds) * 1e9 / tasks
            c = statistics.median(computes) * 1e9 / tasks
            print(json.dumps({
                "case": "overhead", "impl": f"python-dask {dask.__version__}", "shape": shape,
                "tasks": tasks, "scheduler": scheduler if scheduler == "sync" else "threads2",
                "build_ns_per_task": round(b, 1), "compute_ns_per_task": round(c, 1),
                "build_compute_ns_per_task": round(b + c, 1),
            }), flush=True)


if __name__ == "__main__":
    main()
