//! `graph!` plans used as a user would: through `dask::prelude` (and `delayed_value`).

mod common;

use common::{add, explode, inc, mean, total};
use dask::delayed_value;
use dask::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

#[delayed]
fn parse(s: String) -> Result<i64, std::num::ParseIntError> {
    s.trim().parse()
}

#[delayed]
fn whoami(_tag: i64) -> ThreadId {
    std::thread::current().id()
}

mod tasks {
    use dask::prelude::*;

    #[delayed]
    pub fn double(x: i64) -> i64 {
        x * 2
    }

    #[delayed]
    pub fn ident<T: Clone + Send + Sync + 'static>(x: T) -> T {
        x
    }
}

fn schedulers() -> [Scheduler; 4] {
    [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
        Scheduler::Threads(5),
    ]
}

#[test]
fn the_missions_first_graph_as_a_plan() {
    let plan = graph! {
        let x = inc(1);
        let y = inc(2);
        add(x, y)
    };
    for s in schedulers() {
        assert_eq!(plan.compute_with(s).unwrap(), 5);
    }
    assert_eq!(plan.compute().unwrap(), 5);
    assert_eq!(plan.node_names(), ["x", "y", "output"]);
    assert_eq!(plan.dependencies(), [&[][..], &[], &[0, 1]]);
    assert_eq!(plan.critical_path_len(), 2);
    assert!(plan.info().exact);
    assert_eq!(plan.info().functions, ["inc", "inc", "add"]);
}

#[test]
fn a_diamond_shares_its_top_without_recomputing_it() {
    let calls = Arc::new(AtomicUsize::new(0));
    #[delayed]
    fn counted(calls: Arc<AtomicUsize>, x: i64) -> i64 {
        calls.fetch_add(1, Ordering::SeqCst);
        x
    }
    let c = Arc::clone(&calls);
    let plan = graph! {
        let top = counted(c, 10);
        let left = inc(top);
        let right = tasks::double(top);
        add(left, right)
    };
    for s in schedulers() {
        assert_eq!(plan.compute_with(s).unwrap(), 31);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 4, "once a run");
}

#[test]
fn fan_out_and_fan_in() {
    let plan = graph! {
        let a = inc(0);
        let b1 = inc(a);
        let b2 = inc(a);
        let b3 = inc(a);
        let b4 = inc(a);
        let c = add(b1, b2);
        let d = add(b3, b4);
        add(c, d)
    };
    for s in schedulers() {
        assert_eq!(plan.compute_with(s).unwrap(), 8);
    }
    assert!(plan.info().exact);
    assert_eq!(plan.critical_path_len(), 4);
}

#[test]
fn shadowing_expressions_and_multiple_outputs() {
    let offset = 100_i64;
    let label = String::from("sum");
    let plan = graph! {
        let x = inc(1);
        let x = add(x, x);
        let y = x * 10 + offset;
        let text = format!("{label}={y}");
        let pair = (x, y);
        (x, y, text, pair)
    };
    for s in schedulers() {
        assert_eq!(
            plan.compute_with(s).unwrap(),
            (4, 140, "sum=140".to_owned(), (4, 140))
        );
    }
    assert_eq!(plan.node_names(), ["x", "x#2", "y", "text", "pair"]);
}

#[test]
fn captured_values_are_cloned_each_run() {
    let base = vec![1_i64, 2, 3];
    let plan = graph! {
        let t = total(base);
        let n = base.len() as i64;
        add(t, n)
    };
    assert_eq!(plan.compute().unwrap(), 9);
    assert_eq!(plan.compute().unwrap(), 9);
}

#[test]
fn a_captured_delayed_is_a_dynamic_input_computed_once_a_run() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    // A lazy value built by the dynamic API, read by four task calls of the plan (by
    // value, by `&`, in a `for` body and nested there): computed once a run.
    let base = delayed_value(10_i64).map(move |v| {
        counter.fetch_add(1, Ordering::SeqCst);
        v + 1
    });
    let plan = graph!(|xs: Vec<i64>| {
        let a = inc(base);
        let label = describe(&base);
        let ys = for x in xs {
            add(x, inc(base))
        };
        (a, label, ys)
    });
    for (i, sched) in schedulers().into_iter().enumerate() {
        assert_eq!(
            plan.compute_with(vec![1, 2], sched).unwrap(),
            (12, "11".to_owned(), vec![13, 14])
        );
        assert_eq!(runs.load(Ordering::SeqCst), i + 1, "once a run");
    }
    // Four runs of the one plan at once, each with its own input: each computes the
    // captured value once and gets its own answer.
    let before = runs.load(Ordering::SeqCst);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4_i64)
            .map(|k| {
                let plan = &plan;
                scope.spawn(move || plan.compute_with(vec![k; 50], dask::Scheduler::Threads(2)))
            })
            .collect();
        for (k, h) in handles.into_iter().enumerate() {
            let (a, _, ys) = h.join().unwrap().unwrap();
            assert_eq!((a, ys), (12, vec![k as i64 + 12; 50]));
        }
    });
    assert_eq!(
        runs.load(Ordering::SeqCst),
        before + 4,
        "once a run, at once"
    );
    // The plan as a node of a dynamic graph: the captured value is computed there too.
    let node = plan.into_delayed(vec![5]);
    assert_eq!(node.compute().unwrap(), (12, "11".to_owned(), vec![17]));

    // Its failure is the plan's, named by the captured graph's task.
    let broken = inc(delayed_value(2)).map(|v: i64| -> i64 { panic!("no value {v}") });
    let plan = graph! {
        let y = add(broken, 1);
        y
    };
    let err = plan.compute().unwrap_err();
    assert!(err.to_string().contains("no value 3"), "{err}");
    assert_eq!(err.task_name(), Some("map"));
}

#[test]
fn plans_with_inputs_run_again_with_new_inputs() {
    let plan = graph!(|a: i64, data: &[f64]| {
        let x = inc(a);
        let m = mean(&data);
        let scaled = m * x as f64;
        (x, scaled)
    });
    let data = [1.0, 2.0, 3.0];
    for (a, want) in [(1, (2, 4.0)), (9, (10, 20.0))] {
        for s in schedulers() {
            assert_eq!(plan.compute_with((a, &data[..]), s).unwrap(), want);
        }
    }
    assert_eq!(plan.info().inputs, ["a", "data"]);

    let one = graph!(|n: i64| {
        let y = tasks::double(n);
        y
    });
    assert_eq!(one.compute(21).unwrap(), 42);
    assert_eq!(one.compute(5).unwrap(), 10);
}

#[test]
fn lists_inside_a_plan() {
    let plan = graph!(|xs: Vec<i64>| {
        let ys = for x in xs {
            inc(x)
        };
        let squares = for y in &ys {
            y * y
        };
        let a = total(ys);
        let b = total(squares);
        (a, b)
    });
    for s in schedulers() {
        assert_eq!(plan.compute_with((1..=4).collect(), s).unwrap(), (14, 54));
    }
    assert_eq!(plan.info().functions, ["inc", "for", "total", "total"]);
}

/// The item's number, after `ms` milliseconds, noting when it finished.
#[delayed]
fn arrive(i: usize, ms: u64, log: Arc<Mutex<Vec<String>>>) -> usize {
    std::thread::sleep(std::time::Duration::from_millis(ms));
    log.lock().unwrap().push(format!("read {i}"));
    i
}

#[delayed]
fn note(i: usize, log: Arc<Mutex<Vec<String>>>) -> Result<usize, String> {
    if i == 7 {
        return Err(format!("item {i} is corrupt"));
    }
    log.lock().unwrap().push(format!("parsed {i}"));
    Ok(i * 10)
}

#[test]
fn a_stage_over_a_stage_has_no_barrier() {
    // Items arrive staggered (the last after 300 ms): each is parsed as soon as it is
    // read, before the last one arrives, on every scheduler.
    let plan = graph!(|n: usize, step: u64, log: Arc<Mutex<Vec<String>>>| {
        let read = for i in 0..n {
            arrive(i, step * i as u64, log)
        };
        let parsed = for r in read {
            note(r, log)
        };
        let sum = for p in parsed {
            { p + 1 }
        };
        sum
    });
    assert_eq!(plan.node_names(), ["read", "parsed", "sum"]);
    for sched in schedulers() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let out = plan
            .compute_with((4, 50, Arc::clone(&log)), sched.clone())
            .unwrap();
        assert_eq!(out, [1, 11, 21, 31]);
        let log = log.lock().unwrap();
        let at = |line: &str| log.iter().position(|l| l == line).unwrap();
        assert!(at("parsed 0") < at("read 3"), "{sched:?}: {log:?}");
        assert_eq!(log.len(), 8);
    }
    // A failing item is named by its stage and index; the items after it stop.
    let err = plan
        .compute_with((9, 1, Arc::new(Mutex::new(Vec::new()))), Scheduler::Sync)
        .unwrap_err();
    assert_eq!(err.task_key(), Some("parsed[7]"));
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert_eq!(source.as_deref(), Some("item 7 is corrupt"));

    // A list read by another node too stays whole (a barrier), and is still right.
    let shared = graph!(|n: usize| {
        let xs = for i in 0..n {
            { i * 2 }
        };
        let ys = for x in xs {
            { x + 1 }
        };
        let m = { xs.len() };
        (ys, m)
    });
    assert_eq!(shared.compute(3).unwrap(), (vec![1, 3, 5], 3));

    // Stage 1's pattern does not hide a captured name from stage 2's body.
    let r = 100_usize;
    let scoped = graph!(|n: usize| {
        let xs = for r in 0..n {
            { r }
        };
        let ys = for x in xs {
            { x + r }
        };
        ys
    });
    assert_eq!(scoped.compute(2).unwrap(), [100, 101]);
}

#[test]
fn the_profiler_and_progress_see_each_item_of_a_stage() {
    use dask::diagnostics::Profiler;
    let plan = graph!(|n: i64| {
        let ys = for i in 0..n {
            inc(i)
        };
        let zs = for y in ys {
            tasks::double(y)
        };
        total(zs)
    });
    let profiler = Profiler::new();
    let options = Options::from(Scheduler::Threads(2)).callbacks(&[Arc::new(profiler.clone())]);
    assert_eq!(
        plan.compute_with(5, options).unwrap(),
        2 * (1 + 2 + 3 + 4 + 5)
    );
    // Five items of each stage and the total.
    assert_eq!(profiler.tasks(), 11);
    let trace = profiler.chrome_trace();
    for key in ["ys[0]", "ys[4]", "zs[0]", "zs[4]", "output"] {
        assert!(trace.contains(&format!("\"{key}\"")), "{key} in {trace}");
    }
    let summary = profiler.summary();
    assert!(summary.contains("double"), "{summary}");
    // The critical path goes through the stages as nodes.
    let (_, path) = profiler.critical_path().unwrap();
    assert_eq!(path, ["ys", "zs", "output"]);
}

#[test]
fn list_items_run_on_several_workers() {
    let plan = graph!(|n: i64| {
        let ids = for i in 0..n {
            whoami(i)
        };
        ids
    });
    // Each task sleeps a little so that both workers pick some up.
    #[delayed]
    fn slow_whoami(_tag: i64) -> ThreadId {
        std::thread::sleep(std::time::Duration::from_millis(5));
        std::thread::current().id()
    }
    let slow = graph!(|n: i64| {
        let ids = for i in 0..n {
            slow_whoami(i)
        };
        ids
    });
    let ids = slow.compute_with(40, Scheduler::Threads(4)).unwrap();
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert!(distinct.len() > 1, "all 40 items ran on one thread");
    let sync_ids = plan.compute_with(10, Scheduler::Sync).unwrap();
    assert!(sync_ids.iter().all(|id| *id == std::thread::current().id()));
}

#[test]
fn nested_task_calls_are_one_node_each() {
    // As in Dask's delayed: `add(inc(x), inc(inc(y)))` is four tasks.
    let plan = graph!(|x: i64, y: i64| {
        let s = add(inc(x), inc(inc(y)));
        let label = describe(&total(vec![s, 1]));
        (s, label, add(inc(s), tasks::double(s)))
    });
    for sched in schedulers() {
        assert_eq!(
            plan.compute_with((1, 10), sched).unwrap(),
            (14, "15".to_owned(), 15 + 28)
        );
    }
    assert_eq!(
        plan.node_names(),
        [
            "s_inc",
            "s_inc_2",
            "s_inc_3",
            "s",
            "label_total",
            "label",
            "output2_inc",
            "output2_double",
            "output.2"
        ]
    );
    assert_eq!(
        plan.info().functions,
        [
            "inc", "inc", "inc", "add", "total", "describe", "inc", "double", "add"
        ]
    );
    // Inside any expression too: `inc(a) + 1` is the task and then the sum.
    let operands = graph!(|a: i64| {
        let z = inc(a) * 10 + 1;
        let w = [tasks::double(z), 0][0].max(inc(z));
        (z, w, -inc(w))
    });
    assert_eq!(operands.compute(1).unwrap(), (21, 42, -43));
    assert_eq!(
        operands.node_names(),
        [
            "z_inc",
            "z",
            "w_double",
            "w_inc",
            "w",
            "output2_inc",
            "output.2"
        ]
    );
    // In a `for` body the nested call runs inside the item's task.
    let list = graph!(|xs: Vec<i64>| {
        let ys = for x in xs {
            add(inc(x), tasks::double(inc(x)))
        };
        ys
    });
    assert_eq!(list.compute(vec![1, 2]).unwrap(), [6, 9]);
    let err = list.compute(vec![1, i64::MAX]).unwrap_err();
    assert_eq!(err.task_key(), Some("ys[1]"));
    // A nested task that fails is named by its own key.
    let failing = graph!(|x: i64| { add(explode(x), 1) });
    let err = failing.compute(5).unwrap_err();
    assert_eq!(
        (err.task_name(), err.task_key()),
        (Some("explode"), Some("output_explode"))
    );
    assert_eq!(failing.compute(2).unwrap(), 3);
}

#[delayed]
fn describe(n: &i64) -> String {
    n.to_string()
}

#[test]
fn a_plan_with_inputs_becomes_a_delayed_of_values_or_lazy_values() {
    let plan = || {
        graph!(|a: i64, b: i64| {
            let x = inc(a);
            add(x, b)
        })
    };
    assert_eq!(plan().into_delayed((1, 10)).compute().unwrap(), 12);
    // Lazy inputs: the plan's node waits for them, then runs inside the dynamic compute.
    let lazy = plan().into_delayed((inc(1), delayed_value(10)));
    let doubled = tasks::double(&lazy);
    for s in schedulers() {
        assert_eq!(doubled.compute_with(s).unwrap(), 26);
    }
    let pair = delayed_value((5_i64, 5_i64));
    assert_eq!(plan().into_delayed(pair).compute().unwrap(), 11);
    // One parameter: the value or a Delayed of it.
    let one = graph!(|n: i64| { inc(n) });
    assert_eq!(one.into_delayed(inc(1)).compute().unwrap(), 3);
    // A failure in an input is the compute's error, named by its task.
    let failing = plan().into_delayed((explode(7), delayed_value(1)));
    assert_eq!(failing.compute().unwrap_err().task_name(), Some("explode"));
    // A failure inside the plan names the plan's node.
    let inner = graph!(|n: i64| { explode(n) }).into_delayed(9);
    let err = inner.compute().unwrap_err();
    assert!(format!("{err:#}").contains("x = 9 is too big"), "{err:#}");
}

#[test]
fn errors_and_panics_name_the_binding() {
    let plan = graph!(|text: String| {
        let n = parse(text);
        let m = inc(n);
        m
    });
    assert_eq!(plan.compute("41".to_owned()).unwrap(), 42);
    let err = plan.compute("forty".to_owned()).unwrap_err();
    assert_eq!(err.task_key(), Some("n"));
    assert_eq!(err.task_name(), Some("parse"));
    assert!(matches!(&err, Error::TaskFailed { source, .. }
        if source.downcast_ref::<std::num::ParseIntError>().is_some()));

    let boom = graph! {
        let a = explode(1);
        let b = explode(3);
        let c = add(a, b);
        c
    };
    for s in schedulers() {
        match boom.compute_with(s).unwrap_err() {
            Error::TaskPanicked {
                name, key, message, ..
            } => {
                assert_eq!((name, key.as_str()), ("explode", "b"));
                assert_eq!(message, "x = 3 is too big");
            }
            other => panic!("expected a panic, got {other:?}"),
        }
    }

    let list = graph!(|xs: Vec<i64>| {
        let ys = for x in xs {
            explode(x)
        };
        ys
    });
    let err = list.compute(vec![0, 1, 2, 3, 1]).unwrap_err();
    assert_eq!(err.task_key(), Some("ys[3]"));

    let question = graph! {
        let n = "12x".parse::<i64>()?;
        n
    };
    let err = question.compute().unwrap_err();
    assert_eq!(err.task_key(), Some("n"));
    assert!(format!("{err:#}").contains("invalid digit"), "{err}");
}

#[test]
fn tasks_after_a_failure_do_not_start() {
    let ran = Arc::new(Mutex::new(Vec::new()));
    #[delayed]
    fn log(ran: Arc<Mutex<Vec<i64>>>, x: i64) -> i64 {
        ran.lock().unwrap().push(x);
        x
    }
    let r = Arc::clone(&ran);
    let plan = graph! {
        let a = explode(5);
        let b = log(r, a);
        b
    };
    assert!(plan.compute_with(Scheduler::Threads(2)).is_err());
    assert!(ran.lock().unwrap().is_empty());
}

#[test]
fn plans_and_dynamic_graphs_compose() {
    let dynamic = add(inc(1), inc(2));
    let plan = graph! {
        let d = dynamic.compute()?;
        let e = tasks::double(d);
        e
    };
    assert_eq!(plan.compute().unwrap(), 10);

    let as_node = plan.into_delayed();
    let bigger = add(as_node.clone(), 1);
    for s in schedulers() {
        assert_eq!(bigger.compute_with(s).unwrap(), 11);
    }
    assert_eq!(as_node.name(), "plan");
}

#[test]
fn generic_tasks_and_paths() {
    let plan = graph! {
        let a = tasks::ident::<i64>(7);
        let s = tasks::ident(String::from("s"));
        (a, s)
    };
    assert_eq!(plan.compute().unwrap(), (7, "s".to_owned()));
}

#[test]
fn the_dot_picture_is_fixed_at_compile_time() {
    let plan = graph!(|a: i64| {
        let x = inc(a);
        let y = inc(x);
        y
    });
    let dot = plan.to_dot();
    assert!(dot.starts_with("digraph plan {"), "{dot}");
    assert!(dot.contains("i0 [label=\"a\", shape=box];"), "{dot}");
    assert!(
        dot.contains("n0 [label=\"x = inc\", shape=ellipse];"),
        "{dot}"
    );
    assert!(dot.contains("i0 -> n0;"), "{dot}");
    assert!(dot.contains("n0 -> n1;"), "{dot}");
    assert_eq!(dot.matches("->").count(), 2);
}

#[test]
fn in_a_graph_that_is_not_series_parallel_no_node_waits_needlessly() {
    use std::sync::atomic::AtomicBool;
    #[delayed]
    fn wait_for(flag: Arc<AtomicBool>) -> i64 {
        // Bounded: returns 0 if `flag` was not set within 10 s.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !flag.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        i64::from(flag.load(Ordering::SeqCst))
    }
    #[delayed]
    fn raise(flag: Arc<AtomicBool>, b: i64) -> i64 {
        flag.store(true, Ordering::SeqCst);
        b
    }
    let flag = Arc::new(AtomicBool::new(false));
    let (f1, f2) = (Arc::clone(&flag), Arc::clone(&flag));
    // The N shape: c reads a and b, d reads only b. `a` waits until `d` has run: with
    // nested joins d would wait for a; with the table, d runs as soon as b is done.
    let plan = graph! {
        let a = wait_for(f1);
        let b = inc(0);
        let c = add(a, b);
        let d = raise(f2, b);
        (c, d)
    };
    assert!(!plan.info().exact);
    assert_eq!(plan.compute_with(Scheduler::Threads(2)).unwrap(), (2, 1));
}

#[test]
fn a_graph_that_is_not_series_parallel_still_computes() {
    // The N shape: c reads a and b, d reads b only.
    let plan = graph! {
        let a = inc(1);
        let b = inc(10);
        let c = add(a, b);
        let d = tasks::double(b);
        (c, d)
    };
    for s in schedulers() {
        assert_eq!(plan.compute_with(s).unwrap(), (13, 22));
    }
    assert!(!plan.info().exact, "d waits for a, which it does not need");

    // Chained stages in a table plan: the N shape again, its edges made of stages that
    // read plan values in their bodies.
    let staged = graph!(|n: i64| {
        let a = inc(n);
        let b = inc(10);
        let xs = for i in 0..n {
            add(i, a)
        };
        let ys = for x in xs {
            add(x, b)
        };
        let d = tasks::double(b);
        (ys, d)
    });
    assert!(!staged.info().exact);
    for s in schedulers() {
        assert_eq!(staged.compute_with(3, s).unwrap(), (vec![15, 16, 17], 22));
    }
}

#[test]
fn a_failure_in_a_table_plan_names_the_node_and_stops_the_rest() {
    let ran = Arc::new(AtomicUsize::new(0));
    #[delayed]
    fn count(ran: Arc<AtomicUsize>, x: i64) -> i64 {
        ran.fetch_add(1, Ordering::SeqCst);
        x
    }
    let r = Arc::clone(&ran);
    // The N shape again (a table plan), with `b` failing.
    let plan = graph! {
        let a = inc(1);
        let b = explode(5);
        let c = add(a, b);
        let d = count(r, b);
        (c, d)
    };
    assert!(!plan.info().exact);
    for s in schedulers() {
        match plan.compute_with(s.clone()).unwrap_err() {
            Error::TaskPanicked { name, key, .. } => {
                assert_eq!((name, key.as_str()), ("explode", "b"))
            }
            other => panic!("{s:?}: {other:?}"),
        }
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0, "d reads b: it never runs");
}

/// Neither `Copy` nor `Clone`: a plan can only move it, and its drops are counted.
struct Token(i64, Arc<AtomicUsize>);

impl Drop for Token {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn values_consumed_inside_forks_are_moved_once_and_dropped_once() {
    // `t` and `u` are inputs each consumed by one branch of the fork, `s` a value made
    // in one branch and consumed in the same branch; none of them can be cloned.
    let plan = graph!(|t: Token, u: Token, n: i64| {
        let x = { t.0 * 10 };
        let s = {
            let k = u;
            Token(k.0 + 1, Arc::clone(&k.1))
        };
        let y = { s.0 * 100 };
        let z = inc(n);
        add(add(x, y), z)
    });
    for s in schedulers() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (t, u) = (Token(1, Arc::clone(&drops)), Token(2, Arc::clone(&drops)));
        assert_eq!(
            plan.compute_with((t, u, 4), s.clone()).unwrap(),
            10 + 300 + 5
        );
        assert_eq!(
            drops.load(Ordering::SeqCst),
            3,
            "t, u and s, each once ({s:?})"
        );
    }
}

#[test]
fn a_wide_fork_with_one_failing_branch_names_it_and_drops_every_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&drops);
    let plan = graph! {
        let a = { Token(1, Arc::clone(&d)) };
        let b = { Token(2, Arc::clone(&d)) };
        let c = { Token(3, Arc::clone(&d)) };
        let e = explode(3);
        let f = { Token(5, Arc::clone(&d)) };
        let g = inc(6);
        let h = { Token(7, Arc::clone(&d)) };
        (a.0 + b.0 + c.0, e, f.0, g, h.0)
    };
    for s in schedulers() {
        drops.store(0, Ordering::SeqCst);
        let err = plan.compute_with(s.clone()).unwrap_err();
        assert_eq!(err.task_key(), Some("e"), "{s:?}");
        assert!(format!("{err:#}").contains("x = 3 is too big"), "{err:#}");
        // Every token a branch made before the run stopped is dropped exactly once;
        // branches that had not started when `e` failed made none.
        let made = drops.load(Ordering::SeqCst);
        assert!(made <= 5, "{made} drops of at most 5 tokens ({s:?})");
        if matches!(s, Scheduler::Sync) {
            // In order: a, b, c ran before `e`, nothing after it.
            assert_eq!(made, 3);
        }
    }
}

#[test]
fn inputs_consumed_by_lists_and_nested_forks_inside_branches() {
    // One branch takes `xs` (read once, so moved in) through two chained `for` stages;
    // the other forks again inside, `p` consuming `t` beside `q` and `r` reading `n`.
    let plan = graph!(|xs: Vec<i64>, t: Token, n: i64| {
        let ys = for x in xs {
            inc(x)
        };
        let zs = for y in ys {
            tasks::double(y)
        };
        let a = total(zs);
        let p = { t.0 * 1000 };
        let q = inc(n);
        let r = inc(q);
        let b = add(p, r);
        add(a, b)
    });
    for s in schedulers() {
        let drops = Arc::new(AtomicUsize::new(0));
        let t = Token(3, Arc::clone(&drops));
        // a = 2 * (2 + 3 + 4) = 18, b = 3000 + 7
        assert_eq!(
            plan.compute_with((vec![1, 2, 3], t, 5), s.clone()).unwrap(),
            18 + 3007,
            "{s:?}"
        );
        assert_eq!(drops.load(Ordering::SeqCst), 1, "{s:?}");
    }
}
