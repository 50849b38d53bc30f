//! Budgets on compiled schemas, checked once after `model.rs` compiles a root: no cycle of
//! in-place references (M608) and no in-place chain longer than [`MAX_IN_PLACE_DEPTH`] (M610).
//!
//! An *in-place* edge leads from a subschema to another that applies to the same value: `$ref`,
//! `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`. A cycle of them
//! (`a -> b -> a`, or a field whose `$ref` names itself) makes every validator loop forever; a
//! cycle through `properties` or `items` (a tree of nodes) is fine, since each step reads one
//! level deeper into a value whose depth is bounded. Every validator (the checker's `Flat`
//! views, the fast reader's shapes, `jsonschema` in both apply paths and the reference
//! interpreter) recurses at most once per in-place edge per level of the value, so bounding the
//! chain length here bounds their stacks. Both walks are iterative and linear in the graph.

use super::model::{NodeId, SchemaSet};
use crate::diag::{Code, Diagnostic};
use crate::source::{SourceMap, Span};

/// Longest chain of in-place references (`$ref`, `allOf`, ...) from one subschema.
pub const MAX_IN_PLACE_DEPTH: usize = 64;

/// Most subschemas compiled for one mapping's schemas.
pub const MAX_SCHEMA_NODES: usize = 50_000;

/// Most bytes of schema text loaded for one mapping (every document a `$ref` reaches counted).
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024 * 1024;

/// The edges from a node to the subschemas that apply to the same value.
fn in_place(set: &SchemaSet, id: NodeId) -> Vec<NodeId> {
    let node = set.node(id);
    let mut out: Vec<NodeId> = node.reference.into_iter().collect();
    out.extend(&node.all_of);
    out.extend(&node.any_of);
    out.extend(&node.in_place);
    out
}

/// Every edge from a node: in-place ones and the ones that step into members and items.
fn all_edges(set: &SchemaSet, id: NodeId) -> Vec<NodeId> {
    let node = set.node(id);
    let mut out = in_place(set, id);
    out.extend(node.properties.iter().map(|(_, child)| *child));
    out.extend(node.additional);
    out.extend(node.items);
    out
}

/// The nodes reachable from `root` by any edge, in discovery order.
fn reachable(set: &SchemaSet, root: NodeId) -> Vec<NodeId> {
    let mut seen = vec![false; set.nodes.len()];
    let mut order = Vec::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        let Some(slot) = seen.get_mut(id.0 as usize) else {
            continue;
        };
        if std::mem::replace(slot, true) {
            continue;
        }
        order.push(id);
        stack.extend(all_edges(set, id));
    }
    order
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    New,
    Open,
    Done,
}

/// What the in-place walk found: cycles (each as its nodes, in reference order) and the
/// longest chain (its length and first node).
struct Found {
    cycles: Vec<Vec<NodeId>>,
    deepest: Option<(usize, NodeId)>,
}

/// One depth-first walk of the in-place edges from every reachable node, with an explicit stack.
fn walk(set: &SchemaSet, nodes: &[NodeId]) -> Found {
    let mut mark = vec![Mark::New; set.nodes.len()];
    let mut depth = vec![0usize; set.nodes.len()];
    let mut in_cycle = vec![false; set.nodes.len()];
    let mut stack_at = vec![0usize; set.nodes.len()];
    let mut found = Found {
        cycles: Vec::new(),
        deepest: None,
    };
    for &start in nodes {
        if mark[start.0 as usize] != Mark::New {
            continue;
        }
        let mut stack: Vec<(NodeId, Vec<NodeId>, usize)> = vec![(start, in_place(set, start), 0)];
        mark[start.0 as usize] = Mark::Open;
        stack_at[start.0 as usize] = 0;
        while let Some((id, edges, next)) = stack.last_mut() {
            let id = *id;
            let Some(&child) = edges.get(*next) else {
                let longest = edges
                    .iter()
                    .filter(|c| mark[c.0 as usize] == Mark::Done)
                    .map(|c| depth[c.0 as usize])
                    .max()
                    .unwrap_or(0);
                depth[id.0 as usize] = longest.saturating_add(1);
                mark[id.0 as usize] = Mark::Done;
                if found.deepest.is_none_or(|(d, _)| depth[id.0 as usize] > d) {
                    found.deepest = Some((depth[id.0 as usize], id));
                }
                stack.pop();
                continue;
            };
            *next += 1;
            match mark[child.0 as usize] {
                Mark::New => {
                    mark[child.0 as usize] = Mark::Open;
                    stack_at[child.0 as usize] = stack.len();
                    let edges = in_place(set, child);
                    stack.push((child, edges, 0));
                }
                Mark::Open => {
                    let from = stack_at[child.0 as usize];
                    let cycle: Vec<NodeId> = stack[from..].iter().map(|(n, _, _)| *n).collect();
                    if !cycle.iter().any(|n| in_cycle[n.0 as usize]) {
                        for n in &cycle {
                            in_cycle[n.0 as usize] = true;
                        }
                        found.cycles.push(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
    }
    found
}

/// Where a node is written, as `file#pointer` (the file left out for the root's document).
fn place(
    set: &SchemaSet,
    sources: &SourceMap,
    id: NodeId,
    home: Option<super::model::DocId>,
) -> String {
    let node = set.node(id);
    let file = match node.doc {
        Some(doc) if Some(doc) != home => sources.get(set.doc(doc).file).name.clone(),
        _ => String::new(),
    };
    format!("{file}#{}", node.pointer)
}

/// The span of a node's reference keyword (`$ref`, else the node itself).
fn reference_span(set: &SchemaSet, sources: &SourceMap, id: NodeId) -> Option<Span> {
    set.span_of_keyword(sources, id, "/$ref")
        .or_else(|| set.span_of(sources, id))
}

/// Checks the subschemas reachable from `root` against the budgets; the problems found.
pub fn check(
    set: &SchemaSet,
    sources: &SourceMap,
    root: NodeId,
    named_at: Span,
) -> Vec<Diagnostic> {
    let nodes = reachable(set, root);
    let home = set.node(root).doc;
    let found = walk(set, &nodes);
    let mut out = Vec::new();
    for cycle in &found.cycles {
        let mut names: Vec<String> = cycle
            .iter()
            .map(|n| place(set, sources, *n, home))
            .collect();
        names.push(names[0].clone());
        let span = reference_span(set, sources, cycle[0]).unwrap_or(named_at);
        let mut diagnostic = Diagnostic::new(
            Code::M608,
            span,
            format!(
                "schema reference cycle that never reads into the value: {}",
                names.join(" -> ")
            ),
            "this reference leads back to itself",
        )
        .with_help(
            "a `$ref` (or `allOf`/`anyOf`/`oneOf`/`not`) chain must end in a schema; a cycle is \
             fine only through `properties` or `items` (a tree of nodes)",
        );
        for later in cycle.iter().skip(1).take(4) {
            if let Some(at) = reference_span(set, sources, *later) {
                diagnostic = diagnostic.with_label(at, "part of the cycle");
            }
        }
        out.push(diagnostic.with_label(named_at, "schema named here"));
    }
    if let Some((depth, start)) = found.deepest
        && depth > MAX_IN_PLACE_DEPTH
    {
        let span = reference_span(set, sources, start).unwrap_or(named_at);
        out.push(
            Diagnostic::new(
                Code::M610,
                span,
                format!(
                    "schema reference chain at {} is {depth} schemas long, more than {MAX_IN_PLACE_DEPTH}",
                    place(set, sources, start, home)
                ),
                "the chain starts here",
            )
            .with_label(named_at, "schema named here")
            .with_help(format!(
                "a chain of `$ref`/`allOf`/`anyOf`/`oneOf`/`not` applying to one value may be at \
                 most {MAX_IN_PLACE_DEPTH} long: refer to the schema at its end directly"
            )),
        );
    }
    out
}

/// The M610 for a mapping's schemas outgrowing [`MAX_SCHEMA_NODES`] or [`MAX_SCHEMA_BYTES`].
pub fn too_large(what: String, at: Span) -> Diagnostic {
    Diagnostic::new(Code::M610, at, what, "schema named here").with_help(format!(
        "one mapping's schemas may hold at most {MAX_SCHEMA_NODES} subschemas and \
         {} MiB of text: split the schema or drop what the mapping does not use",
        MAX_SCHEMA_BYTES / (1024 * 1024)
    ))
}
