"""Python's Dask and NumPy on the cases of examples/array_bench.rs, for the README.

    python3 -m venv .venv && .venv/bin/pip install "dask[array]"
    .venv/bin/python scripts/compare_dask_array.py

One JSON line per case: the median of 3 runs, each in a fresh process (so the peak
memory, from resource.getrusage, is the case's own). Dask uses its default threaded
scheduler, the NumPy matmul OpenBLAS with its default threads.

The headline ratio, measured side by side (rounds alternate Dask and dask-rs so both
see the same machine load; one JSON line with the medians and ratios):

    cargo build --release --example array_bench
    .venv/bin/python scripts/compare_dask_array.py --against target/release/examples/array_bench

NumPy's breadth (cumsum along axis 0, nanmean with 10% NaN, a 3x3 map_overlap
stencil, tsqr of a 1,000,000 x 100 matrix, a blocked 4,000 x 4,000 solve, a 4 GB
Zarr round trip; needs
`pip install zarr` too), side by side:

    cargo build --release --features linalg,zarr --example array_bench
    .venv/bin/python scripts/compare_dask_array.py --numpy target/release/examples/array_bench

The block-graph figures (shared blocks: mean and std together, x + x.T, the
standardisation and covariance), side by side the same way:

    .venv/bin/python scripts/compare_dask_array.py --shared target/release/examples/array_bench
"""
import json
import resource
import statistics
import subprocess
import sys
import time


def smooth(b):
    """The 3x3 mean of each element one away from the block's edge."""
    import numpy as np
    out = b.copy()
    r, c = b.shape
    acc = np.zeros((r - 2, c - 2))
    for di in range(3):
        for dj in range(3):
            acc += b[di:r - 2 + di, dj:c - 2 + dj]
    out[1:-1, 1:-1] = acc / 9
    return out


def case(name):
    import numpy as np
    import dask
    import dask.array as da

    start = time.perf_counter()
    if name == "matmul_numpy":
        rng = np.random.default_rng(1)
        a, b = rng.standard_normal((4000, 4000)), rng.standard_normal((4000, 4000))
        start = time.perf_counter()
        value = float((a @ b).sum())
    else:
        x = da.random.default_rng(42).normal(0, 1, size=(10_000, 10_000), chunks=(1_000, 1_000))
        if name == "mean":
            value = float(x.mean().compute())
        elif name == "mean_legacy":
            # The mission's literal example: da.random.normal (the RandomState API).
            y = da.random.normal(0, 1, size=(10_000, 10_000), chunks=(1_000, 1_000))
            value = float(y.mean().compute())
        elif name == "sum_axis0":
            value = float(x.sum(axis=0).compute().sum())
        elif name == "x_plus_xt_mean":
            value = float((x + x.T).mean().compute())
        elif name == "cumsum":
            value = float(x.cumsum(axis=0).mean().compute())
        elif name == "nanmean":
            value = float(da.nanmean(da.where(x > 1.2816, np.nan, x)).compute())
        elif name == "stencil":
            value = float(x.map_overlap(smooth, depth=1, boundary="reflect", dtype=x.dtype).mean().compute())
        elif name == "tsqr":
            y = da.random.default_rng(5).normal(0, 1, size=(1_000_000, 100), chunks=(50_000, 100))
            q, r = da.linalg.tsqr(y)
            qs, rs = dask.compute(q.sum(), r.sum())
            value = float(qs + rs)
        elif name == "solve":
            # A 4,000 x 4,000 system, 8 right-hand sides, in 1,000-tiles (Dask's blocked
            # lu, then two solve_triangular).
            rng = da.random.default_rng(7)
            a = rng.normal(0, 1, size=(4000, 4000), chunks=(1000, 1000))
            b = rng.normal(0, 1, size=(4000, 8), chunks=(1000, 8))
            x = da.linalg.solve(a, b)
            r, total = dask.compute(abs(a @ x - b).max(), x.sum())
            assert r < 1e-6, r
            value = float(total)
        elif name == "zarr_round_trip":
            import os
            import shutil
            path = f"/tmp/dask-py-bench-{os.getpid()}.zarr"
            y = da.random.default_rng(6).normal(0, 1, size=(50_000, 10_000), chunks=(1_000, 2_500))
            # Uncompressed, as dask-rs writes it.
            y.to_zarr(path, overwrite=True, compressors=None)
            value = float(da.from_zarr(path).sum().compute())
            shutil.rmtree(path)
        elif name == "std":
            value = float(x.std().compute())
        elif name == "mean_and_std":
            m, s = dask.compute(x.mean(), x.std())
            value = float(m + s)
        elif name == "standardise_cov":
            y = da.random.default_rng(3).normal(0, 1, size=(20_000, 500), chunks=(2_000, 500))
            z = (y - y.mean(axis=0)) / y.std(axis=0)
            value = float((z.T @ z).sum().compute())
        elif name == "matmul":
            rng = da.random.default_rng(1)
            a = rng.standard_normal((4000, 4000), chunks=(1000, 1000))
            b = rng.standard_normal((4000, 4000), chunks=(1000, 1000))
            value = float((a @ b).sum().compute())
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(seconds, value, peak_mb)


def seconds_of(command):
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[0])


def side_by_side(case_name, runners, ratios, rounds=7):
    """Rounds that run each command once, in turn; one JSON line of medians and ratios."""
    times = {name: [] for name in runners}
    for _ in range(rounds):
        for name, command in runners.items():
            times[name].append(seconds_of(command))
    m = {name: statistics.median(t) for name, t in times.items()}
    line = {"case": case_name, "rounds": rounds, **{name: round(v, 4) for name, v in m.items()}}
    line.update({f"{a}_over_{b}": round(m[a] / m[b], 2) for a, b in ratios})
    print(json.dumps(line), flush=True)


def against(array_bench):
    """The issue's two headline figures: the mission's mean and the 4000x4000 matmul."""
    import dask
    print(json.dumps({"dask": dask.__version__}), flush=True)
    me = [sys.executable, __file__, "--case"]
    side_by_side("mission_mean", {
        "dask_mean": me + ["mean"],
        "dask_mean_legacy": me + ["mean_legacy"],
        "dask_rs_mean": [array_bench, "--case", "mean"],
        "rayon_mean": [array_bench, "--case", "rayon_mean"],
    }, [("dask_mean", "dask_rs_mean"), ("dask_mean_legacy", "dask_rs_mean"),
        ("dask_rs_mean", "rayon_mean")])
    side_by_side("matmul_4000", {
        "numpy_matmul": me + ["matmul_numpy"],
        "dask_rs_matmul": [array_bench, "--case", "matmul_only"],
    }, [("dask_rs_matmul", "numpy_matmul")], rounds=5)


def shared(array_bench):
    """The block-graph issue's figures: shared blocks, side by side with Dask."""
    import dask
    print(json.dumps({"dask": dask.__version__}), flush=True)
    me = [sys.executable, __file__, "--case"]
    ours = lambda case: [array_bench, "--case", case]
    side_by_side("mean_and_std", {
        "dask_rs_mean_and_std": ours("mean_and_std"),
        "dask_rs_std": ours("std"),
        "dask_mean_and_std": me + ["mean_and_std"],
        "dask_std": me + ["std"],
    }, [("dask_rs_mean_and_std", "dask_rs_std"), ("dask_mean_and_std", "dask_std"),
        ("dask_mean_and_std", "dask_rs_mean_and_std")])
    side_by_side("x_plus_xt_mean", {
        "dask_rs_x_plus_xt_mean": ours("x_plus_xt_mean"),
        "dask_rs_mean": ours("mean"),
        "dask_x_plus_xt_mean": me + ["x_plus_xt_mean"],
        "dask_mean": me + ["mean"],
    }, [("dask_rs_x_plus_xt_mean", "dask_rs_mean"), ("dask_x_plus_xt_mean", "dask_mean"),
        ("dask_x_plus_xt_mean", "dask_rs_x_plus_xt_mean")])
    side_by_side("standardise_cov", {
        "dask_rs_standardise_cov": ours("standardise_cov"),
        "dask_standardise_cov": me + ["standardise_cov"],
    }, [("dask_standardise_cov", "dask_rs_standardise_cov")])


def numpy_breadth(array_bench, names=()):
    """The NumPy-breadth issue's figures (all of them, or the cases named)."""
    import dask
    print(json.dumps({"dask": dask.__version__}), flush=True)
    me = [sys.executable, __file__, "--case"]
    for name in names or ["cumsum", "nanmean", "stencil", "tsqr", "solve", "zarr_round_trip"]:
        side_by_side(name, {
            f"dask_rs_{name}": [array_bench, "--case", name],
            f"dask_{name}": me + [name],
        }, [(f"dask_{name}", f"dask_rs_{name}")], rounds=5)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        case(sys.argv[2])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--against":
        against(sys.argv[2])
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "--numpy":
        numpy_breadth(sys.argv[2], sys.argv[3:])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--shared":
        shared(sys.argv[2])
        return
    import dask
    for name in ["mean", "mean_legacy", "sum_axis0", "x_plus_xt_mean", "std", "cumsum", "nanmean",
                 "stencil", "mean_and_std",
                 "standardise_cov", "matmul", "matmul_numpy"]:
        runs = []
        for _ in range(3):
            out = subprocess.run([sys.executable, __file__, "--case", name], capture_output=True, text=True, check=True)
            runs.append(tuple(float(v) for v in out.stdout.split()))
        runs.sort()
        seconds, value, peak = runs[1]
        print(json.dumps({"case": name, "impl": f"python-dask {dask.__version__}", "seconds": round(seconds, 4),
                          "value": value, "peak_mb": round(peak, 1), "runs": 3}), flush=True)


if __name__ == "__main__":
    main()
