//! Completion, from the node being typed (the item around the cursor re-parsed as if the text
//! ended there): the fields of the object a half-typed path leads to (for a dictionary, the keys
//! the mapping already uses), transforms after `|`, tables where a transform takes one, record
//! names where a path starts, and inside a string the enum values of what it is compared with,
//! written into, or (in `require at stage`) of the trigger's stage field.

use lsp_types::{CompletionItem, CompletionItemKind, Documentation, Position, Range, TextEdit};

use super::analysis::{Analysis, typed_word};
use super::position::{to_offset, to_range};
use super::quote::{escape_in_string, name_or_quoted};
use crate::check::program::RecordRef;
use crate::schema::Flat;
use crate::syntax::ast::{Expr, ExprKind, Item, MappingFile, Path, SegmentKind};
use crate::syntax::find::{Node, TextRole, paths};
use crate::syntax::partial::{CURSOR, inside_string};
use crate::transforms::registry::{self, ParamKind};

/// Completion at `position`.
pub fn completion(analysis: &Analysis, position: Position) -> Vec<CompletionItem> {
    let offset = to_offset(&analysis.text, position);
    let typed = typed_word(&analysis.text, offset);
    let replace = to_range(&analysis.text, offset - typed.len(), offset);
    analysis.typing(offset, |typed, node| match node {
        Some(Node::Path {
            path,
            segment: Some(index),
        }) => field_items(analysis, typed, path, index, replace),
        Some(Node::Path { segment: None, .. }) => record_items(analysis, replace),
        Some(Node::Transform(_)) => transform_items(replace),
        Some(Node::NameArg { call, index }) => {
            let takes_table = registry::find(&call.name.name)
                .and_then(|decl| decl.params.get(index))
                .is_some_and(|param| param.kind == ParamKind::Table);
            if takes_table {
                table_items(analysis, replace)
            } else {
                Vec::new()
            }
        }
        Some(Node::Text { span, role }) => {
            let inside = to_range(&analysis.text, (span.start + 1).min(offset), offset);
            value_items(analysis, role, inside)
        }
        Some(Node::Table(_) | Node::Record(_)) => Vec::new(),
        None if inside_string(&analysis.text, offset) => Vec::new(),
        None => record_items(analysis, replace),
    })
}

fn item(label: &str, kind: CompletionItemKind, detail: &str, range: Range) -> CompletionItem {
    edit_item(label, label, kind, detail, range)
}

fn edit_item(
    label: &str,
    insert: &str,
    kind: CompletionItemKind,
    detail: &str,
    range: Range,
) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(detail.to_string()),
        text_edit: Some(lsp_types::CompletionTextEdit::Edit(TextEdit::new(
            range,
            insert.to_string(),
        ))),
        ..CompletionItem::default()
    }
}

fn record_items(analysis: &Analysis, range: Range) -> Vec<CompletionItem> {
    analysis
        .output
        .records
        .iter()
        .map(|r| {
            let detail = match r.role {
                RecordRef::Target => "target record",
                RecordRef::Source(_) => "source record",
            };
            item(&r.name, CompletionItemKind::MODULE, detail, range)
        })
        .collect()
}

fn transform_items(range: Range) -> Vec<CompletionItem> {
    registry::TRANSFORMS
        .iter()
        .map(|t| {
            let mut completion = item(t.name, CompletionItemKind::FUNCTION, &t.signature(), range);
            completion.documentation = Some(Documentation::String(t.doc.to_string()));
            completion
        })
        .collect()
}

fn table_items(analysis: &Analysis, range: Range) -> Vec<CompletionItem> {
    analysis
        .output
        .ast
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Table(table) => Some(&table.name.name),
            _ => None,
        })
        .map(|name| item(name, CompletionItemKind::VARIABLE, "table", range))
        .collect()
}

/// The members of the object the first `index` steps of `path` lead to.
fn field_items(
    analysis: &Analysis,
    typed: Option<&MappingFile>,
    path: &Path,
    index: usize,
    range: Range,
) -> Vec<CompletionItem> {
    let query = analysis.query();
    let Some(parent) = query.field(path, index) else {
        return Vec::new();
    };
    let members = query.members(&parent.flat);
    let mut items: Vec<CompletionItem> = members
        .named
        .iter()
        .map(|member| {
            let detail = format!(
                "{}{}",
                member.flat.kinds.describe(),
                if member.required { ", required" } else { "" }
            );
            field_item(&member.name, &detail, &member.flat, range)
        })
        .collect();
    if let Some(other) = &members.other {
        let detail = format!(
            "{} (a key of `{}`)",
            other.kinds.describe(),
            path.display_prefix(index)
        );
        let trees = [Some(&analysis.output.ast), typed];
        for key in keys_used(
            trees.into_iter().flatten(),
            &path.display_prefix(index),
            index,
        ) {
            items.push(field_item(&key, &detail, other, range));
        }
    }
    items
}

fn field_item(name: &str, detail: &str, flat: &Flat, range: Range) -> CompletionItem {
    let label = name_or_quoted(name);
    let mut completion = item(&label, CompletionItemKind::FIELD, detail, range);
    completion.documentation = flat.description.clone().map(Documentation::String);
    completion
}

/// The keys `trees` read or write under the dictionary `parent` (a path of `depth` steps), in
/// order of first use; never the placeholder at the cursor.
fn keys_used<'t>(
    trees: impl Iterator<Item = &'t MappingFile>,
    parent: &str,
    depth: usize,
) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for path in trees.flat_map(paths) {
        let Some(step) = path.segments.get(depth) else {
            continue;
        };
        if let SegmentKind::Field(name) = &step.kind
            && path.display_prefix(depth) == parent
            && !name.ends_with(CURSOR)
            && !keys.contains(name)
        {
            keys.push(name.clone());
        }
    }
    keys
}

/// Inside a string: the enum values of the field it stands for, as `role` says.
fn value_items(analysis: &Analysis, role: TextRole<'_>, range: Range) -> Vec<CompletionItem> {
    let stage_field;
    let path = match role {
        TextRole::Compared(Expr {
            kind: ExprKind::Path(path),
            ..
        })
        | TextRole::Written(path) => path,
        TextRole::Stage => match crate::check::stage_field(&analysis.output.ast) {
            Some(found) => {
                stage_field = found;
                &stage_field
            }
            None => return Vec::new(),
        },
        TextRole::Compared(_) | TextRole::Other => return Vec::new(),
    };
    let Some(field) = analysis.query().field(path, path.segments.len()) else {
        return Vec::new();
    };
    let shown = path.display();
    field
        .flat
        .non_null_enum()
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str())
        .map(|v| {
            edit_item(
                v,
                &escape_in_string(v),
                CompletionItemKind::ENUM_MEMBER,
                &shown,
                range,
            )
        })
        .collect()
}
