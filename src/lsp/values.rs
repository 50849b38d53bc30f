//! Hover on a string that stands for a value of an enumerated field: a stage (`require at stage
//! "closedwon"`, `dealstage == "closedwon"`), a template or status name written into the target
//! (`job.template = "Retainer"`, `=> "Fixed fee"`). It shows the field the value belongs to and
//! its label (the schema's title and description), whether the value is one of the field's
//! values and the others, and every line of the mapping that uses the same value.

use lsp_types::Hover;
use serde_json::Value;

use super::analysis::Analysis;
use super::hover::markdown_hover;
use super::position::to_range;
use crate::source::Span;
use crate::syntax::ast::{CondKind, Expr, ExprKind, Item, LitKind};
use crate::syntax::find::{TextRole, expressions, tests};

/// Values listed in a hover.
const MAX_VALUES: usize = 16;

/// The hover of the string at `span`, standing for `role`.
pub fn value_hover(analysis: &Analysis, span: Span, role: TextRole<'_>) -> Option<Hover> {
    let value: String = serde_json::from_str(analysis.text.get(span.start..span.end)?).ok()?;
    let stage_field;
    let (path, what) = match role {
        TextRole::Stage => {
            stage_field = crate::check::stage_field(&analysis.output.ast)?;
            (&stage_field, "stage")
        }
        TextRole::Compared(Expr {
            kind: ExprKind::Path(path),
            ..
        }) => (path, "value"),
        TextRole::Written(path) => (path, "value"),
        TextRole::Compared(_) | TextRole::Other => return None,
    };
    let field = analysis.query().field(path, path.segments.len())?;
    let values = field.flat.non_null_enum()?;
    let listed = values.iter().any(|v| v.as_str() == Some(value.as_str()));
    let mut text = format!(
        "**{}** — {} {what} of `{}`",
        Value::String(value.clone()),
        if listed { "a" } else { "not a" },
        path.display()
    );
    for label in [&field.flat.title, &field.flat.description]
        .into_iter()
        .flatten()
    {
        text.push_str(&format!("\n\n{label}"));
    }
    let shown: Vec<String> = values
        .iter()
        .take(MAX_VALUES)
        .map(|v| format!("`{v}`"))
        .collect();
    let more = values.len().saturating_sub(MAX_VALUES);
    text.push_str(&format!("\n\nvalues: {}", shown.join(", ")));
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    let lines = uses(analysis, &value);
    if !lines.is_empty() {
        let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
        text.push_str(&format!("\n\nused on lines {}", lines.join(", ")));
    }
    Some(markdown_hover(
        text,
        to_range(&analysis.text, span.start, span.end),
    ))
}

/// The lines (1-based, in order, each once) where the mapping writes the string `value` as a
/// whole value: stages, compared and listed values, values written by rules and branches.
fn uses(analysis: &Analysis, value: &str) -> Vec<usize> {
    let ast = &analysis.output.ast;
    let mut spans: Vec<Span> = Vec::new();
    let is_value = |kind: &LitKind| matches!(kind, LitKind::Str(s) if s == value);
    for item in &ast.items {
        if let Item::Require(block) = item
            && block.stage.value == value
        {
            spans.push(block.stage.span);
        }
    }
    for expr in expressions(ast) {
        literal_spans(expr, &is_value, &mut spans);
    }
    for test in tests(ast) {
        if let CondKind::In { list, .. } = &test.kind {
            spans.extend(list.iter().filter(|l| is_value(&l.kind)).map(|l| l.span));
        }
    }
    let file = analysis.sources.get(analysis.output.file);
    let mut lines: Vec<usize> = spans.iter().map(|s| file.line_col(s.start).0).collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

fn literal_spans(expr: &Expr, is_value: &dyn Fn(&LitKind) -> bool, out: &mut Vec<Span>) {
    match &expr.kind {
        ExprKind::Literal(literal) if is_value(&literal.kind) => out.push(literal.span),
        ExprKind::Coalesce(alternatives) => {
            for alternative in alternatives {
                literal_spans(alternative, is_value, out);
            }
        }
        ExprKind::Pipeline { input, .. } => literal_spans(input, is_value, out),
        _ => {}
    }
}
