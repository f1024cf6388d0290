//! Pictures of graphs in graphviz's DOT language, drawn like Dask's `visualize()`:
//! functions as ellipses, their outputs as boxes.

use crate::graph::{Layout, NodeRef, key_of};
use crate::{Delayed, Error};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// The direction the graph is laid out in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RankDir {
    /// Inputs at the bottom, outputs at the top (Dask's default).
    #[default]
    BottomToTop,
    /// Inputs at the top.
    TopToBottom,
    /// Inputs on the left.
    LeftToRight,
}

/// How tasks are coloured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Coloring {
    /// No colours.
    #[default]
    None,
    /// By the order the executor lays tasks out in: light first, dark last.
    Order,
    /// The tasks on the longest dependency chain in red.
    CriticalPath,
}

/// Whether identical tasks are drawn as one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collapse {
    /// Every task drawn.
    Never,
    /// The tasks of one function drawn as one node with a count, and one edge between
    /// two such groups: a graph of any size gives a picture as big as its functions.
    Always,
    /// Collapse when the graph has more than this many tasks.
    Above(usize),
}

/// Options for `to_dot_with` and `visualize_with`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DotOptions {
    /// Layout direction.
    pub rankdir: RankDir,
    /// Colouring.
    pub color: Coloring,
    /// Collapsing of big graphs (by default above 500 tasks).
    pub collapse: Collapse,
}

impl Default for DotOptions {
    fn default() -> Self {
        DotOptions {
            rankdir: RankDir::default(),
            color: Coloring::default(),
            collapse: Collapse::Above(500),
        }
    }
}

/// The DOT text of the graph behind `outputs`.
pub(crate) fn to_dot(outputs: &[&NodeRef], options: &DotOptions) -> Result<String, Error> {
    let layout = Layout::new(outputs).map_err(Error::Internal)?;
    let n = layout.len();
    let deps: Vec<Vec<usize>> = (0..n)
        .map(|i| layout.deps(i as u32).iter().map(|&d| d as usize).collect())
        .collect();
    let rankdir = match options.rankdir {
        RankDir::BottomToTop => "BT",
        RankDir::TopToBottom => "TB",
        RankDir::LeftToRight => "LR",
    };
    let collapse = match options.collapse {
        Collapse::Never => false,
        Collapse::Always => true,
        Collapse::Above(limit) => n > limit,
    };
    let mut out = format!(
        "digraph dask {{\n  rankdir={rankdir};\n  node [fontname=\"Helvetica\", fontsize=10];\n"
    );
    if collapse {
        // One function node and one data node per function name.
        let mut groups: BTreeMap<&str, usize> = BTreeMap::new();
        let mut group_of = Vec::with_capacity(n);
        for node in &layout.nodes {
            let next = groups.len();
            group_of.push(*groups.entry(node.name()).or_insert(next));
        }
        let mut counts = vec![0_usize; groups.len()];
        for &g in &group_of {
            counts[g] += 1;
        }
        for (name, &g) in &groups {
            let _ = writeln!(
                out,
                "  f{g} [label=\"{name} x{}\", shape=ellipse];",
                counts[g]
            );
            let _ = writeln!(
                out,
                "  d{g} [label=\"{name} outputs x{}\", shape=box];",
                counts[g]
            );
            let _ = writeln!(out, "  f{g} -> d{g};");
        }
        let mut edges = std::collections::BTreeSet::new();
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                edges.insert((group_of[d], group_of[i]));
            }
        }
        for (from, to) in edges {
            let _ = writeln!(out, "  d{from} -> f{to};");
        }
    } else {
        let colors = colors(&deps, options.color);
        for (i, node) in layout.nodes.iter().enumerate() {
            let key = key_of(layout.node(i));
            let short = &key[..key.len().min(node.name().len() + 9)];
            let fill = colors[i].as_ref().map_or(String::new(), |c| {
                format!(", style=filled, fillcolor=\"{c}\"")
            });
            let _ = writeln!(
                out,
                "  f{i} [label=\"{}\", shape=ellipse{fill}];",
                node.name()
            );
            let _ = writeln!(out, "  d{i} [label=\"{short}\", shape=box];");
            let _ = writeln!(out, "  f{i} -> d{i};");
        }
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                let _ = writeln!(out, "  d{d} -> f{i};");
            }
        }
    }
    out.push_str("}\n");
    Ok(out)
}

/// A fill colour per task, or none.
fn colors(deps: &[Vec<usize>], coloring: Coloring) -> Vec<Option<String>> {
    let n = deps.len();
    match coloring {
        Coloring::None => vec![None; n],
        Coloring::Order => (0..n)
            .map(|i| {
                Some(format!(
                    "0.6 {:.3} 1.0",
                    0.1 + 0.8 * i as f64 / n.max(1) as f64
                ))
            })
            .collect(),
        Coloring::CriticalPath => {
            let mut depth = vec![0_usize; n];
            let mut via = vec![None; n];
            for i in 0..n {
                if let Some(&d) = deps[i].iter().max_by_key(|&&d| depth[d]) {
                    depth[i] = depth[d] + 1;
                    via[i] = Some(d);
                }
            }
            let mut on_path = vec![false; n];
            let mut at = (0..n).max_by_key(|&i| depth[i]);
            while let Some(i) = at {
                on_path[i] = true;
                at = via[i];
            }
            on_path
                .into_iter()
                .map(|p| p.then(|| "#f4a6a6".to_owned()))
                .collect()
        }
    }
}

/// Writes `dot` to `path`: the DOT text for `.dot`/`.gv`, else the picture graphviz's
/// `dot` program renders in the format the extension names (`.svg`, `.png`, `.pdf`).
pub(crate) fn write_picture(dot: &str, path: &Path) -> Result<(), Error> {
    let io = |source: Box<dyn std::error::Error + Send + Sync>| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let format = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("dot")
        .to_ascii_lowercase();
    if matches!(format.as_str(), "dot" | "gv") {
        return std::fs::write(path, dot).map_err(|e| io(Box::new(e)));
    }
    if !RENDERED.contains(&format.as_str()) {
        return Err(io(format!(
            "`.{format}` is not a picture format: write `.dot` (the text) or render one of \
             {}",
            RENDERED.join(", ")
        )
        .into()));
    }
    let mut child = Command::new("dot")
        .arg(format!("-T{format}"))
        .arg("-o")
        .arg(path)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            io(if e.kind() == std::io::ErrorKind::NotFound {
                "graphviz's `dot` program is not installed: install the `graphviz` package \
                 (apt-get install graphviz), or write a `.dot` file"
                    .into()
            } else {
                Box::new(e)
            })
        })?;
    // Write from a thread: dot may exit early (a graph too big for it) and close its
    // end, and then its own message, not our broken pipe, says why.
    let written = child.stdin.take().map(|mut stdin| {
        let text = dot.to_owned();
        std::thread::spawn(move || stdin.write_all(text.as_bytes()))
    });
    let output = child.wait_with_output().map_err(|e| io(Box::new(e)))?;
    let write_error = written.and_then(|w| w.join().ok()).and_then(Result::err);
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    match (output.status.success(), write_error) {
        (true, None) => Ok(()),
        (false, _) if !stderr.is_empty() => Err(io(format!("dot failed: {stderr}").into())),
        (false, _) => Err(io(format!("dot failed ({})", output.status).into())),
        (true, Some(e)) => Err(io(Box::new(e))),
    }
}

/// The formats handed to graphviz's `dot` (lower case; the extension is taken so).
const RENDERED: &[&str] = &[
    "svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "eps", "json",
];

// Pictures are an observer's job: `Delayed`'s picture methods live here, above it.
impl<T: Send + Sync + 'static> Delayed<T> {
    /// The graph behind this value in graphviz's DOT language: functions as ellipses,
    /// their outputs as boxes (Dask's `visualize()` picture).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::delayed_value;
    /// let dot = (delayed_value(1_i64) + 2).to_dot();
    /// assert_eq!(dot.matches("shape=ellipse").count(), 2);
    /// ```
    pub fn to_dot(&self) -> String {
        self.to_dot_with(&DotOptions::default())
    }

    /// [`Delayed::to_dot`] with options: layout direction, colours, collapsing.
    pub fn to_dot_with(&self, options: &DotOptions) -> String {
        to_dot(&[self.node()], options).unwrap_or_else(|e| format!("// {e}\n"))
    }

    /// Writes the picture of the graph to `path`: DOT text for `.dot`, else rendered by
    /// graphviz's `dot` program (`.svg`, `.png`, `.pdf`).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be written or graphviz is not installed (the
    /// message names the package).
    pub fn visualize(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        self.visualize_with(path, &DotOptions::default())
    }

    /// [`Delayed::visualize`] with options.
    ///
    /// # Errors
    ///
    /// As [`Delayed::visualize`].
    pub fn visualize_with(
        &self,
        path: impl AsRef<std::path::Path>,
        options: &DotOptions,
    ) -> Result<(), Error> {
        let dot = to_dot(&[self.node()], options)?;
        write_picture(&dot, path.as_ref())
    }
}

impl<T: crate::array::Element> crate::array::Array<T> {
    /// The task graph that computes the array's blocks, in graphviz's DOT language
    /// (big graphs collapse to one node a layer, see [`DotOptions`]).
    ///
    /// # Errors
    ///
    /// A kept shape error.
    pub fn to_dot(&self) -> Result<String, Error> {
        self.to_dot_with(&DotOptions::default())
    }

    /// [`Array::to_dot`](crate::array::Array::to_dot) with options.
    ///
    /// # Errors
    ///
    /// A kept shape error.
    pub fn to_dot_with(&self, options: &DotOptions) -> Result<String, Error> {
        let nodes = self.block_nodes()?;
        let refs: Vec<&NodeRef> = nodes.iter().collect();
        to_dot(&refs, options)
    }

    /// Writes the picture of the array's task graph to `path` (see
    /// [`Delayed::visualize`]).
    ///
    /// # Errors
    ///
    /// A kept shape error, or as [`Delayed::visualize`].
    pub fn visualize(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        write_picture(&self.to_dot()?, path.as_ref())
    }

    /// [`Array::visualize`](crate::array::Array::visualize) with options.
    ///
    /// # Errors
    ///
    /// As [`Array::visualize`](crate::array::Array::visualize).
    pub fn visualize_with(
        &self,
        path: impl AsRef<std::path::Path>,
        options: &DotOptions,
    ) -> Result<(), Error> {
        write_picture(&self.to_dot_with(options)?, path.as_ref())
    }
}

impl<T: crate::array::Element> crate::array::Scalar<T> {
    /// The task graph that computes the value, in graphviz's DOT language (see
    /// [`Array::to_dot`](crate::array::Array::to_dot)).
    ///
    /// # Errors
    ///
    /// A kept shape error.
    pub fn to_dot(&self) -> Result<String, Error> {
        self.as_array().to_dot()
    }

    /// Writes the picture of the value's task graph to `path` (see
    /// [`Delayed::visualize`]).
    ///
    /// # Errors
    ///
    /// A kept shape error, or as [`Delayed::visualize`].
    pub fn visualize(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        self.as_array().visualize(path)
    }

    /// [`Scalar::visualize`](crate::array::Scalar::visualize) with options.
    ///
    /// # Errors
    ///
    /// As [`Delayed::visualize`].
    pub fn visualize_with(
        &self,
        path: impl AsRef<std::path::Path>,
        options: &DotOptions,
    ) -> Result<(), Error> {
        self.as_array().visualize_with(path, options)
    }
}

// The plans' pictures, beside the others (plans sit below the observers).
macro_rules! plan_visualize {
    ($($plan:ident),*) => {$(
        impl<O, F> crate::plan::$plan<O, F> {
            /// Writes the plan's picture to `path` (see [`Delayed::visualize`]); the DOT
            /// text is [`Plan::to_dot`](crate::Plan::to_dot), built at compile time.
            ///
            /// # Errors
            ///
            /// [`Error::Io`] when the file cannot be written or graphviz is not installed.
            pub fn visualize(&self, path: impl AsRef<Path>) -> Result<(), Error> {
                write_picture(crate::Plan::info(self).dot, path.as_ref())
            }
        }
    )*};
}

plan_visualize!(BlockPlan, FnPlan);
