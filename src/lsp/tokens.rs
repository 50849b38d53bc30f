//! Semantic tokens: what the TextMate grammar cannot know, from the syntax tree and the
//! checker. Record names (declared and at the root of paths), field steps, transform names,
//! table names (declared and passed to a lookup), and strings that are values of an enumerated
//! field (the stage of a `require at stage` block, a value compared with or written into a field
//! whose schema lists its values).

use lsp_types::{SemanticToken, SemanticTokens};
use serde_json::{Value, json};

use super::analysis::Analysis;
use super::position::Lines;
use crate::source::Span;
use crate::syntax::ast::{CondKind, Expr, ExprKind, Item, LitKind, Literal, Path, SegmentKind};
use crate::syntax::find::{expr_calls, expressions, paths, tests};
use crate::syntax::names::{NameKind, name_uses};

/// The token types, in legend order.
const TYPES: [&str; 5] = [
    "namespace",
    "property",
    "function",
    "variable",
    "enumMember",
];
const NAMESPACE: u32 = 0;
const PROPERTY: u32 = 1;
const FUNCTION: u32 = 2;
const VARIABLE: u32 = 3;
const ENUM_MEMBER: u32 = 4;
/// The modifier bit for a name where it is declared.
const DECLARATION: u32 = 1;

/// The legend announced in the server's capabilities.
pub fn legend() -> Value {
    json!({"tokenTypes": TYPES, "tokenModifiers": ["declaration"]})
}

/// One token before encoding: its bytes, type and modifiers.
struct Token {
    span: Span,
    kind: u32,
    modifiers: u32,
}

/// The document's semantic tokens.
pub fn tokens(analysis: &Analysis) -> SemanticTokens {
    let ast = &analysis.output.ast;
    let mut found: Vec<Token> = Vec::new();
    for used in name_uses(ast) {
        let kind = match used.kind {
            NameKind::Record => NAMESPACE,
            NameKind::Table => VARIABLE,
        };
        let modifiers = if used.declaration { DECLARATION } else { 0 };
        found.push(Token {
            span: used.span,
            kind,
            modifiers,
        });
    }
    for path in paths(ast) {
        for segment in &path.segments {
            if let SegmentKind::Field(_) = segment.kind {
                found.push(Token {
                    span: segment.span,
                    kind: PROPERTY,
                    modifiers: 0,
                });
            }
        }
    }
    let mut calls = Vec::new();
    for expr in expressions(ast) {
        expr_calls(expr, &mut calls);
    }
    for call in calls {
        found.push(Token {
            span: call.name.span,
            kind: FUNCTION,
            modifiers: 0,
        });
    }
    for span in enum_values(analysis) {
        found.push(Token {
            span,
            kind: ENUM_MEMBER,
            modifiers: 0,
        });
    }
    encode(&analysis.text, found)
}

/// The strings that stand for a value of an enumerated field.
fn enum_values(analysis: &Analysis) -> Vec<Span> {
    let mut found = Vec::new();
    let enumerated = |path: &Path| {
        analysis
            .query()
            .field(path, path.segments.len())
            .is_some_and(|f| f.flat.non_null_enum().is_some())
    };
    let literal = |value: &Literal, path: &Path, found: &mut Vec<Span>| {
        if matches!(value.kind, LitKind::Str(_)) && enumerated(path) {
            found.push(value.span);
        }
    };
    let written = |expr: &Expr, path: &Path, found: &mut Vec<Span>| {
        if let ExprKind::Literal(value) = &expr.kind {
            literal(value, path, found);
        }
    };
    for item in &analysis.output.ast.items {
        match item {
            Item::Require(block) => found.push(block.stage.span),
            Item::Map(block) => {
                for a in &block.assignments {
                    written(&a.value, &a.target, &mut found);
                }
            }
            Item::Select(select) => {
                for arm in &select.arms {
                    written(&arm.value, &select.target, &mut found);
                }
                if let Some(otherwise) = &select.otherwise {
                    written(&otherwise.value, &select.target, &mut found);
                }
            }
            _ => {}
        }
    }
    for cond in tests(&analysis.output.ast) {
        match &cond.kind {
            CondKind::Compare { left, right, .. } => {
                for (side, other) in [(left, right), (right, left)] {
                    if let ExprKind::Path(path) = &other.kind {
                        written(side, path, &mut found);
                    }
                }
            }
            CondKind::In { value, list } => {
                if let ExprKind::Path(path) = &value.kind {
                    for item in list {
                        written(
                            &Expr {
                                kind: ExprKind::Literal(item.clone()),
                                span: item.span,
                            },
                            path,
                            &mut found,
                        );
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// Sorted, without overlaps, in LSP's relative encoding (lines, UTF-16 columns).
fn encode(text: &str, mut found: Vec<Token>) -> SemanticTokens {
    found.sort_by_key(|t| (t.span.start, t.span.end));
    let lines = Lines::new(text);
    let mut data = Vec::with_capacity(found.len());
    let (mut line, mut column, mut end) = (0u32, 0u32, 0usize);
    for token in found {
        if token.span.start < end || token.span.end > text.len() || token.span.is_empty() {
            continue;
        }
        let start = lines.position(token.span.start);
        let stop = lines.position(token.span.end);
        if stop.line != start.line {
            continue;
        }
        let delta_line = start.line - line;
        let delta_start = if delta_line == 0 {
            start.character - column
        } else {
            start.character
        };
        data.push(SemanticToken {
            delta_line,
            delta_start,
            length: stop.character - start.character,
            token_type: token.kind,
            token_modifiers_bitset: token.modifiers,
        });
        (line, column, end) = (start.line, start.character, token.span.end);
    }
    SemanticTokens {
        result_id: None,
        data,
    }
}
