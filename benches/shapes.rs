//! Graph shapes for the overhead benchmarks, shared by `benches/overhead.rs` (criterion)
//! and `examples/overhead.rs` (JSON lines): trivial tasks, so what is measured is the
//! cost of a task to the library.

use dask::prelude::*;

#[delayed]
pub fn inc(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[delayed]
pub fn add(x: u64, y: u64) -> u64 {
    x.wrapping_add(y)
}

#[delayed]
pub fn total(xs: Vec<u64>) -> u64 {
    xs.iter().fold(0, |a, b| a.wrapping_add(*b))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One source read by `n` tasks, gathered into a sum: n + 3 tasks.
    FanOut,
    /// `n` tasks in a line.
    Chain,
    /// `n` leaves summed pairwise: 2n - 1 tasks.
    Tree,
}

impl Shape {
    pub const ALL: [Shape; 3] = [Shape::FanOut, Shape::Chain, Shape::Tree];

    pub fn name(self) -> &'static str {
        match self {
            Shape::FanOut => "fan_out",
            Shape::Chain => "chain",
            Shape::Tree => "binary_tree",
        }
    }

    /// The graph, and how many tasks it has.
    pub fn build(self, n: usize) -> (Delayed<u64>, usize) {
        match self {
            Shape::FanOut => {
                let source = inc(0);
                let leaves: Vec<Delayed<u64>> = (0..n).map(|_| inc(&source)).collect();
                (total(leaves), n + 3)
            }
            Shape::Chain => {
                let mut x = inc(0);
                for _ in 1..n {
                    x = inc(x);
                }
                (x, n)
            }
            Shape::Tree => {
                let mut level: Vec<Delayed<u64>> = (0..n as u64).map(inc).collect();
                while level.len() > 1 {
                    level = level
                        .chunks(2)
                        .map(|pair| match pair {
                            [a, b] => add(a, b),
                            [a] => a.clone(),
                            _ => unreachable!("chunks(2) yields one or two"),
                        })
                        .collect();
                }
                (level.pop().expect("n >= 1"), 2 * n - 1)
            }
        }
    }

    /// The same computation as plain serial code: the value the graph must give.
    pub fn expected(self, n: usize) -> u64 {
        match self {
            Shape::FanOut => n as u64 * 2,
            Shape::Chain => n as u64,
            Shape::Tree => (1..=n as u64).sum(),
        }
    }
}
