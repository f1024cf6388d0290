//! Per-task cost of building and computing trivial graphs (criterion).
//! `cargo bench --bench overhead`; `examples/overhead.rs` prints the same as JSON lines
//! at larger sizes.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dask::Scheduler;
use std::hint::black_box;

#[path = "shapes.rs"]
mod shapes;
use shapes::Shape;

fn overhead(c: &mut Criterion) {
    let n = 10_000;
    for shape in Shape::ALL {
        let mut group = c.benchmark_group(format!("{}_{n}", shape.name()));
        let (_, tasks) = shape.build(n);
        group.throughput(Throughput::Elements(tasks as u64));
        group.bench_function("build", |b| b.iter(|| black_box(shape.build(n))));
        for (label, scheduler) in [
            ("sync", Scheduler::Sync),
            ("threads1", Scheduler::Threads(1)),
            ("threads2", Scheduler::Threads(2)),
        ] {
            let (graph, _) = shape.build(n);
            group.bench_with_input(BenchmarkId::new("compute", label), &scheduler, |b, s| {
                b.iter(|| {
                    let v = graph.compute_with(s.clone()).unwrap();
                    assert_eq!(v, shape.expected(n));
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = overhead
}
criterion_main!(benches);
