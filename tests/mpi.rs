//! The MPI scheduler, run for real: the examples under `mpirun` at several rank counts
//! print the same `result` lines on every rank as one process does, and a failure on
//! one rank is the same error on every rank.
//!
//! Needs OpenMPI (`apt-get install -y --no-install-recommends libopenmpi-dev
//! openmpi-bin libclang-dev pkg-config`) and the `mpi` feature. The array examples run
//! with `--small`, so a debug build is enough; after building the examples it runs:
//! `cargo build --features mpi --examples && cargo test --features mpi --test mpi`
//! (add `--release` to both for the optimised build).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

/// An example built beside this test (cargo builds the examples for `cargo test`).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    dir.join("examples").join(name)
}

fn checked(out: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// One process, no `mpirun`: a world of one rank.
fn alone(name: &str, args: &[&str]) -> String {
    let out = Command::new(example(name))
        .args(args)
        .output()
        .expect("runs");
    checked(out, name)
}

fn mpirun(ranks: usize, name: &str, args: &[&str]) -> String {
    let out = Command::new("mpirun")
        .args([
            "-n",
            &ranks.to_string(),
            "--oversubscribe",
            "--timeout",
            "120",
        ])
        .arg(example(name))
        .args(args)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .output()
        .expect("mpirun runs");
    checked(out, &format!("mpirun -n {ranks} {name}"))
}

/// Each distinct `result` line and how many times it was printed.
fn results(stdout: &str) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for line in stdout.lines().filter(|l| l.starts_with("result")) {
        *seen.entry(line.to_owned()).or_default() += 1;
    }
    seen
}

/// Every rank printed exactly the lines one process prints.
fn assert_same_on_every_rank(name: &str, args: &[&str], ranks: &[usize]) {
    let one = results(&alone(name, args));
    assert!(!one.is_empty(), "{name} printed no result");
    assert!(one.values().all(|&n| n == 1), "{one:?}");
    for &n in ranks {
        let many = results(&mpirun(n, name, args));
        let expected: BTreeMap<String, usize> = one.keys().map(|k| (k.clone(), n)).collect();
        assert_eq!(many, expected, "{name} on {n} ranks");
    }
}

#[test]
fn the_missions_examples_give_the_same_results_on_one_two_and_three_ranks() {
    assert_same_on_every_rank("mpi_quickstart", &["--small"], &[2, 3]);
}

#[test]
fn the_array_graph_gives_the_same_results_on_every_rank() {
    assert_same_on_every_rank("mpi_array_mean", &["--small"], &[2, 3]);
}

#[test]
fn a_pipeline_with_the_programs_own_type_gives_the_same_results() {
    assert_same_on_every_rank("mpi_delayed", &[], &[2, 4]);
}

#[test]
fn a_failure_on_one_rank_is_the_same_error_on_every_rank() {
    for n in [1, 2, 3] {
        let out = if n == 1 {
            alone("mpi_delayed", &["--fail"])
        } else {
            mpirun(n, "mpi_delayed", &["--fail"])
        };
        let seen = results(&out);
        assert_eq!(
            seen.len(),
            1,
            "one error line, the same on every rank: {out}"
        );
        let (line, count) = seen.iter().next().expect("a line");
        assert_eq!(*count, n, "{out}");
        assert!(line.contains("part 13 is corrupt"), "{line}");
        assert!(line.contains("summarise"), "names the task: {line}");
        if n > 1 {
            assert!(line.starts_with("result error: on rank "), "{line}");
        }
        // Every rank got to its end: nobody hung.
        assert_eq!(out.matches(&format!(" of {n}: done")).count(), n, "{out}");
    }
}

#[test]
fn computes_back_to_back_keep_messages_that_arrive_early() {
    // A rank done with one compute starts the next at once; its values for that run
    // reach ranks still finishing the last one. They were dropped, and the run hung.
    let one = results(&alone("mpi_delayed", &["--repeat"]));
    assert_eq!(one.len(), 1, "{one:?}");
    for n in [2, 3] {
        let many = results(&mpirun(n, "mpi_delayed", &["--repeat"]));
        let expected: BTreeMap<String, usize> = one.keys().map(|line| (line.clone(), n)).collect();
        assert_eq!(many, expected);
    }
}

#[test]
fn an_output_that_cannot_cross_is_computed_on_every_rank() {
    let one = alone("mpi_delayed", &["--plain-output"]);
    assert!(one.contains("result described 16 parts"), "{one}");
    for n in [2, 3] {
        let many = mpirun(n, "mpi_delayed", &["--plain-output"]);
        assert_eq!(
            results(&many),
            BTreeMap::from([("result described 16 parts".to_owned(), n)]),
            "{many}"
        );
        // The plain task ran on every rank; the distributed ones once in all.
        for r in 0..n {
            assert!(many.contains(&format!("rank {r}: described")), "{many}");
        }
        assert_eq!(many.matches(": summarised part").count(), 16, "{many}");
    }
}

#[test]
fn a_rank_that_dies_ends_the_job_instead_of_hanging() {
    let mut child = Command::new("mpirun")
        .args(["-n", "2", "--oversubscribe"])
        .arg(example("mpi_delayed"))
        .arg("--die")
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mpirun runs");
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("mpirun still running 60 s after a rank died");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("output");
    assert!(!status.success(), "the job must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exit"),
        "mpirun says a process exited: {stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("result "),
        "no rank reports a result"
    );
}

#[test]
fn compute_on_root_gives_the_result_to_rank_0_only() {
    for n in [1, 3] {
        let out = if n == 1 {
            alone("mpi_delayed", &["--root-only"])
        } else {
            mpirun(n, "mpi_delayed", &["--root-only"])
        };
        assert_eq!(
            results(&out),
            BTreeMap::from([("result on root: parts 16 count 1600000".to_owned(), 1)]),
            "{out}"
        );
        for r in 1..n {
            assert!(
                out.contains(&format!("rank {r}: the result went to rank 0")),
                "{out}"
            );
        }
        assert_eq!(out.matches(": summarised part").count(), 16, "{out}");
    }
}
