//! `DASK_SCHEDULER` picks the default scheduler. It is read once per process, so each
//! case runs this test binary again as a child with the variable set.

use dask::prelude::*;
use std::process::Command;

/// What the child checks, given `DASK_SCHEDULER` and `DASK_TEST_EXPECT`.
fn check_in_child(expect: &str) {
    let caller = std::thread::current().id();
    let seen = dask::delayed_value(()).map(|()| {
        let t = std::thread::current();
        (t.id(), t.name().unwrap_or("").to_owned())
    });
    match (expect, seen.compute()) {
        ("sync", Ok((id, _))) => assert_eq!(id, caller, "sync must run on the caller"),
        ("threads:3", Ok((id, name))) => {
            assert_ne!(id, caller);
            assert!(name.starts_with("dask-3-worker-"), "ran on {name:?}");
        }
        ("error", Err(Error::Scheduler(message))) => {
            assert!(message.contains("\"bogus\""), "{message}");
            assert!(message.contains("threads:N"), "{message}");
        }
        (expect, other) => panic!("expected {expect}, got {other:?}"),
    }
}

#[test]
fn dask_scheduler_picks_the_default() {
    if let Ok(expect) = std::env::var("DASK_TEST_EXPECT") {
        check_in_child(&expect);
        return;
    }
    for (value, expect) in [
        ("sync", "sync"),
        ("threads:3", "threads:3"),
        ("bogus", "error"),
    ] {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "dask_scheduler_picks_the_default",
                "--test-threads=1",
            ])
            .env("DASK_SCHEDULER", value)
            .env("DASK_TEST_EXPECT", expect)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "DASK_SCHEDULER={value}: child failed\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
