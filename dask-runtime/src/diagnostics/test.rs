use super::*;
use crate::{Delayed, IntoArg, Scheduler, compute_with_callbacks, delayed_value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A diamond: a value read by two tasks that an add joins. 4 tasks, 4 dependency edges.
fn diamond() -> Delayed<i64> {
    let a = delayed_value(1_i64);
    let b = &a + 1;
    let c = &a * 2;
    b + c
}

#[test]
fn dot_has_a_function_and_a_data_node_per_task_and_an_edge_per_dependency() {
    let dot = diamond().to_dot();
    assert!(dot.starts_with("digraph dask {\n  rankdir=BT;"), "{dot}");
    assert_eq!(dot.matches("shape=ellipse").count(), 4);
    assert_eq!(dot.matches("shape=box").count(), 4);
    // Each function points at its output (4), each output at its readers (4).
    assert_eq!(dot.matches(" -> ").count(), 8);
    assert_eq!(dot.matches("label=\"add\"").count(), 2, "a + 1 and b + c");
    assert_eq!(dot.matches("label=\"mul\"").count(), 1);
    assert!(
        dot.contains("label=\"add-"),
        "data nodes carry a short key: {dot}"
    );

    let options = DotOptions {
        rankdir: RankDir::LeftToRight,
        color: Coloring::CriticalPath,
        collapse: Collapse::Never,
    };
    let colored = diamond().to_dot_with(&options);
    assert!(colored.contains("rankdir=LR;"));
    // The longest chain: value -> add or mul -> add, three tasks.
    assert_eq!(colored.matches("fillcolor").count(), 3);
    let by_order = diamond().to_dot_with(&DotOptions {
        color: Coloring::Order,
        ..options
    });
    assert_eq!(by_order.matches("fillcolor").count(), 4);
}

#[test]
fn a_hundred_thousand_tasks_collapse_to_a_node_per_function() {
    let source = delayed_value(0_u64);
    let leaves: Vec<Delayed<u64>> = (0..100_000).map(|_| source.map(|v| v + 1)).collect();
    let total = crate::delayed::node(
        "total",
        (IntoArg::<Vec<u64>>::into_arg(leaves), ()),
        |(xs, ()), inputs| Ok(xs.take(inputs)?.iter().sum::<u64>()),
    );
    let dot = total.to_dot();
    // Functions: value, map, list, total.
    assert_eq!(dot.matches("shape=ellipse").count(), 4, "{dot}");
    assert!(dot.contains("label=\"map x100000\""), "{dot}");
    assert!(dot.lines().count() < 30);
    let full = total.to_dot_with(&DotOptions {
        collapse: Collapse::Never,
        ..DotOptions::default()
    });
    assert_eq!(full.matches("shape=ellipse").count(), 100_003);
}

/// Counts each task's starts and finishes, by key.
#[derive(Default)]
struct Counter {
    starts: Mutex<HashMap<String, usize>>,
    finishes: Mutex<HashMap<String, usize>>,
    runs: Mutex<(usize, usize)>,
}

impl Callback for Counter {
    fn start(&self, _: &RunInfo) {
        self.runs.lock().unwrap().0 += 1;
    }
    fn task_start(&self, t: &TaskEvent) {
        *self
            .starts
            .lock()
            .unwrap()
            .entry(t.key.to_string())
            .or_default() += 1;
    }
    fn task_finish(&self, t: &TaskEvent) {
        assert!(t.duration.is_some());
        *self
            .finishes
            .lock()
            .unwrap()
            .entry(t.key.to_string())
            .or_default() += 1;
    }
    fn finish(&self, _: &RunInfo, _: Option<&crate::Error>) {
        self.runs.lock().unwrap().1 += 1;
    }
}

#[test]
fn callbacks_see_every_task_exactly_once_on_every_scheduler() {
    let parts: Vec<Delayed<i64>> = (0..200).map(|i| delayed_value(i).map(|v| v * 2)).collect();
    let keys: std::collections::HashSet<String> = parts
        .iter()
        .flat_map(|p| [p.key(), p.dependencies()[0].key()])
        .collect();
    for s in [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(3),
    ] {
        let counter = Arc::new(Counter::default());
        let hooks: Vec<Arc<dyn Callback>> = vec![counter.clone()];
        compute_with_callbacks(parts.clone(), s.clone(), &hooks).unwrap();
        let starts = counter.starts.lock().unwrap();
        let finishes = counter.finishes.lock().unwrap();
        assert_eq!(starts.len(), 400, "{s:?}");
        assert!(
            starts.values().chain(finishes.values()).all(|&c| c == 1),
            "{s:?}"
        );
        assert_eq!(
            starts
                .keys()
                .cloned()
                .collect::<std::collections::HashSet<_>>(),
            keys
        );
        assert_eq!(*counter.runs.lock().unwrap(), (1, 1));
    }
}

#[test]
fn a_registered_callback_sees_runs_until_its_guard_drops() {
    // Other tests compute at the same time and are seen too: check by key.
    let counter = Arc::new(Counter::default());
    let (before, after) = (diamond(), diamond());
    {
        let _guard = register(counter.clone());
        before.compute().unwrap();
    }
    after.compute().unwrap();
    let finishes = counter.finishes.lock().unwrap();
    assert!(finishes.contains_key(&before.key()));
    assert!(!finishes.contains_key(&after.key()));
}

#[test]
fn a_panicking_callback_is_an_error_not_an_abort() {
    struct Bad;
    impl Callback for Bad {
        fn task_finish(&self, _: &TaskEvent) {
            panic!("bad hook");
        }
    }
    let hooks: Vec<Arc<dyn Callback>> = vec![Arc::new(Bad)];
    for s in [Scheduler::Sync, Scheduler::Threads(2)] {
        let err = diamond().compute_with_callbacks(s, &hooks).unwrap_err();
        assert!(
            matches!(err, crate::Error::Callback(ref m) if m == "bad hook"),
            "{err:?}"
        );
    }
}

#[test]
fn the_chrome_trace_has_one_complete_event_a_task_and_workers_never_overlap() {
    let profiler = Profiler::new();
    let parts: Vec<Delayed<u64>> = (0..64)
        .map(|i| {
            delayed_value(i).map(|v| {
                std::thread::sleep(std::time::Duration::from_micros(200));
                v
            })
        })
        .collect();
    let hooks: Vec<Arc<dyn Callback>> = vec![Arc::new(profiler.clone())];
    compute_with_callbacks(parts, Scheduler::Threads(2), &hooks).unwrap();
    assert_eq!(profiler.tasks(), 128);
    let trace: serde_json::Value = serde_json::from_str(&profiler.chrome_trace()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let complete: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(complete.len(), 128);
    let keys: std::collections::HashSet<&str> = complete
        .iter()
        .map(|e| e["args"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 128, "one event a task");
    let mut by_worker: HashMap<u64, Vec<(f64, f64)>> = HashMap::new();
    for e in &complete {
        let (ts, dur) = (e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap());
        by_worker
            .entry(e["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, ts + dur));
    }
    assert!(by_worker.len() <= 2);
    for spans in by_worker.values_mut() {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in spans.windows(2) {
            assert!(w[0].1 <= w[1].0 + 1e-3, "overlap on one worker: {w:?}");
        }
    }
    let summary = profiler.summary();
    assert!(summary.contains("128 tasks"), "{summary}");
    assert!(summary.contains("map"), "{summary}");
    assert!(summary.contains("busy per worker"), "{summary}");
    let (length, path) = profiler.critical_path().unwrap();
    assert_eq!(path.len(), 2, "value -> map");
    assert!(length >= std::time::Duration::from_micros(200));
}

#[test]
fn visualize_writes_dot_or_renders_with_graphviz() {
    let dir = std::env::temp_dir();
    let dot_path = dir.join(format!("dask-graph-{}.dot", std::process::id()));
    let graph = diamond();
    graph.visualize(&dot_path).unwrap();
    assert_eq!(std::fs::read_to_string(&dot_path).unwrap(), graph.to_dot());
    std::fs::remove_file(&dot_path).unwrap();

    let svg_path = dir.join(format!("dask-graph-{}.svg", std::process::id()));
    let graphviz = std::process::Command::new("dot").arg("-V").output().is_ok();
    match diamond().visualize(&svg_path) {
        Ok(()) => {
            assert!(graphviz);
            let svg = std::fs::read_to_string(&svg_path).unwrap();
            assert!(svg.contains("<svg"), "{svg}");
            std::fs::remove_file(&svg_path).unwrap();
        }
        Err(e) => {
            assert!(!graphviz, "graphviz is installed but rendering failed: {e}");
            assert!(
                format!("{e:#}").contains("apt-get install graphviz"),
                "{e:#}"
            );
        }
    }
}

#[test]
fn visualize_takes_extensions_case_blind_and_refuses_what_is_not_a_picture() {
    let dir = std::env::temp_dir();
    let upper = dir.join(format!("dask-graph-{}.DOT", std::process::id()));
    let graph = diamond();
    graph.visualize(&upper).unwrap();
    assert_eq!(std::fs::read_to_string(&upper).unwrap(), graph.to_dot());
    std::fs::remove_file(&upper).unwrap();
    // A `.txt` is not blamed on a missing graphviz: it is not a picture format.
    let txt = dir.join(format!("dask-graph-{}.txt", std::process::id()));
    let err = format!("{:#}", diamond().visualize(&txt).unwrap_err());
    assert!(err.contains("`.txt` is not a picture format"), "{err}");
    assert!(!err.contains("graphviz"), "{err}");
    assert!(!txt.exists());
}

#[cfg(feature = "tracing")]
#[test]
fn each_task_is_a_tracing_span() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tracing::span::{Attributes, Id, Record};
    /// Counts the `dask_task` spans opened.
    struct Spans(Arc<AtomicUsize>);
    impl tracing::Subscriber for Spans {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &Attributes<'_>) -> Id {
            if span.metadata().name() == "dask_task" {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, _: &tracing::Event<'_>) {}
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
    let count = Arc::new(AtomicUsize::new(0));
    // The default subscriber is per thread: run the tasks on this one.
    tracing::subscriber::with_default(Spans(count.clone()), || {
        diamond().compute_with(Scheduler::Sync).unwrap();
    });
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[test]
fn overlapping_runs_each_move_their_own_progress_bar() {
    use crate::hooks::{RunInfo, TaskEvent, TaskInfo, TaskKey};
    let run = |n: usize| {
        let tasks: Arc<[TaskInfo]> = (0..n)
            .map(|i| TaskInfo {
                name: "t",
                key: TaskKey::Node("t", i as u64),
            })
            .collect();
        let dep_start: Arc<[u32]> = vec![0_u32; n + 1].into();
        RunInfo::new(tasks, dep_start, Vec::new().into(), 1)
    };
    let bar = ProgressBar::new();
    let (a, b) = (run(3), run(5));
    bar.start(&a);
    bar.start(&b);
    let finish = |r: &RunInfo, i: usize, ok: bool| {
        let mut e = TaskEvent::starting(r, i, TaskKey::Node("t", i as u64), 1);
        e.finished(ok);
        bar.task_finish(&e);
    };
    finish(&a, 0, true);
    finish(&b, 0, true);
    finish(&b, 1, true);
    finish(&b, 2, false); // a failed attempt does not count
    assert_eq!(bar.position(a.id), Some(1));
    assert_eq!(bar.position(b.id), Some(2));
    bar.finish(&a, None);
    assert_eq!(bar.position(a.id), None);
    assert_eq!(bar.position(b.id), Some(2));
}
