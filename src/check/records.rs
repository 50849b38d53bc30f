//! Records: loading each declared record's schema, and checking `join on` clauses.

use std::path::PathBuf;

use super::context::Context;
use super::paths::{self, Allowed};
use super::program::{JoinKey, RecordRef, SourceRecord};
use crate::diag::{Code, Diagnostic};
use crate::schema::NodeId;
use crate::source::Span;
use crate::syntax::ast::{Item, Join, MappingFile, RecordDecl};
use crate::value::Kinds;

/// A declared record.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its name, the root of paths (`deal`).
    pub name: String,
    /// Which source it is, or the target.
    pub role: RecordRef,
    /// The root node of its schema; `None` when the schema did not load.
    pub root: Option<NodeId>,
    /// Where its name is declared.
    pub name_span: Span,
    /// Its schema file.
    pub schema_path: PathBuf,
    /// How it is joined from a reference file, when its `join on` clause checks.
    pub join: Option<JoinKey>,
    /// Where its records are in each input document, when its `in "POINTER"` clause checks.
    pub envelope: Option<String>,
}

/// Declares every record, loads its schema, and checks its `join on` clause.
pub(crate) fn pass(cx: &mut Context<'_>, ast: &MappingFile) -> Vec<Record> {
    let mut records = declare(cx, ast);
    for item in &ast.items {
        if let Item::Source(decl) = item
            && let Some(join) = &decl.join
            && let Some(index) = records.iter().position(|r| r.name == decl.name.name)
            && let Some(key) = check_join(cx, &records, decl, join)
        {
            records[index].join = Some(key);
        }
        if let Item::Source(decl) = item
            && let Some(envelope) = &decl.envelope
            && let Some(index) = records.iter().position(|r| r.name == decl.name.name)
            && check_envelope(cx, &records[index], decl, envelope)
        {
            records[index].envelope = Some(envelope.value.clone());
        }
    }
    records
}

/// Whether an `in "POINTER"` clause checks: a JSON pointer (RFC 6901: empty, or `/`-separated
/// tokens in which `~` is `~0` or `~1`), on the primary source, which is not joined.
fn check_envelope(
    cx: &mut Context<'_>,
    record: &Record,
    decl: &RecordDecl,
    envelope: &crate::syntax::ast::StrLit,
) -> bool {
    let pointer = &envelope.value;
    let problem = if !matches!(record.role, RecordRef::Source(0)) {
        Some((
            "only the primary source (the first one declared) can be read from an envelope",
            format!(
                "move `in \"{pointer}\"` to the first source; related records come from bundles or `--ref` files"
            ),
        ))
    } else if decl.join.is_some() {
        Some((
            "a joined record cannot be read from an envelope",
            "remove the `in` clause or the `join on` clause".to_string(),
        ))
    } else if pointer.is_empty() || !pointer.starts_with('/') || bad_escape(pointer) {
        Some((
            "not a JSON pointer to the records",
            "write a JSON pointer that starts with `/`, e.g. `in \"/results\"` for `{\"results\": [...]}` (`~1` for a `/` in a key, `~0` for a `~`)".to_string(),
        ))
    } else {
        None
    };
    let Some((label, help)) = problem else {
        return true;
    };
    cx.report(
        Diagnostic::new(
            Code::M120,
            envelope.span,
            format!(
                "invalid input envelope `in \"{pointer}\"` on `{}`",
                decl.name.name
            ),
            label,
        )
        .with_help(help),
    );
    false
}

/// True when a `~` in `pointer` is not `~0` or `~1`.
fn bad_escape(pointer: &str) -> bool {
    let bytes = pointer.as_bytes();
    bytes
        .iter()
        .enumerate()
        .any(|(at, b)| *b == b'~' && !matches!(bytes.get(at + 1), Some(b'0' | b'1')))
}

/// The program's source records, in declaration order.
pub(crate) fn source_records(records: &[Record]) -> Vec<SourceRecord> {
    records
        .iter()
        .filter(|r| matches!(r.role, RecordRef::Source(_)))
        .map(|r| SourceRecord {
            name: r.name.clone(),
            schema_path: r.schema_path.clone(),
            join: r.join.clone(),
            envelope: r.envelope.clone(),
        })
        .collect()
}

fn declare(cx: &mut Context<'_>, ast: &MappingFile) -> Vec<Record> {
    let mut records: Vec<Record> = Vec::new();
    let mut source_count = 0;
    let mut has_target = false;
    for item in &ast.items {
        let (decl, role) = match item {
            Item::Source(decl) => {
                source_count += 1;
                (decl, RecordRef::Source(source_count - 1))
            }
            Item::Target(decl) if !has_target => {
                has_target = true;
                (decl, RecordRef::Target)
            }
            _ => continue,
        };
        if let Some(first) = records.iter().find(|r| r.name == decl.name.name) {
            let first_span = first.name_span;
            cx.report(
                Diagnostic::new(
                    Code::M106,
                    decl.name.span,
                    format!("record `{}` is declared twice", decl.name.name),
                    "second declaration",
                )
                .with_label(first_span, "first declared here")
                .with_help("give each record its own name, e.g. `deal`, `company`, `owner`"),
            );
            if let RecordRef::Source(_) = role {
                source_count -= 1;
            }
            continue;
        }
        records.push(declare_record(cx, decl, role));
    }
    records
}

fn declare_record(cx: &mut Context<'_>, decl: &RecordDecl, role: RecordRef) -> Record {
    let root = cx.load_schema(&decl.schema.value, decl.schema.span);
    let schema_path = crate::io::files::normalise(&cx.base_dir.join(&decl.schema.value));
    Record {
        name: decl.name.name.clone(),
        role,
        root,
        name_span: decl.name.span,
        schema_path,
        join: None,
        envelope: None,
    }
}

/// The key of a `join on` clause, when it checks.
fn check_join(
    cx: &mut Context<'_>,
    records: &[Record],
    decl: &RecordDecl,
    join: &Join,
) -> Option<JoinKey> {
    if join.key.root.name != decl.name.name {
        cx.report(
            Diagnostic::new(
                Code::M211,
                join.key.root.span,
                format!(
                    "the left side of the join must be a field of `{}`",
                    decl.name.name
                ),
                format!("`{}` is not the record being joined", join.key.root.name),
            )
            .with_help(if join.equals.root.name == decl.name.name {
                format!(
                    "swap the sides: `join on {} == {}`",
                    join.equals.display(),
                    join.key.display()
                )
            } else {
                format!(
                    "the left side is the key inside `{}`, e.g. `join on {}.id == {}`",
                    decl.name.name,
                    decl.name.name,
                    join.equals.display()
                )
            }),
        );
        return None;
    }
    if join.equals.root.name == decl.name.name {
        cx.report(
                Diagnostic::new(
                    Code::M211,
                    join.equals.root.span,
                    "a record cannot be joined on itself",
                    "must be another source record",
                )
                .with_help("the right side names the field of an earlier source (usually the deal) that holds the key"),
            );
        return None;
    }
    let key = paths::resolve(cx, records, &join.key, Allowed::Source);
    let equals = paths::resolve(cx, records, &join.equals, Allowed::Source);
    let (key, equals) = (key?, equals?);
    let scalar = Kinds::STRING.or(Kinds::NUMBER).or(Kinds::BOOL);
    let (left, right) = (key.flat.kinds.and(scalar), equals.flat.kinds.and(scalar));
    let both_numbers = left.intersects(Kinds::NUMBER) && right.intersects(Kinds::NUMBER);
    if !(left.intersects(right) || both_numbers) {
        cx.report(
            Diagnostic::new(
                Code::M211,
                join.span,
                format!(
                    "join compares `{}` ({}) with `{}` ({})",
                    key.cpath.display,
                    key.flat.kinds.a(),
                    equals.cpath.display,
                    equals.flat.kinds.a()
                ),
                "the two keys can never be equal",
            )
            .with_help("join on fields of the same type (both ids as strings, or both as numbers)"),
        );
        return None;
    }
    Some(JoinKey {
        key: key.cpath,
        equals: equals.cpath,
    })
}
