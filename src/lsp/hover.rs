//! Hover and go to definition, from the syntax node under the cursor.
//!
//! On a path, hover shows what the checker resolves it to: the field's type, format, whether it is
//! required, its enum values, description, the keys a dictionary accepts, and where the schema
//! declares it; definition jumps there. On a transform name, hover shows its signature and
//! documentation. On a table name (declared or passed to a lookup), hover shows its rows and
//! where it is used, and definition jumps to its declaration; on a stage or a value of an
//! enumerated field (a template name), hover shows the field it belongs to, its label, the
//! other values and where the mapping uses the same value; on a record's name, its schema.

use lsp_types::{Hover, HoverContents, Location, MarkupContent, MarkupKind, Position, Range, Uri};

use super::analysis::Analysis;
use super::position::{to_offset, to_range};
use crate::schema::Flat;
use crate::source::Span;
use crate::syntax::ast::{Item, Path, SegmentKind, TableBody, TableDecl};
use crate::syntax::find::Node;

/// Hover at `position`.
pub fn hover(analysis: &Analysis, position: Position) -> Option<Hover> {
    let offset = to_offset(&analysis.text, position);
    analysis.at(offset, |node| match node {
        Node::Path { path, segment } => path_hover(analysis, path, segment),
        Node::Transform(call) => {
            let transform = crate::transforms::registry::find(&call.name.name)?;
            let text = format!(
                "**{}** — transform{}\n\n`{}`\n\n{}",
                transform.name,
                if transform.can_fail {
                    " (can fail: the deal is rejected)"
                } else {
                    ""
                },
                transform.signature(),
                transform.doc
            );
            let span = call.name.span;
            Some(markdown_hover(
                text,
                to_range(&analysis.text, span.start, span.end),
            ))
        }
        Node::NameArg { call, index } => match call.args.get(index)? {
            crate::syntax::ast::Arg::Name(name) => {
                let table = table_decl(analysis, &name.name)?;
                Some(table_hover(analysis, table, name.span))
            }
            crate::syntax::ast::Arg::Literal(_) | crate::syntax::ast::Arg::Value(_) => None,
        },
        Node::Table(table) => Some(table_hover(analysis, table, table.name.span)),
        Node::Text { span, role } => super::values::value_hover(analysis, span, role),
        Node::Record(record) => {
            let found = analysis.query().record(&record.name.name)?;
            let role = match found.role {
                crate::check::program::RecordRef::Target => "target",
                crate::check::program::RecordRef::Source(_) => "source",
            };
            let uses = crate::syntax::find::paths(&analysis.output.ast)
                .iter()
                .filter(|p| p.root.name == record.name.name)
                .count();
            let text = format!(
                "**`{}`** — {role} record, schema `{}`\n\nused by {uses} paths",
                record.name.name, record.schema.value
            );
            let span = record.name.span;
            Some(markdown_hover(
                text,
                to_range(&analysis.text, span.start, span.end),
            ))
        }
    })
}

/// Hover on a table: its rows (the first few) and the rules that look it up.
fn table_hover(analysis: &Analysis, table: &TableDecl, at: Span) -> Hover {
    let mut text = format!("**table `{}`**", table.name.name);
    match &table.body {
        TableBody::Inline(rows) => {
            text.push_str(&format!(" — {} rows", rows.len()));
            for row in rows.iter().take(MAX_ROWS) {
                let keys: Vec<String> = row.keys.iter().map(|k| k.kind.display()).collect();
                let keys = if keys.is_empty() {
                    "_".to_string()
                } else {
                    keys.join(", ")
                };
                text.push_str(&format!("\n- `{keys}` → `{}`", row.value.kind.display()));
            }
            if rows.len() > MAX_ROWS {
                text.push_str(&format!("\n- … {} more", rows.len() - MAX_ROWS));
            }
        }
        TableBody::File(file) => text.push_str(&format!(" — rows from `{}`", file.value)),
    }
    let uses: Vec<String> = crate::syntax::names::name_uses(&analysis.output.ast)
        .into_iter()
        .filter(|u| {
            !u.declaration
                && u.kind == crate::syntax::names::NameKind::Table
                && u.name == table.name.name
        })
        .map(|u| {
            format!(
                "line {}",
                analysis.sources.get(u.span.file).line_col(u.span.start).0
            )
        })
        .collect();
    if uses.is_empty() {
        text.push_str("\n\nnot used by any lookup");
    } else {
        text.push_str(&format!("\n\nlooked up at {}", uses.join(", ")));
    }
    markdown_hover(text, to_range(&analysis.text, at.start, at.end))
}

/// Rows of a table shown in its hover.
const MAX_ROWS: usize = 12;

fn table_decl<'a>(analysis: &'a Analysis, name: &str) -> Option<&'a TableDecl> {
    analysis
        .output
        .ast
        .items
        .iter()
        .find_map(|item| match item {
            Item::Table(table) if table.name.name == name => Some(table),
            _ => None,
        })
}

fn path_hover(analysis: &Analysis, path: &Path, segment: Option<usize>) -> Option<Hover> {
    let count = segment.map_or(0, |i| i + 1);
    let query = analysis.query();
    let field = query.field(path, count)?;
    let end = shown_end(&analysis.text, path, segment);
    let mut text = describe_field(
        &path.display_prefix(count),
        &field.flat,
        field.required,
        count > 0,
    );
    let members = query.members(&field.flat);
    if let (Some(other), true) = (&members.other, members.named.is_empty()) {
        text.push_str(&format!(
            "\n\nkeys: any name, each {}",
            other.kinds.describe()
        ));
    }
    if let Some(span) = query.declaration(&analysis.sources, &field.flat) {
        text.push_str(&format!("\n\nschema: `{}`", analysis.place(span)));
    }
    Some(markdown_hover(
        text,
        to_range(&analysis.text, path.root.span.start, end),
    ))
}

/// Where the shown part of a path ends: after the step under the cursor (and its `]`).
fn shown_end(text: &str, path: &Path, segment: Option<usize>) -> usize {
    let Some(index) = segment else {
        return path.root.span.end;
    };
    let step = &path.segments[index];
    match step.kind {
        SegmentKind::Field(_) => step.span.end,
        // A re-parsed item may end in closers past the text: only the text is looked at.
        SegmentKind::Index(_) | SegmentKind::Search { .. } => text
            .get(step.span.end..path.span.end.min(text.len()))
            .and_then(|rest| rest.find(']'))
            .map_or(step.span.end, |i| step.span.end + i + 1),
    }
}

/// A markdown hover over `range`.
pub fn markdown_hover(value: String, range: Range) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(range),
    }
}

/// The hover text of a field.
fn describe_field(shown: &str, flat: &Flat, required: bool, is_field: bool) -> String {
    let mut text = format!("**`{shown}`** — {}", flat.kinds.describe());
    if let Some(format) = &flat.format {
        text.push_str(&format!(", format `{format}`"));
    }
    if is_field {
        text.push_str(if required {
            " · required"
        } else {
            " · optional"
        });
    }
    if let Some(values) = flat.non_null_enum() {
        let listed: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        text.push_str(&format!("\n\nvalues: {}", listed.join(", ")));
    }
    for description in [&flat.title, &flat.description].into_iter().flatten() {
        text.push_str(&format!("\n\n{description}"));
    }
    text
}

/// Go to definition at `position`: a path step jumps to its declaration in the schema file; a
/// table name to its `table` declaration.
pub fn definition(analysis: &Analysis, position: Position, uri: &Uri) -> Option<Location> {
    let offset = to_offset(&analysis.text, position);
    analysis.at(offset, |node| match node {
        Node::Path { path, segment } => {
            let query = analysis.query();
            let field = query.field(path, segment.map_or(0, |i| i + 1))?;
            let span = query.declaration(&analysis.sources, &field.flat)?;
            analysis.location(span, uri)
        }
        Node::NameArg { call, index } => match call.args.get(index)? {
            crate::syntax::ast::Arg::Name(name) => {
                analysis.location(table_declaration(analysis, &name.name)?, uri)
            }
            crate::syntax::ast::Arg::Literal(_) | crate::syntax::ast::Arg::Value(_) => None,
        },
        Node::Table(table) => analysis.location(table.name.span, uri),
        Node::Record(record) => analysis.location(record.name.span, uri),
        Node::Transform(_) | Node::Text { .. } => None,
    })
}

/// Where the table `name` is declared.
fn table_declaration(analysis: &Analysis, name: &str) -> Option<Span> {
    analysis
        .output
        .ast
        .items
        .iter()
        .find_map(|item| match item {
            Item::Table(table) if table.name.name == name => Some(table.name.span),
            _ => None,
        })
}
