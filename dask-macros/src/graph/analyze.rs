//! The dependency analysis of a `graph!` block: a pure function from the parsed block to
//! the plan's nodes, their dependencies, how each reads its inputs, and the order of
//! nested joins that runs them.

use super::ast::{Block, Param};
use super::names::{free_names, free_names_in_block, pattern_names};
use std::collections::{BTreeSet, HashMap};
use syn::{Expr, Ident, Pat, Type};

/// Values are the plan's inputs, then its nodes: value `i` is input `i` when
/// `i < inputs`, else node `i - inputs`.
pub(crate) struct Analysis<'a> {
    pub(crate) inputs: Vec<&'a Param>,
    pub(crate) nodes: Vec<Node<'a>>,
    /// The values the plan returns; a tuple when the output was written as one.
    pub(crate) outputs: Vec<usize>,
    pub(crate) output_is_tuple: bool,
    /// Bindings and inputs nothing reads (they still run, as `let`s do in Rust).
    pub(crate) unused: Vec<usize>,
}

pub(crate) struct Node<'a> {
    /// `x`, `x#2` for the second `let x`, `output` or `output.1` for computed outputs.
    pub(crate) key: String,
    /// The `#[delayed]` function, `expr` or `for`.
    pub(crate) function: String,
    /// The user's name, for warnings and `Send` checks; none for computed outputs.
    pub(crate) binding: Option<&'a Ident>,
    pub(crate) ty: Option<&'a Type>,
    pub(crate) kind: Kind<'a>,
    /// Values this node reads, in order of first use.
    pub(crate) deps: Vec<usize>,
    pub(crate) reads: Vec<Read>,
    /// Where to point a `Send` check: the binding, or the output expression.
    pub(crate) span_expr: &'a Expr,
}

pub(crate) enum Kind<'a> {
    /// `f(args)` with `f` a lowercase path: a `#[delayed]` function's task.
    Call(Call<'a>),
    /// `for PAT in ITER { BODY }`: one task an item, results in a `Vec`.
    List {
        pat: &'a Pat,
        iter: &'a Expr,
        body: &'a syn::Block,
        /// The body's call, when the body is exactly one task call.
        call: Option<Call<'a>>,
    },
    /// Anything else, evaluated as written.
    Expr(&'a Expr),
}

pub(crate) struct Call<'a> {
    pub(crate) path: &'a syn::ExprPath,
    pub(crate) args: Vec<&'a Expr>,
}

/// How a node reads a value: moved in (its only reader), borrowed (every use is a
/// `&name` argument of a task call), or cloned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Move,
    Borrow,
    Clone,
}

/// Part of a node that reads values: the node itself, or a list's per-item body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Site {
    Main,
    ListBody,
}

pub(crate) struct Read {
    pub(crate) value: usize,
    /// The name as the user wrote it, for the local the node reads it through.
    pub(crate) ident: Ident,
    pub(crate) mode: Mode,
    pub(crate) site: Site,
}

/// One name use, found in a node.
struct Use {
    ident: Ident,
    value: usize,
    site: Site,
    /// Written `&name` as a whole argument of a task call.
    borrowed_arg: bool,
}

/// A call to a lowercase path: a `#[delayed]` function by the naming convention.
/// Constructors (`Some(x)`), associated functions of types (`Vec::new()`, `f64::max`)
/// and anything else are plain expressions.
pub(crate) fn as_task_call(expr: &Expr) -> Option<Call<'_>> {
    let Expr::Call(call) = expr else { return None };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    if path.qself.is_some() || !call.attrs.is_empty() {
        return None;
    }
    let segments = &path.path.segments;
    let lowercase = segments.iter().all(|s| {
        let name = s.ident.to_string();
        name.starts_with(|c: char| c.is_lowercase() || c == '_')
    });
    const PRIMITIVES: &[&str] = &[
        "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
        "f32", "f64", "bool", "char", "str",
    ];
    let type_segment = segments
        .iter()
        .rev()
        .skip(1)
        .any(|s| PRIMITIVES.contains(&s.ident.to_string().as_str()));
    (lowercase && !type_segment).then(|| Call {
        path,
        args: call.args.iter().collect(),
    })
}

/// `&name` with `name` a plain identifier: its identifier.
fn borrowed_name(expr: &Expr) -> Option<&Ident> {
    let Expr::Reference(r) = expr else {
        return None;
    };
    if r.mutability.is_some() {
        return None;
    }
    match &*r.expr {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        _ => None,
    }
}

pub(crate) fn analyze<'a>(inputs: Vec<&'a Param>, block: &Block<'a>) -> Analysis<'a> {
    let mut visible: HashMap<String, usize> = inputs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.ident.to_string(), i))
        .collect();
    let mut key_counts: HashMap<String, usize> = HashMap::new();
    let mut nodes: Vec<Node<'a>> = Vec::new();
    let mut uses: Vec<Vec<Use>> = Vec::new();

    let mut add_node = |key: String,
                        binding: Option<&'a Ident>,
                        ty: Option<&'a Type>,
                        expr: &'a Expr,
                        visible: &HashMap<String, usize>,
                        nodes: &mut Vec<Node<'a>>| {
        let (kind, function, node_uses) = classify(expr, visible);
        nodes.push(Node {
            key,
            function,
            binding,
            ty,
            kind,
            deps: Vec::new(),
            reads: Vec::new(),
            span_expr: expr,
        });
        uses.push(node_uses);
    };

    for b in &block.bindings {
        let name = b.ident.to_string();
        let count = key_counts.entry(name.clone()).or_insert(0);
        *count += 1;
        let key = if *count == 1 {
            name.clone()
        } else {
            format!("{name}#{count}")
        };
        add_node(key, Some(b.ident), b.ty, b.expr, &visible, &mut nodes);
        visible.insert(name, inputs.len() + nodes.len() - 1);
    }

    // The output: names of values, or expressions that become nodes of their own.
    let mut outputs = Vec::new();
    let mut output_uses: Vec<usize> = Vec::new();
    let (elements, output_is_tuple): (Vec<&'a Expr>, bool) = match block.output {
        Expr::Tuple(t) if !t.elems.is_empty() => (t.elems.iter().collect(), true),
        other => (vec![other], false),
    };
    for (i, element) in elements.iter().enumerate() {
        let named = match element {
            Expr::Path(p) if p.qself.is_none() => p
                .path
                .get_ident()
                .and_then(|id| visible.get(&id.to_string()).copied()),
            _ => None,
        };
        match named {
            Some(value) => {
                outputs.push(value);
                output_uses.push(value);
            }
            None => {
                let key = if output_is_tuple {
                    format!("output.{i}")
                } else {
                    "output".to_owned()
                };
                add_node(key, None, None, element, &visible, &mut nodes);
                outputs.push(inputs.len() + nodes.len() - 1);
            }
        }
    }

    // How often each value is read by nodes (a list body reads once an item: many)
    // and by the output.
    let values = inputs.len() + nodes.len();
    let mut node_reads = vec![0_usize; values];
    let mut output_reads = vec![0_usize; values];
    for node_uses in &uses {
        for u in node_uses {
            node_reads[u.value] += if u.site == Site::ListBody { 2 } else { 1 };
        }
    }
    for &v in &output_uses {
        output_reads[v] += 1;
    }

    for (node, node_uses) in nodes.iter_mut().zip(&uses) {
        for u in node_uses {
            if !node.deps.contains(&u.value) {
                node.deps.push(u.value);
            }
            if node
                .reads
                .iter()
                .any(|r| r.value == u.value && r.site == u.site)
            {
                continue;
            }
            let same: Vec<&Use> = node_uses
                .iter()
                .filter(|o| o.value == u.value && o.site == u.site)
                .collect();
            let mode =
                if u.site == Site::Main && node_reads[u.value] == 1 && output_reads[u.value] == 0 {
                    Mode::Move
                } else if same.iter().all(|o| o.borrowed_arg) {
                    Mode::Borrow
                } else {
                    Mode::Clone
                };
            node.reads.push(Read {
                value: u.value,
                ident: u.ident.clone(),
                mode,
                site: u.site,
            });
        }
    }

    let unused = (0..values)
        .filter(|&v| node_reads[v] == 0 && output_reads[v] == 0)
        .filter(|&v| v < inputs.len() || nodes[v - inputs.len()].binding.is_some())
        .collect();

    Analysis {
        inputs,
        nodes,
        outputs,
        output_is_tuple,
        unused,
    }
}

/// What a binding's expression is, what it runs, and which values it names.
fn classify<'a>(expr: &'a Expr, visible: &HashMap<String, usize>) -> (Kind<'a>, String, Vec<Use>) {
    let mut found = Vec::new();
    let resolve = |ident: &Ident, site: Site, borrowed_arg: bool, found: &mut Vec<Use>| {
        if let Some(&value) = visible.get(&ident.to_string()) {
            found.push(Use {
                ident: ident.clone(),
                value,
                site,
                borrowed_arg,
            });
        }
    };
    let call_uses = |call: &Call<'_>, site: Site, hidden: &[String], found: &mut Vec<Use>| {
        for arg in &call.args {
            match borrowed_name(arg) {
                Some(ident) if !hidden.contains(&ident.to_string()) => {
                    resolve(ident, site, true, found)
                }
                Some(_) => {}
                None => {
                    for ident in free_names(arg) {
                        if !hidden.contains(&ident.to_string()) {
                            resolve(&ident, site, false, found);
                        }
                    }
                }
            }
        }
    };

    if let Some(call) = as_task_call(expr) {
        call_uses(&call, Site::Main, &[], &mut found);
        let function = call
            .path
            .path
            .segments
            .last()
            .map_or_else(String::new, |s| s.ident.to_string());
        return (Kind::Call(call), function, found);
    }
    if let Expr::ForLoop(f) = expr
        && f.label.is_none()
    {
        for ident in free_names(&f.expr) {
            resolve(&ident, Site::Main, false, &mut found);
        }
        let hidden = pattern_names(&f.pat);
        let call = match f.body.stmts.as_slice() {
            [syn::Stmt::Expr(e, None)] => as_task_call(e),
            _ => None,
        };
        match &call {
            Some(call) => call_uses(call, Site::ListBody, &hidden, &mut found),
            None => {
                for ident in free_names_in_block(&f.body, hidden) {
                    resolve(&ident, Site::ListBody, false, &mut found);
                }
            }
        }
        let function = call.as_ref().map_or_else(
            || "for".to_owned(),
            |c| {
                c.path
                    .path
                    .segments
                    .last()
                    .map_or_else(String::new, |s| s.ident.to_string())
            },
        );
        return (
            Kind::List {
                pat: &f.pat,
                iter: &f.expr,
                body: &f.body,
                call,
            },
            function,
            found,
        );
    }
    for ident in free_names(expr) {
        resolve(&ident, Site::Main, false, &mut found);
    }
    (Kind::Expr(expr), "expr".to_owned(), found)
}

impl<'a> Analysis<'a> {
    /// Each node's dependencies on other nodes (node indices), inputs left out.
    pub(crate) fn node_deps(&self) -> Vec<Vec<usize>> {
        let n_inputs = self.inputs.len();
        self.nodes
            .iter()
            .map(|n| {
                n.deps
                    .iter()
                    .filter(|&&v| v >= n_inputs)
                    .map(|&v| v - n_inputs)
                    .collect()
            })
            .collect()
    }

    /// For each node, the `for` stage that takes its list item by item, if any: a
    /// `for` stage whose list is exactly the binding of another `for` stage that nothing
    /// else reads (`let b = for x in a { .. }`). The two run as one pipeline: each item
    /// goes through both tasks, with no barrier between the stages. An annotated list
    /// (`let a: Vec<T> = ..`) stays whole.
    pub(crate) fn next_stage(&self) -> Vec<Option<usize>> {
        let n_inputs = self.inputs.len();
        let mut next = vec![None; self.nodes.len()];
        for (k, node) in self.nodes.iter().enumerate() {
            let Kind::List { iter, .. } = &node.kind else {
                continue;
            };
            let Expr::Path(path) = iter else { continue };
            let Some(ident) = path.path.get_ident() else {
                continue;
            };
            let Some(read) = node
                .reads
                .iter()
                .find(|r| r.site == Site::Main && r.ident == *ident)
            else {
                continue;
            };
            if read.mode != Mode::Move || read.value < n_inputs {
                continue;
            }
            let source = read.value - n_inputs;
            let whole_list = self.nodes[source].ty.is_some();
            if matches!(self.nodes[source].kind, Kind::List { .. }) && !whole_list {
                next[source] = Some(k);
            }
        }
        next
    }

    /// The dependencies the schedule must honour once stages are chained: a stage that
    /// ends a chain runs the whole chain, so it needs what every stage of it reads.
    pub(crate) fn chained_deps(&self, next: &[Option<usize>]) -> Vec<Vec<usize>> {
        let mut deps = self.node_deps();
        for k in 0..deps.len() {
            let mut stage = k;
            while let Some(after) = next[stage] {
                stage = after;
            }
            if stage != k {
                let extra = deps[k].clone();
                for d in extra {
                    if !deps[stage].contains(&d) {
                        deps[stage].push(d);
                    }
                }
            }
        }
        deps
    }

    /// The nodes a run must produce: the outputs, and bindings nobody reads (a `let`
    /// runs whether or not its value is used).
    pub(crate) fn targets(&self) -> BTreeSet<usize> {
        let n_inputs = self.inputs.len();
        self.outputs
            .iter()
            .chain(&self.unused)
            .filter(|&&v| v >= n_inputs)
            .map(|&v| v - n_inputs)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::ast::GraphInput;
    use super::super::schedule::{Schedule, critical_path_len, is_exact, schedule};
    use super::*;
    use syn::parse_quote;

    fn analysed(input: GraphInput, check: impl FnOnce(&Analysis<'_>)) {
        let block = input.block().expect("valid block");
        let params = input.params.iter().flatten().collect();
        check(&analyze(params, &block));
    }

    fn keys(a: &Analysis<'_>) -> Vec<String> {
        a.nodes.iter().map(|n| n.key.clone()).collect()
    }

    #[test]
    fn a_diamond() {
        analysed(
            parse_quote! { let x = inc(1); let y = inc(2); let z = add(x, y); z },
            |a| {
                assert_eq!(keys(a), ["x", "y", "z"]);
                assert_eq!(a.node_deps(), [vec![], vec![], vec![0, 1]]);
                assert_eq!(a.outputs, [2]);
                assert!(
                    a.nodes
                        .iter()
                        .all(|n| n.function == "inc" || n.function == "add")
                );
                assert!(a.nodes[2].reads.iter().all(|r| r.mode == Mode::Move));
                let s = schedule(&a.node_deps(), &a.targets(), &BTreeSet::new());
                assert_eq!(
                    s,
                    Schedule::Seq(vec![
                        Schedule::Par(vec![
                            (vec![0], Schedule::Run(0)),
                            (vec![1], Schedule::Run(1))
                        ]),
                        Schedule::Run(2),
                    ])
                );
                assert!(is_exact(&a.node_deps(), &s));
                assert_eq!(critical_path_len(&a.node_deps()), 2);
            },
        );
    }

    #[test]
    fn a_stage_over_an_unshared_stage_chains_to_it() {
        analysed(
            parse_quote!(|paths: Vec<String>| {
                let raw = for p in paths {
                    read(p)
                };
                let parsed = for r in raw {
                    parse(r)
                };
                let cfg = load(1);
                let keep = for x in parsed {
                    check(x, &cfg)
                };
                let shared = for k in keep {
                    { k + 1 }
                };
                let count = { shared.len() };
                let again = for s in shared {
                    { s * 2 }
                };
                let typed: Vec<i64> = for a in again {
                    { a }
                };
                let last = for t in typed {
                    { t }
                };
                (count, last)
            }),
            |a| {
                let next = a.next_stage();
                // raw -> parsed -> keep -> shared; `shared` is read twice and stays
                // whole; `again` chains into the annotated `typed`, which stays whole.
                assert_eq!(
                    next,
                    [
                        Some(1),
                        Some(3),
                        None,
                        Some(4),
                        None,
                        None,
                        Some(7),
                        None,
                        None
                    ]
                );
                // The end of the chain (`shared`) waits for what `cfg` and the earlier
                // stages read.
                let deps = a.chained_deps(&next);
                assert_eq!(deps[4], vec![3, 0, 1, 2]);
                assert_eq!(deps[1], a.node_deps()[1]);
            },
        );
    }

    #[test]
    fn shadowing_follows_rust() {
        analysed(
            parse_quote! { let x = inc(1); let x = inc(x); let y = add(x, x); (x, y) },
            |a| {
                assert_eq!(keys(a), ["x", "x#2", "y"]);
                assert_eq!(a.node_deps(), [vec![], vec![0], vec![1]]);
                assert_eq!(a.outputs, [1, 2]);
                assert!(a.output_is_tuple);
                // x#2 is read twice by y and once by the output: cloned.
                assert_eq!(a.nodes[2].reads[0].mode, Mode::Clone);
            },
        );
    }

    #[test]
    fn inputs_captures_borrows_and_unused_bindings() {
        analysed(
            parse_quote!(|a: i64, data: &[f64]| {
                let m = mean(&data);
                let s = scale(&data, factor);
                let unused = inc(a);
                let _quiet = inc(a);
                let t = { m + s };
                t
            }),
            |a| {
                assert_eq!(a.inputs.len(), 2);
                // data (value 1) is only ever borrowed as a whole argument.
                assert_eq!(a.nodes[0].reads[0].mode, Mode::Borrow);
                assert_eq!(a.nodes[1].deps, [1]); // `factor` is captured, not a value
                assert_eq!(a.nodes[2].reads[0].mode, Mode::Clone); // `a` is read twice
                assert_eq!(a.nodes[4].function, "expr");
                assert_eq!(a.nodes[4].deps, [2, 3]);
                // `unused` and `_quiet` (values 4, 5) are never read; both still run.
                assert_eq!(a.unused, [4, 5]);
                assert_eq!(a.targets(), BTreeSet::from([2, 3, 4]));
            },
        );
    }

    #[test]
    fn lists_and_computed_outputs() {
        analysed(
            parse_quote! { let xs = load(); let ys = for x in xs { f(x, k) }; total(ys) },
            |a| {
                assert_eq!(keys(a), ["xs", "ys", "output"]);
                assert_eq!(a.nodes[1].function, "f");
                assert!(matches!(a.nodes[1].kind, Kind::List { call: Some(_), .. }));
                assert_eq!(a.node_deps(), [vec![], vec![0], vec![1]]);
                assert_eq!(a.outputs, [2]);
            },
        );
    }

    #[test]
    fn task_calls_are_lowercase_paths() {
        let call = |e: Expr| as_task_call(&e).is_some();
        assert!(call(parse_quote!(inc(x))));
        assert!(call(parse_quote!(tasks::inc(x))));
        assert!(call(parse_quote!(ident::<i64>(x))));
        assert!(!call(parse_quote!(Some(x))));
        assert!(!call(parse_quote!(Vec::with_capacity(n))));
        assert!(!call(parse_quote!(f64::max(a, b))));
        assert!(!call(parse_quote!((f)(x))));
        assert!(!call(parse_quote!(x.len())));
    }

    #[test]
    fn a_binary_tree_nests_joins_and_a_non_series_parallel_graph_is_flagged() {
        // 4 leaves, 2 pairs, 1 root.
        let deps = vec![
            vec![],
            vec![],
            vec![],
            vec![],
            vec![0, 1],
            vec![2, 3],
            vec![4, 5],
        ];
        let s = schedule(&deps, &BTreeSet::from([6]), &BTreeSet::new());
        let Schedule::Seq(steps) = &s else {
            panic!("{s:?}")
        };
        assert_eq!(steps.len(), 2);
        assert!(matches!(&steps[0], Schedule::Par(branches) if branches.len() == 2));
        assert!(is_exact(&deps, &s));
        assert_eq!(critical_path_len(&deps), 3);

        // The N shape: c reads a and b, d reads b only. d need not wait for a.
        let n_shape = vec![vec![], vec![], vec![0, 1], vec![1]];
        let s = schedule(&n_shape, &BTreeSet::from([2, 3]), &BTreeSet::new());
        assert!(!is_exact(&n_shape, &s));
    }
}
