//! Callbacks, the progress bar, the profiler and pictures, used as a user would.

use dask::diagnostics::{Callback, Profiler, ProgressBar, RunInfo, TaskEvent};
mod common;

use common::{add, inc};
use dask::prelude::*;
use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// Registered callbacks are process-wide: this file's tests take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Counts starts and finishes by key.
#[derive(Default)]
struct Seen(Mutex<HashMap<String, (usize, usize)>>, Mutex<usize>);

impl Callback for Seen {
    fn start(&self, run: &RunInfo) {
        *self.1.lock().unwrap() = run.tasks.len();
    }
    fn task_start(&self, t: &TaskEvent) {
        self.0
            .lock()
            .unwrap()
            .entry(t.key.to_string())
            .or_default()
            .0 += 1;
    }
    fn task_finish(&self, t: &TaskEvent) {
        self.0
            .lock()
            .unwrap()
            .entry(t.key.to_string())
            .or_default()
            .1 += 1;
    }
}

#[test]
fn callbacks_see_every_plan_node_and_stage_item_once_on_every_scheduler() {
    let _serial = serial();
    let plan = graph! {
        let x = inc(1);
        let y = inc(2);
        let xs = for i in 0..10 { inc(i) };
        let z = add(x, y);
        (z, xs)
    };
    for s in [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
    ] {
        let seen = Arc::new(Seen::default());
        let hooks: Vec<Arc<dyn Callback>> = vec![seen.clone()];
        plan.compute_with_callbacks(s.clone(), &hooks).unwrap();
        let map = seen.0.lock().unwrap();
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        // The stage `xs` has an event of its own and one an item.
        let items: Vec<String> = (0..10).map(|i| format!("xs[{i}]")).collect();
        let mut expected: Vec<&str> = vec!["x", "xs", "y", "z"];
        expected.extend(items.iter().map(String::as_str));
        expected.sort_unstable();
        assert_eq!(keys, expected, "{s:?}");
        assert!(map.values().all(|&c| c == (1, 1)), "{s:?}: {map:?}");
        assert_eq!(*seen.1.lock().unwrap(), 4);
    }
}

#[test]
fn array_computes_are_observed_and_pictured() {
    let _serial = serial();
    let x = dask::array::random::default_rng(1).normal(0.0, 1.0, [400, 400], [100, 100]);
    let seen = Arc::new(Seen::default());
    let guard = dask::diagnostics::register(seen.clone());
    let _ = x.mean().compute().unwrap();
    drop(guard);
    let tasks = *seen.1.lock().unwrap();
    assert_eq!(
        tasks,
        16 + 1,
        "16 blocks, one merge of the 4x4 partials (split_every 4 on each axis)"
    );
    assert_eq!(seen.0.lock().unwrap().len(), tasks);

    let big = dask::array::zeros::<f64>([4_000, 4_000], 50); // 6,400 blocks
    let dot = (&big + 1.0).sum_axis(0).to_dot().unwrap();
    // `+ 1.0` is fused into the sums: one function, `sum`. 6,400 block partials; per
    // output column 80 partials merged 4 at a time (20 + 5 + 2 + 1 merges), less the
    // merges fused into their one reader: the lone fifth group of the second level,
    // and the last merge into the final step: 27 tasks a column.
    assert_eq!(dot.matches("shape=ellipse").count(), 1, "{dot}");
    assert!(dot.contains("label=\"sum x8560\""), "{dot}");
}

#[test]
fn a_plan_draws_itself() {
    let _serial = serial();
    let plan = graph! { let x = inc(1); let y = inc(x); y };
    let path = std::env::temp_dir().join(format!("dask-plan-{}.dot", std::process::id()));
    plan.visualize(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), plan.to_dot());
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn the_profiler_sees_the_missions_graph() {
    let _serial = serial();
    let profiler = Profiler::new();
    let hooks: Vec<Arc<dyn Callback>> = vec![Arc::new(profiler.clone())];
    let z = add(inc(1), inc(2));
    z.compute_with_callbacks(Scheduler::Threads(2), &hooks)
        .unwrap();
    assert_eq!(profiler.tasks(), 3);
    let (_, path) = profiler.critical_path().unwrap();
    assert_eq!(path.len(), 2);
    assert!(path[1].starts_with("add-"));
}

#[test]
fn the_progress_bar_is_silent_when_stderr_is_not_a_terminal() {
    if std::env::var("DASK_PROGRESS_CHILD").is_ok() {
        let _bar = ProgressBar::new().register();
        let parts: Vec<Delayed<i64>> = (0..1_000).map(inc).collect();
        assert_eq!(dask::compute(parts).unwrap().len(), 1_000);
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "the_progress_bar_is_silent_when_stderr_is_not_a_terminal",
            "--nocapture",
        ])
        .env("DASK_PROGRESS_CHILD", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("tasks"),
        "a progress bar was drawn to a pipe: {stderr}"
    );
    assert!(!stderr.contains('#'), "{stderr}");
}
