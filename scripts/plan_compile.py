"""How long a `graph!` plan of 2,000 nodes takes to compile, and the compiler's peak
memory, for three shapes: a chain, a wide fan-in, and a DAG that is not series-parallel
(so it compiles to the table backend).

    python3 scripts/plan_compile.py            # 2,000 nodes, dev and release profiles
    python3 scripts/plan_compile.py 500        # another size
    PLAN_SHAPES=wide PLAN_PROFILES=dev python3 scripts/plan_compile.py   # a subset

Writes a throwaway crate under target/plan_compile/ that depends on this repository's
`dask`, builds it once to compile the dependencies, then for each shape and profile
touches the plan and rebuilds, timing `cargo build` and reading rustc's peak RSS from
getrusage (the largest child). One JSON line a build.
"""
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRATE = ROOT / "target" / "plan_compile"


def chain(n):
    lines = ["let x0 = inc(0);"]
    lines += [f"let x{i} = inc(x{i - 1});" for i in range(1, n)]
    return lines, f"x{n - 1}"


def wide(n):
    lines = [f"let x{i} = inc({i});" for i in range(n - 1)]
    lines.append("let total = gather(vec![" + ", ".join(f"x{i}" for i in range(n - 1)) + "]);")
    return lines, "total"


def table(n):
    # x_i reads x_{i-1} and x_{i-2}: every three consecutive nodes make an N, so the
    # graph is not series-parallel and the plan runs on the table backend.
    lines = ["let x0 = inc(0);", "let x1 = inc(1);"]
    lines += [f"let x{i} = add(x{i - 1}, x{i - 2});" for i in range(2, n)]
    return lines, f"x{n - 1}"


def source(lines, output):
    body = "\n        ".join(lines)
    return f"""use dask::prelude::*;

#[delayed]
fn inc(x: u64) -> u64 {{
    x.wrapping_add(1)
}}

#[delayed]
fn add(x: u64, y: u64) -> u64 {{
    x.wrapping_add(y)
}}

#[delayed]
fn gather(xs: Vec<u64>) -> u64 {{
    xs.iter().fold(0, |a, b| a.wrapping_add(*b))
}}

fn main() {{
    let plan = graph! {{
        {body}
        {output}
    }};
    println!("{{}} nodes: {{}}", plan.node_names().len(), plan.compute().unwrap());
}}
"""


def build(profile):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    args = ["cargo", "build", "--quiet"] + (["--release"] if profile == "release" else [])
    subprocess.run(args, cwd=CRATE, check=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak, before


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    (CRATE / "src").mkdir(parents=True, exist_ok=True)
    (CRATE / "Cargo.toml").write_text(
        f"""[package]
name = "plan_compile"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
dask = {{ path = "{ROOT}" }}

[workspace]
"""
    )
    main_rs = CRATE / "src" / "main.rs"
    profiles = os.environ.get("PLAN_PROFILES", "dev,release").split(",")
    shapes = os.environ.get("PLAN_SHAPES", "chain,wide,table").split(",")
    for profile in profiles:
        main_rs.write_text(source(["let x0 = inc(0);"], "x0"))
        build(profile)  # the dependencies, once a profile
        for name, shape in [("chain", chain), ("wide", wide), ("table", table)]:
            if name not in shapes:
                continue
            main_rs.write_text(source(*shape(n)))
            seconds, peak, before = build(profile)
            exe = CRATE / "target" / ("release" if profile == "release" else "debug") / "plan_compile"
            ran = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.strip()
            print(json.dumps({
                "case": "plan_compile", "shape": name, "nodes": n, "profile": profile,
                "seconds": round(seconds, 2),
                # ru_maxrss only grows: a build that did not beat an earlier child's peak
                # reports that peak, an upper bound.
                "peak_rss_mb": round(peak / 1024),
                "ran": ran,
            }), flush=True)


if __name__ == "__main__":
    main()
