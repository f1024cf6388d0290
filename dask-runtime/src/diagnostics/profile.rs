//! A profiler: every task's key, worker, start and end, written in the Chrome trace
//! event format (opens in Perfetto and chrome://tracing), with a text summary.

use super::{Callback, CallbackGuard, RunId, RunInfo, TaskEvent, register};
use crate::Error;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Records the tasks of every run while registered (Dask's `Profiler`).
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{compute, delayed_value, diagnostics::Profiler};
/// let profiler = Profiler::new();
/// {
///     let _guard = profiler.register();
///     let parts: Vec<_> = (0..4).map(|i| delayed_value(i).map(|v| v * 2)).collect();
///     compute(parts).unwrap();
/// }
/// assert_eq!(profiler.tasks(), 8);
/// let trace: serde_json::Value = serde_json::from_str(&profiler.chrome_trace()).unwrap();
/// assert!(trace["traceEvents"].is_array());
/// assert!(profiler.summary().contains("map"));
/// ```
#[derive(Clone, Debug)]
pub struct Profiler {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Unique for the life of the process (an address can be reused, this cannot).
    id: u64,
    created: Instant,
    runs: Mutex<Vec<Run>>,
}

/// Three slots a task: worker + 1 (0 until it finished), start (ns from the run's
/// start), duration (ns). Each task writes only its own slots, without a lock; the run's
/// end orders every write before any read.
type Slots = Arc<Vec<AtomicU64>>;

#[derive(Debug)]
struct Run {
    info: RunInfo,
    slots: Slots,
}

impl Run {
    /// (task index, worker, start, duration) of each finished task.
    fn spans(&self) -> impl Iterator<Item = (usize, usize, Instant, Duration)> + '_ {
        (0..self.slots.len() / 3).filter_map(|i| {
            let worker = self.slots[3 * i].load(Ordering::Relaxed);
            (worker > 0).then(|| {
                (
                    i,
                    worker as usize - 1,
                    self.info.started
                        + Duration::from_nanos(self.slots[3 * i + 1].load(Ordering::Relaxed)),
                    Duration::from_nanos(self.slots[3 * i + 2].load(Ordering::Relaxed)),
                )
            })
        })
    }
}

thread_local! {
    /// The run this thread last recorded into: (profiler id, run, slots). Runs overlap
    /// (several computes at once), so a task's own run id picks its slots.
    static CACHE: std::cell::RefCell<Option<(u64, RunId, Slots)>> = const { std::cell::RefCell::new(None) };
}

impl Default for Profiler {
    fn default() -> Self {
        Self::new()
    }
}

impl Profiler {
    /// An empty profiler.
    pub fn new() -> Self {
        static NEXT_PROFILER: AtomicU64 = AtomicU64::new(0);
        Profiler {
            inner: Arc::new(Inner {
                id: NEXT_PROFILER.fetch_add(1, Ordering::Relaxed),
                created: Instant::now(),
                runs: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Records every compute until the guard is dropped.
    pub fn register(&self) -> CallbackGuard {
        register(Arc::new(self.clone()))
    }

    fn runs(&self) -> std::sync::MutexGuard<'_, Vec<Run>> {
        self.inner
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The number of tasks recorded.
    pub fn tasks(&self) -> usize {
        self.runs().iter().map(|r| r.spans().count()).sum()
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.runs().clear();
    }

    /// The recorded tasks in the Chrome trace event format: one complete event (`"X"`)
    /// a task, on the row of the worker that ran it.
    pub fn chrome_trace(&self) -> String {
        let micros = |t: Instant| {
            t.saturating_duration_since(self.inner.created)
                .as_secs_f64()
                * 1e6
        };
        let mut events = Vec::new();
        let mut workers = std::collections::BTreeSet::new();
        for run in self.runs().iter() {
            for (index, worker, start, duration) in run.spans() {
                let task = &run.info.tasks[index];
                workers.insert(worker);
                events.push(serde_json::json!({
                    "name": task.name,
                    "cat": "task",
                    "ph": "X",
                    "ts": micros(start),
                    "dur": duration.as_secs_f64() * 1e6,
                    "pid": 0,
                    "tid": worker,
                    "args": { "key": task.key.to_string() },
                }));
            }
        }
        for worker in workers {
            events.push(serde_json::json!({
                "name": "thread_name", "ph": "M", "pid": 0, "tid": worker,
                "args": { "name": format!("worker {worker}") },
            }));
        }
        serde_json::json!({ "traceEvents": events, "displayTimeUnit": "ms" }).to_string()
    }

    /// Writes [`Profiler::chrome_trace`] to `path` (open it in Perfetto).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_chrome_trace(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        let path = path.as_ref();
        std::fs::write(path, self.chrome_trace()).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: Box::new(e),
        })
    }

    /// A text summary of each run: time per function, how busy each worker was, and the
    /// critical path (the chain of dependent tasks that took longest).
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for (r, run) in self.runs().iter().enumerate() {
            let Some(first) = run.spans().map(|s| s.2).min() else {
                continue;
            };
            let last = run.spans().map(|s| s.2 + s.3).max().unwrap_or(first);
            let wall = last.saturating_duration_since(first);
            let _ = writeln!(
                out,
                "run {r}: {} tasks in {:.3} ms on {} workers",
                run.spans().count(),
                wall.as_secs_f64() * 1e3,
                run.info.workers
            );
            let mut per_function: BTreeMap<&str, (usize, Duration)> = BTreeMap::new();
            let mut per_worker: BTreeMap<usize, Duration> = BTreeMap::new();
            let mut durations = vec![Duration::ZERO; run.info.tasks.len()];
            for (index, worker, _, d) in run.spans() {
                let e = per_function.entry(run.info.tasks[index].name).or_default();
                e.0 += 1;
                e.1 += d;
                *per_worker.entry(worker).or_default() += d;
                durations[index] = d;
            }
            let _ = writeln!(out, "  time per function:");
            for (name, (count, total)) in &per_function {
                let _ = writeln!(
                    out,
                    "    {name:<16} {count:>8} tasks {:>12.3} ms total {:>10.3} us mean",
                    total.as_secs_f64() * 1e3,
                    total.as_secs_f64() * 1e6 / *count as f64
                );
            }
            let _ = writeln!(out, "  busy per worker:");
            for (worker, busy) in &per_worker {
                let fraction = busy.as_secs_f64() / wall.as_secs_f64().max(1e-12);
                let _ = writeln!(out, "    worker {worker:<3} {:>6.1}%", fraction * 100.0);
            }
            let (length, path) = critical_path(&run.info, &durations);
            let names: Vec<String> = path
                .iter()
                .map(|&i| run.info.tasks[i].key.to_string())
                .collect();
            let _ = writeln!(
                out,
                "  critical path: {} tasks, {:.3} ms: {}",
                path.len(),
                length.as_secs_f64() * 1e3,
                names.join(" -> ")
            );
        }
        out
    }

    /// The critical path of the last run: its length and its tasks' keys, first first.
    pub fn critical_path(&self) -> Option<(Duration, Vec<String>)> {
        let runs = self.runs();
        let run = runs.last()?;
        let mut durations = vec![Duration::ZERO; run.info.tasks.len()];
        for (index, _, _, d) in run.spans() {
            durations[index] = d;
        }
        let (length, path) = critical_path(&run.info, &durations);
        Some((
            length,
            path.iter()
                .map(|&i| run.info.tasks[i].key.to_string())
                .collect(),
        ))
    }
}

/// The longest chain of dependent tasks by duration (tasks are laid out dependencies
/// first, so one pass suffices).
fn critical_path(info: &RunInfo, durations: &[Duration]) -> (Duration, Vec<usize>) {
    let n = info.tasks.len();
    let mut finish = vec![Duration::ZERO; n];
    let mut via: Vec<Option<usize>> = vec![None; n];
    for i in 0..n {
        let best = info.dependencies(i).max_by_key(|&d| finish[d]);
        finish[i] = durations[i] + best.map_or(Duration::ZERO, |d| finish[d]);
        via[i] = best;
    }
    let Some(end) = (0..n).max_by_key(|&i| finish[i]) else {
        return (Duration::ZERO, Vec::new());
    };
    let mut path = vec![end];
    while let Some(prev) = via[*path.last().unwrap_or(&end)] {
        path.push(prev);
    }
    path.reverse();
    (finish[end], path)
}

impl Callback for Profiler {
    fn start(&self, run: &RunInfo) {
        self.runs().push(Run {
            info: run.clone(),
            // Collected straight into a Vec (no copy into the Arc).
            slots: Arc::new(
                (0..3 * run.tasks.len())
                    .map(|_| AtomicU64::new(0))
                    .collect(),
            ),
        });
    }

    fn task_finish(&self, task: &TaskEvent) {
        let me = self.inner.id;
        let _ = CACHE.try_with(|cache| {
            let mut cache = cache.borrow_mut();
            let fresh = matches!(&*cache, Some((p, r, _)) if *p == me && *r == task.run);
            if !fresh {
                let runs = self.runs();
                let Some(run) = runs.iter().rev().find(|r| r.info.id == task.run) else {
                    return;
                };
                *cache = Some((me, task.run, Arc::clone(&run.slots)));
            }
            let Some((_, _, slots)) = &*cache else { return };
            let i = 3 * task.index;
            if i + 2 < slots.len() {
                slots[i + 1].store(task.start.as_nanos() as u64, Ordering::Relaxed);
                slots[i + 2].store(
                    task.duration.unwrap_or_default().as_nanos() as u64,
                    Ordering::Relaxed,
                );
                slots[i].store(task.worker as u64 + 1, Ordering::Relaxed);
            }
        });
    }
}
