//! Beyond one machine: the same graphs on MPI ranks (the `mpi` feature).
//!
//! Start the program with `mpirun -n 4 target/release/examples/...` (or `srun` under
//! Slurm). Every rank runs the whole program and builds the same graph; a compute runs
//! each task on one rank and moves a value between ranks only along an edge whose ends
//! are on different ranks. The result arrives on every rank, so
//! `let m = x.mean().compute()?` reads the same on a laptop and on a cluster.
//!
//! ```no_run
//! # use dask_runtime as dask;
//! use dask::Scheduler;
//! let world = dask::mpi::init()?; // from here on, computes run on every rank
//! let x = dask::array::random::default_rng(0).normal(0.0, 1.0, [1000, 1000], [250, 250]);
//! let mean = x.mean().compute()?;
//! println!("rank {} of {}: {mean}", world.rank(), world.size());
//! # Ok::<(), dask::Error>(())
//! ```
//!
//! # What runs where
//!
//! Every rank computes the same placement: array blocks by block index (owner
//! computes: the blocks of one index stay on one rank through every elementwise
//! step); other tasks by earliest finish (a chain stays on its rank, independent
//! tasks spread); and a task whose output cannot cross (not `#[delayed(distributed)]`)
//! on the rank of its readers. Within a rank, a pool of threads runs that rank's
//! tasks.
//!
//! # What crosses
//!
//! Values cross as serde's bytes (postcard). A `#[delayed(distributed)]` function's
//! output must implement `Serialize` and `Deserialize` (a compile error at its return
//! type otherwise); array blocks of every element type cross. A value without a codec
//! never has to cross: its task runs beside its readers, and on every rank when the
//! value is an output.
//!
//! # Failure
//!
//! A task that fails on one rank stops every rank: each returns the same
//! [`Error::Distributed`], naming the rank and the task. A rank that dies makes
//! `mpirun` end the job.

use crate::{Computable, Error, Options, Scheduler};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// This process's place among the MPI ranks. MPI is finalized when it is dropped: keep
/// it for as long as the program computes.
pub struct World {
    _universe: ::mpi::environment::Universe,
    rank: usize,
    size: usize,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "World {{ rank: {}, size: {} }}", self.rank, self.size)
    }
}

/// Whether a [`World`] lives, for the default scheduler.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// This process's rank once [`init`] has run.
static RANK: AtomicUsize = AtomicUsize::new(0);

/// This process's rank (0 before [`init`], and in a program not started by `mpirun`):
/// for a task to say where it ran.
pub fn rank() -> usize {
    RANK.load(Ordering::Relaxed)
}

/// Starts MPI (once per process) and makes [`World::scheduler`] the default for every
/// compute that names no scheduler, until the `World` is dropped.
///
/// # Errors
///
/// [`Error::Scheduler`] if MPI was already started, or the MPI library cannot give
/// several threads access (it must support `MPI_THREAD_SERIALIZED`).
pub fn init() -> Result<World, Error> {
    use ::mpi::traits::Communicator;
    let (universe, level) = ::mpi::initialize_with_threading(::mpi::Threading::Serialized)
        .ok_or_else(|| Error::Scheduler("MPI was already initialized in this process".into()))?;
    if !matches!(
        level,
        ::mpi::Threading::Serialized | ::mpi::Threading::Multiple
    ) {
        return Err(Error::Scheduler(format!(
            "the MPI library gives threads {level:?} access; dask needs Serialized"
        )));
    }
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    RANK.store(rank, Ordering::Relaxed);
    ACTIVE.store(true, Ordering::Release);
    Ok(World {
        _universe: universe,
        rank,
        size,
    })
}

impl World {
    /// This process's rank, from 0.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// How many ranks the program runs on.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether this is rank 0 (the one to print a report, say).
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// The scheduler that runs a compute on every rank, one worker a core in each.
    pub fn scheduler(&self) -> Scheduler {
        Scheduler::Mpi {
            threads: crate::options::default_workers(),
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        ACTIVE.store(false, Ordering::Release);
    }
}

/// The MPI scheduler while a [`World`] lives, for a compute started outside a task (a
/// compute inside a task runs in its own process, on its pool).
pub(crate) fn default_scheduler() -> Option<Scheduler> {
    (ACTIVE.load(Ordering::Acquire) && rayon::current_thread_index().is_none()).then(|| {
        Scheduler::Mpi {
            threads: crate::options::default_workers(),
        }
    })
}

/// Computes `values` on every rank, as [`crate::compute`] does, but sends the results to
/// rank 0 only: `Some` there, `None` on every other rank (every rank must call it, as
/// every rank runs the graph). For results only one rank reports or writes: the
/// others are spared receiving them. Dask-mpi's model, where only the client gets
/// results.
///
/// ```no_run
/// # use dask_runtime as dask;
/// let world = dask::mpi::init()?;
/// let x = dask::array::random::default_rng(0).normal(0.0, 1.0, [1000, 1000], [250, 250]);
/// if let Some(big) = dask::mpi::compute_on_root(&x)? {
///     println!("rank 0 has the whole array: {:?}", big.shape());
/// }
/// # Ok::<(), dask::Error>(())
/// ```
///
/// # Errors
///
/// As [`crate::compute`], on every rank alike; [`Error::Scheduler`] without a live
/// [`World`].
pub fn compute_on_root<C: Computable>(values: C) -> Result<Option<C::Output>, Error> {
    if !ACTIVE.load(Ordering::Acquire) {
        return Err(Error::Scheduler(
            "compute_on_root needs MPI: call dask::mpi::init() first".into(),
        ));
    }
    let options = Options::new();
    crate::delayed::compute_by(values, |refs| {
        let threads = crate::options::default_workers();
        let values = crate::executor::mpi::execute(refs, &options, threads, true)?;
        Ok((rank() == 0).then_some(values))
    })
}
