//! A data pipeline as a user writes one: 20 files, read → parse → per-file statistics →
//! a tree merge → a summary, one file damaged. With `#[delayed]` (each task named after
//! its file), with `graph!`, and by hand with rayon; each run's error names the bad
//! file and line.
//!
//! ```text
//! cargo run --release --example pipeline
//! ```

use dask::prelude::*;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

const FILES: usize = 20;
const LINES: usize = 20_000;

/// A line that is not a number, in a named file.
#[derive(Debug, Clone)]
struct BadLine {
    file: PathBuf,
    line: usize,
    text: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: line {} is not a number: {:?}",
            self.file.display(),
            self.line,
            self.text
        )
    }
}

impl std::error::Error for BadLine {}

/// Count, sum and sum of squares: statistics that merge.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Stats {
    n: u64,
    sum: f64,
    sum_sq: f64,
}

impl Stats {
    fn merge(self, o: Stats) -> Stats {
        Stats {
            n: self.n + o.n,
            sum: self.sum + o.sum,
            sum_sq: self.sum_sq + o.sum_sq,
        }
    }
    fn mean(self) -> f64 {
        self.sum / self.n as f64
    }
    fn std(self) -> f64 {
        (self.sum_sq / self.n as f64 - self.mean().powi(2)).sqrt()
    }
}

#[delayed]
fn read(path: PathBuf) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn parse_text(path: &Path, text: &str) -> Result<Vec<f64>, BadLine> {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            l.trim().parse().map_err(|_| BadLine {
                file: path.to_owned(),
                line: i + 1,
                text: l.to_owned(),
            })
        })
        .collect()
}

#[delayed]
fn parse(path: PathBuf, text: String) -> Result<Vec<f64>, BadLine> {
    parse_text(&path, &text)
}

fn stats_of(values: &[f64]) -> Stats {
    values.iter().fold(Stats::default(), |s, &v| Stats {
        n: s.n + 1,
        sum: s.sum + v,
        sum_sq: s.sum_sq + v * v,
    })
}

#[delayed]
fn stats(values: &[f64]) -> Stats {
    stats_of(values)
}

#[delayed]
fn merge(a: Stats, b: Stats) -> Stats {
    a.merge(b)
}

#[delayed]
fn summary(s: Stats) -> String {
    format!("{} values, mean {:.6}, std {:.6}", s.n, s.mean(), s.std())
}

/// A file's text with its path, for a `graph!` stage whose next stage needs both.
#[delayed]
fn read_file(path: PathBuf) -> std::io::Result<(PathBuf, String)> {
    let text = std::fs::read_to_string(&path)?;
    Ok((path, text))
}

#[delayed]
fn merge_all(parts: Vec<Stats>) -> Stats {
    parts.into_iter().fold(Stats::default(), Stats::merge)
}

/// The dynamic graph: every step a task named after its file, a tree of merges.
fn dynamic(paths: &[PathBuf]) -> Delayed<String> {
    let mut level: Vec<Delayed<Stats>> = paths
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let text = read(p.clone()).named(format!("read {name}"));
            let values = parse(p.clone(), text).named(format!("parse {name}"));
            stats(values).named(format!("stats {name}"))
        })
        .collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => merge(a, b),
                [a] => a.clone(),
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    summary(level.pop().expect("at least one file"))
}

/// By hand: rayon over the files.
fn by_hand(paths: &[PathBuf]) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let total = paths
        .par_iter()
        .map(
            |p| -> Result<Stats, Box<dyn std::error::Error + Send + Sync>> {
                let text = std::fs::read_to_string(p)?;
                Ok(stats_of(&parse_text(p, &text)?))
            },
        )
        .try_reduce(Stats::default, |a, b| Ok(a.merge(b)))?;
    Ok(format!(
        "{} values, mean {:.6}, std {:.6}",
        total.n,
        total.mean(),
        total.std()
    ))
}

/// Writes the files; file 7 has a bad line 779 when `damaged`.
fn write_files(dir: &Path, damaged: bool) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    (0..FILES)
        .map(|f| {
            let path = dir.join(format!("part-{f:02}.csv"));
            let mut text = String::with_capacity(LINES * 12);
            for i in 0..LINES {
                if damaged && f == 7 && i == 778 {
                    text.push_str("12.5.1\n");
                } else {
                    text.push_str(&format!(
                        "{:.4}\n",
                        ((f * LINES + i) as f64 * 0.37).sin() * 100.0
                    ));
                }
            }
            std::fs::write(&path, text)?;
            Ok(path)
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dir = std::env::temp_dir().join(format!("dask-pipeline-{}", std::process::id()));
    // Three stages, each item going on as soon as its own file is through the last
    // (no barrier between the stages: each reads only the one before).
    let plan = graph!(|paths: Vec<PathBuf>| {
        let texts = for p in paths {
            read_file(p)
        };
        let values = for (path, text) in texts {
            parse(path, text)
        };
        let parts = for v in values {
            stats(&v)
        };
        let total = merge_all(parts);
        summary(total)
    });

    println!("with a damaged file:");
    let paths = write_files(&dir, true)?;
    let err = dynamic(&paths).compute().expect_err("part-07 is damaged");
    println!("  #[delayed]: {err:#}");
    let bad = err.downcast_ref::<BadLine>().expect("the user's own error");
    assert!(
        bad.file.ends_with("part-07.csv") && bad.line == 779,
        "{bad}"
    );
    assert_eq!(err.task_key(), Some("parse part-07.csv"));
    let err = plan.compute(paths.clone()).expect_err("part-07 is damaged");
    println!("  graph!:     {err:#}");
    assert!(
        format!("{err:#}").contains("part-07.csv: line 779"),
        "{err:#}"
    );
    assert_eq!(err.task_key(), Some("values[7]"));
    let err = by_hand(&paths).expect_err("part-07 is damaged");
    println!("  rayon:      {err}");

    println!("repaired:");
    let paths = write_files(&dir, false)?;
    let started = Instant::now();
    let delayed = dynamic(&paths).compute()?;
    println!(
        "  #[delayed]: {delayed} in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let planned = plan.compute(paths.clone())?;
    println!(
        "  graph!:     {planned} in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let hand = by_hand(&paths)?;
    println!(
        "  rayon:      {hand} in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(delayed, hand);
    assert_eq!(planned, hand);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
