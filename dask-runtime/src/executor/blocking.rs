//! The executor for many more workers than cores: tasks that block (sleep, I/O, a
//! subprocess). rayon's workers spin while they look for work, which on a few cores
//! starves a thousand of them; here the calling thread and plain threads started for
//! the run (only as many as there are ready tasks, at most `n` in all) wait on a
//! condition variable, so a thousand sleeping tasks start within milliseconds of each
//! other and nothing is left running after the run.

use super::state::RunState;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::Scope;

/// How many workers one worker starts at a time.
const SPAWN_FANOUT: usize = 4;

/// The ready tasks and who works on them.
struct Queue {
    ready: Vec<u32>,
    /// Workers started so far.
    started: usize,
    /// Workers started that have not yet looked for a task.
    starting: usize,
    /// Workers waiting for a ready task.
    idle: usize,
    /// Tasks running now.
    running: usize,
    /// The run is over: every task done, or the run stopped.
    over: bool,
}

impl Queue {
    /// Ready tasks that no idle or starting worker will take.
    fn unclaimed(&self) -> usize {
        self.ready.len().saturating_sub(self.idle + self.starting)
    }
}

struct Shared<'s> {
    state: &'s RunState<'s>,
    queue: Mutex<Queue>,
    wake: Condvar,
    workers: usize,
}

impl Shared<'_> {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs the graph on up to `workers` threads started for this run.
pub(super) fn run(state: &RunState<'_>, workers: usize) {
    let mut ready = state.initially_ready();
    ready.reverse(); // popped from the end: the first in layout order first
    let shared = Shared {
        state,
        queue: Mutex::new(Queue {
            ready,
            // The calling thread is the first worker.
            started: 1,
            starting: 1,
            idle: 0,
            running: 0,
            over: false,
        }),
        wake: Condvar::new(),
        workers,
    };
    std::thread::scope(|scope| work(&shared, scope));
}

/// Starts workers for the ready tasks that no idle worker will take, up to the limit.
fn grow<'s, 'e>(shared: &'s Shared<'e>, mut queue: MutexGuard<'_, Queue>, scope: &'s Scope<'s, 'e>)
where
    'e: 's,
{
    if queue.over {
        return;
    }
    let wanted = queue.unclaimed();
    let room = shared.workers.saturating_sub(queue.started);
    // A few at a time: each new worker starts more as it comes up, so a thousand
    // threads start as a tree, on every core, not one by one from here.
    let new = wanted.min(room).min(SPAWN_FANOUT);
    queue.starting += new;
    queue.started += new;
    drop(queue);
    for _ in 0..new {
        let started = std::thread::Builder::new()
            .name(format!("dask-blocking-{}", shared.workers))
            .spawn_scoped(scope, move || work(shared, scope));
        if started.is_err() {
            // Out of threads: the tasks are left to the workers already running (the
            // caller is one, or one is about to be).
            let mut queue = shared.lock();
            queue.started -= 1;
            queue.starting -= 1;
        }
    }
}

fn work<'s, 'e>(shared: &'s Shared<'e>, scope: &'s Scope<'s, 'e>)
where
    'e: 's,
{
    {
        let mut queue = shared.lock();
        queue.starting -= 1;
        grow(shared, queue, scope);
    }
    let mut newly_ready = Vec::new();
    loop {
        let task = {
            let mut queue = shared.lock();
            loop {
                if queue.over {
                    return;
                }
                if let Some(task) = queue.ready.pop() {
                    queue.running += 1;
                    break task;
                }
                if queue.running == 0 {
                    // Nothing ready, nothing running: nothing will be.
                    queue.over = true;
                    shared.wake.notify_all();
                    return;
                }
                queue.idle += 1;
                queue = shared
                    .wake
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                queue.idle -= 1;
            }
        };
        let ok = shared.state.run(task, |c| newly_ready.push(c));
        let mut queue = shared.lock();
        queue.running -= 1;
        if !ok {
            queue.over = true;
            shared.wake.notify_all();
            return;
        }
        let woken = newly_ready.len().min(queue.idle);
        queue.ready.extend(newly_ready.drain(..).rev());
        for _ in 0..woken {
            shared.wake.notify_one();
        }
        if queue.ready.is_empty() && queue.running == 0 {
            queue.over = true;
            shared.wake.notify_all();
            return;
        }
        grow(shared, queue, scope);
    }
}
