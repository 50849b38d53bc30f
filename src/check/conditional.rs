//! Conditional requirements of the target schema's root object (M315): `dependentRequired`,
//! the `required` lists of `dependentSchemas`, and of `then`/`else` under `if`. The flattened
//! view (`schema::Flat`) leaves them out, and `jsonschema` enforces them at apply; so a mapping
//! that writes `A` but never `B`, where the schema says "`A` needs `B`", would have every such
//! record rejected (M507). Decided from what the rules write:
//! - `dependentRequired: {A: [B]}` and `dependentSchemas: {A: {required: [B]}}`: when some rule
//!   writes `A`, some rule must write `B`;
//! - `if` / `then` / `else`: the `if` cannot hold when it requires a field no rule writes
//!   (then only `else` applies); otherwise `then`'s required fields must be written, and
//!   `else`'s too unless the `if` requires nothing (it then always holds).

use serde_json::Value;

use super::context::Context;
use super::program::RecordRef;
use super::records::Record;
use super::writes::Written;
use crate::diag::{Code, Diagnostic};
use crate::schema::load::try_span_at;

/// M315 for each conditional requirement of the target's root the rules leave unmet.
pub(crate) fn pass(cx: &mut Context<'_>, records: &[Record], written: &[Written]) {
    if cx.syntax_errors {
        return;
    }
    let Some(record) = records.iter().find(|r| r.role == RecordRef::Target) else {
        return;
    };
    let Some(root) = record.root else {
        return;
    };
    let node = cx.schemas.node(root);
    let Some(doc) = node.doc else {
        return;
    };
    let doc = cx.schemas.doc(doc);
    let (file, pointer, value) = (doc.file, node.pointer.clone(), doc.value.clone());
    let Some(schema) = value.pointer(&pointer) else {
        return;
    };
    let writes = |name: &str| {
        written
            .iter()
            .any(|w| w.fields.first().is_some_and(|f| f == name))
    };
    let mut unmet: Vec<Unmet> = Vec::new();
    for (keyword, by_field) in [("dependentRequired", false), ("dependentSchemas", true)] {
        let Some(Value::Object(map)) = schema.get(keyword) else {
            continue;
        };
        for (field, then) in map {
            if !writes(field) {
                continue;
            }
            let list = if by_field {
                then.get("required")
            } else {
                Some(then)
            };
            let at = if by_field {
                format!("{pointer}/{keyword}/{}/required", escape(field))
            } else {
                format!("{pointer}/{keyword}/{}", escape(field))
            };
            for needed in names(list) {
                if !writes(&needed) {
                    unmet.push(Unmet {
                        needed,
                        because: format!("`{}.{field}` is written", record.name),
                        pointer: at.clone(),
                    });
                }
            }
        }
    }
    if let Some(condition) = schema.get("if") {
        let conditions = names(condition.get("required"));
        let can_hold = conditions.iter().all(|name| writes(name));
        let always = conditions.is_empty() && condition.get("properties").is_none();
        let branches = [("then", can_hold), ("else", !always)];
        for (branch, applies) in branches {
            if !applies {
                continue;
            }
            for needed in names(schema.get(branch).and_then(|b| b.get("required"))) {
                if !writes(&needed) {
                    unmet.push(Unmet {
                        needed,
                        because: format!(
                            "the schema's `if` may {} for these records",
                            if branch == "then" { "hold" } else { "fail" }
                        ),
                        pointer: format!("{pointer}/{branch}/required"),
                    });
                }
            }
        }
    }
    for unmet in unmet {
        let display = format!("{}.{}", record.name, unmet.needed);
        let label = try_span_at(cx.sources, file, &unmet.pointer);
        cx.report(
            Diagnostic::new(
                Code::M315,
                record.name_span,
                format!("`{display}` is required when {}, but no rule writes it", unmet.because),
                format!("`{display}` is never written"),
            )
            .with_optional_label(label, format!("the PSA schema requires `{}` here (`{}`)", unmet.needed, unmet.pointer))
            .with_help(format!("add `{display} = ...` to a map block (or a select): the PSA refuses such records without it")),
        );
    }
}

/// A conditional requirement the rules leave unmet.
struct Unmet {
    needed: String,
    because: String,
    pointer: String,
}

/// The strings of a `required`-style list.
fn names(list: Option<&Value>) -> Vec<String> {
    match list {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A JSON pointer token for `key`.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
