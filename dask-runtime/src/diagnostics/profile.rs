//! A profiler: every task's key, worker, start and end, written in the Chrome trace
//! event format (opens in Perfetto and chrome://tracing), with a text summary.

use super::{Callback, CallbackGuard, RunId, RunInfo, TaskEvent, register};
use crate::Error;
use crate::hooks::TaskKey;
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

/// What one run recorded. Three slots a task: worker + 1 (0 until it finished), start
/// (ns from the run's start), duration (ns); each task writes only its own slots,
/// without a lock, and the run's end orders every write before any read. The items of
/// a plan's `for` stages, whose number is known only while the run goes, are a list.
#[derive(Debug)]
struct Record {
    started: Instant,
    slots: Vec<AtomicU64>,
    items: Mutex<Vec<Span>>,
}

/// A recorded task: its index in the run's tasks, its key (an item's for a plan's
/// `for` stage), its worker, start and duration.
#[derive(Clone, Copy, Debug)]
struct Span {
    index: usize,
    key: TaskKey,
    worker: usize,
    start: Instant,
    duration: Duration,
}

#[derive(Debug)]
struct Run {
    info: RunInfo,
    record: Arc<Record>,
}

impl Run {
    /// Every finished task of the slots, with the stage's own span for stages.
    fn node_spans(&self) -> impl Iterator<Item = Span> + '_ {
        let slots = &self.record.slots;
        (0..slots.len() / 3).filter_map(move |i| {
            let worker = slots[3 * i].load(Ordering::Relaxed);
            (worker > 0).then(|| Span {
                index: i,
                key: self.info.tasks[i].key,
                worker: worker as usize - 1,
                start: self.info.started
                    + Duration::from_nanos(slots[3 * i + 1].load(Ordering::Relaxed)),
                duration: Duration::from_nanos(slots[3 * i + 2].load(Ordering::Relaxed)),
            })
        })
    }

    /// Every finished task, a `for` stage's items in place of the stage.
    fn spans(&self) -> Vec<Span> {
        let items = self
            .record
            .items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let staged: std::collections::BTreeSet<usize> = items.iter().map(|s| s.index).collect();
        let mut spans: Vec<Span> = self
            .node_spans()
            .filter(|s| !staged.contains(&s.index))
            .collect();
        spans.extend(items);
        spans
    }

    /// Each task's duration (a stage's from its first item's start to its last's end).
    fn durations(&self) -> Vec<Duration> {
        let mut durations = vec![Duration::ZERO; self.info.tasks.len()];
        for span in self.node_spans() {
            durations[span.index] = span.duration;
        }
        durations
    }
}

thread_local! {
    /// The run this thread last recorded into: (profiler id, run, slots). Runs overlap
    /// (several computes at once), so a task's own run id picks its slots.
    static CACHE: std::cell::RefCell<Option<(u64, RunId, Arc<Record>)>> = const { std::cell::RefCell::new(None) };
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
        self.runs().iter().map(|r| r.spans().len()).sum()
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
            for span in run.spans() {
                let task = &run.info.tasks[span.index];
                workers.insert(span.worker);
                events.push(serde_json::json!({
                    "name": task.name,
                    "cat": "task",
                    "ph": "X",
                    "ts": micros(span.start),
                    "dur": span.duration.as_secs_f64() * 1e6,
                    "pid": 0,
                    "tid": span.worker,
                    "args": { "key": span.key.to_string() },
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
            let spans = run.spans();
            let Some(first) = spans.iter().map(|s| s.start).min() else {
                continue;
            };
            let last = spans
                .iter()
                .map(|s| s.start + s.duration)
                .max()
                .unwrap_or(first);
            let wall = last.saturating_duration_since(first);
            let _ = writeln!(
                out,
                "run {r}: {} tasks in {:.3} ms on {} workers",
                spans.len(),
                wall.as_secs_f64() * 1e3,
                run.info.workers
            );
            let mut per_function: BTreeMap<&str, (usize, Duration)> = BTreeMap::new();
            let mut per_worker: BTreeMap<usize, Duration> = BTreeMap::new();
            for span in &spans {
                let e = per_function
                    .entry(run.info.tasks[span.index].name)
                    .or_default();
                e.0 += 1;
                e.1 += span.duration;
                *per_worker.entry(span.worker).or_default() += span.duration;
            }
            let durations = run.durations();
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
        let (length, path) = critical_path(&run.info, &run.durations());
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
            record: Arc::new(Record {
                started: run.started,
                slots: (0..3 * run.tasks.len())
                    .map(|_| AtomicU64::new(0))
                    .collect(),
                items: Mutex::new(Vec::new()),
            }),
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
                *cache = Some((me, task.run, Arc::clone(&run.record)));
            }
            let Some((_, _, record)) = &*cache else {
                return;
            };
            if let TaskKey::PlanItem(..) = task.key {
                let span = Span {
                    index: task.index,
                    key: task.key,
                    worker: task.worker,
                    start: record.started + task.start,
                    duration: task.duration.unwrap_or_default(),
                };
                record
                    .items
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(span);
                return;
            }
            let slots = &record.slots;
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
