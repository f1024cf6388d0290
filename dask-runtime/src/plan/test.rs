//! The plan runtime, driven by hand-written code of the shape `graph!` generates.

use super::*;
use crate::{Scheduler, compute};
use std::sync::OnceLock;

static DIAMOND: PlanInfo = PlanInfo {
    names: &["x", "y", "output"],
    functions: &["inc", "inc", "add"],
    dependencies: &[&[], &[], &[0, 1]],
    inputs: &[],
    outputs: &[2],
    critical_path_len: 2,
    exact: true,
    dot: "digraph plan {}",
};

fn diamond(fail_y: bool) -> BlockPlan<i64, impl Fn(&Runner) -> Result<i64, Stop> + Sync + Send> {
    BlockPlan::new(&DIAMOND, move |r: &Runner| {
        // x and y at once: the arms of one closure, each writing its value to a slot.
        let (x, y) = (OnceLock::new(), OnceLock::new());
        r.join_each(2, &|branch| {
            let (slot, key) = if branch == 0 { (&x, "x") } else { (&y, "y") };
            let mut value = None;
            r.task_dyn(branch, "inc", key, &mut || {
                if branch == 1 && fail_y {
                    return Err("y failed".into());
                }
                value = Some(branch as i64 + 2);
                Ok(())
            })?;
            let _ = slot.set(value);
            Ok(())
        });
        let (Some(Some(x)), Some(Some(y))) = (x.into_inner(), y.into_inner()) else {
            return Err(Stop);
        };
        let mut output = None;
        r.task_dyn(2, "add", "output", &mut || {
            output = Some(x + y);
            Ok(())
        })?;
        output.ok_or(Stop)
    })
}

#[test]
fn a_plan_runs_on_every_scheduler_and_again() {
    let plan = diamond(false);
    for s in [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
    ] {
        assert_eq!(plan.compute_with(s).unwrap(), 5);
    }
    assert_eq!(plan.compute().unwrap(), 5);
    assert_eq!(plan.node_names(), ["x", "y", "output"]);
    assert_eq!(plan.critical_path_len(), 2);
    assert_eq!(plan.to_dot(), "digraph plan {}");
}

#[test]
fn a_failing_task_is_the_error_and_later_tasks_do_not_run() {
    let err = diamond(true)
        .compute_with(Scheduler::Threads(2))
        .unwrap_err();
    assert_eq!(err.task_key(), Some("y"));
    assert_eq!(err.task_name(), Some("inc"));
    assert_eq!(format!("{err:#}"), "task `inc` (y) failed: y failed");
}

#[test]
fn a_panic_in_a_list_item_names_its_index() {
    static INFO: PlanInfo = PlanInfo {
        names: &["ys"],
        functions: &["f"],
        dependencies: &[&[]],
        inputs: &[],
        outputs: &[0],
        critical_path_len: 1,
        exact: true,
        dot: "digraph {}",
    };
    let runner = |parallel| {
        Runner::new(
            &INFO,
            parallel,
            None,
            Stopper::new(&Options::new(), 1),
            Options::new(),
        )
    };
    let r = runner(true);
    let out = r.map(&[0], 0..100, |i, x: i32| {
        r.item(0, i, x, |x| {
            if x == 37 {
                panic!("item {x}");
            }
            Ok(x)
        })
    });
    assert_eq!(out, Err(Stop));
    let err = r.finish(out).unwrap_err();
    assert_eq!(err.task_key(), Some("ys[37]"));
    assert!(matches!(err, Error::TaskPanicked { ref message, .. } if message == "item 37"));
    let r = runner(false);
    let squares = r.map(&[0], vec![1, 2, 3], |i, x: i32| {
        r.item(0, i, x, |x| Ok(x * x))
    });
    assert_eq!(r.finish(squares).unwrap(), [1, 4, 9]);
}

#[test]
fn a_plan_is_a_node_of_a_dynamic_graph() {
    let d = diamond(false).into_delayed().map(|v| v * 10);
    let e = diamond(true).into_delayed();
    for s in [Scheduler::Sync, Scheduler::Threads(2)] {
        assert_eq!(d.compute_with(s.clone()).unwrap(), 50);
        let err = e.compute_with(s).unwrap_err();
        let Error::TaskFailed { name, source, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(*name, "plan");
        assert_eq!(format!("{source:#}"), "task `inc` (y) failed: y failed");
    }
    assert_eq!(compute(vec![d.clone(), d]).unwrap(), [50, 50]);
}
