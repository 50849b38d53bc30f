//! Every regular expression a loaded schema holds (`pattern` values, `patternProperties` keys)
//! compiled at check time with the limits apply compiles them with (`transforms::build_regex`:
//! the `regex` crate, linear time, a compiled-size cap). A pattern that does not compile would
//! stop apply (its validator cannot be built), so it is M107 here, pointed at in the schema file
//! with its JSON pointer.

use serde_json::Value;

use super::context::Context;
use crate::diag::{Code, Diagnostic};
use crate::schema::load::try_span_at;
use crate::transforms::build_regex;

/// Keywords whose value is an object of subschemas by name.
const SCHEMA_MAPS: &[&str] = &["properties", "$defs", "definitions", "dependentSchemas"];
/// Keywords whose value is data, never a schema.
const DATA: &[&str] = &["enum", "const", "examples", "default"];

/// A value to look at: its JSON pointer, and whether it is a schema (else a map of schemas).
struct Visit<'v> {
    value: &'v Value,
    pointer: String,
    is_schema: bool,
}

/// M107 for every pattern of every loaded schema document that does not compile.
pub(crate) fn pass(cx: &mut Context<'_>) {
    let documents: Vec<_> = cx
        .schemas
        .docs
        .iter()
        .map(|doc| (doc.file, doc.path.clone(), doc.value.clone()))
        .collect();
    for (file, path, value) in documents {
        let mut found = Vec::new();
        walk(&value, &mut found);
        for (pointer, pattern, reason) in found {
            let Some(span) = try_span_at(cx.sources, file, &pointer) else {
                continue;
            };
            let name = crate::io::files::display_name(&path);
            cx.report(
                Diagnostic::new(
                    Code::M107,
                    span,
                    format!("the schema's pattern {pattern:?} at `{pointer}` does not compile: {}", first_line(&reason)),
                    "this pattern",
                )
                .with_help(format!("fix the pattern in {name} (`regex` crate syntax: no look-around or back-references; the compiled form must stay small); apply cannot validate records against it")),
            );
        }
    }
}

/// Collects (pointer, pattern, reason) for each pattern under `root` that does not compile.
fn walk(root: &Value, found: &mut Vec<(String, String, String)>) {
    let mut stack = vec![Visit {
        value: root,
        pointer: String::new(),
        is_schema: true,
    }];
    while let Some(visit) = stack.pop() {
        let Value::Object(map) = visit.value else {
            if let Value::Array(items) = visit.value {
                for (index, item) in items.iter().enumerate() {
                    stack.push(Visit {
                        value: item,
                        pointer: format!("{}/{index}", visit.pointer),
                        is_schema: true,
                    });
                }
            }
            continue;
        };
        for (key, value) in map {
            let pointer = format!("{}/{}", visit.pointer, escape(key));
            if visit.is_schema {
                if DATA.contains(&key.as_str()) {
                    continue;
                }
                if key == "pattern"
                    && let Value::String(pattern) = value
                {
                    if let Err(reason) = build_regex(pattern) {
                        found.push((pointer, pattern.clone(), reason));
                    }
                    continue;
                }
                if key == "patternProperties"
                    && let Value::Object(by_pattern) = value
                {
                    for (pattern, schema) in by_pattern {
                        let at = format!("{pointer}/{}", escape(pattern));
                        if let Err(reason) = build_regex(pattern) {
                            found.push((at.clone(), pattern.clone(), reason));
                        }
                        stack.push(Visit {
                            value: schema,
                            pointer: at,
                            is_schema: true,
                        });
                    }
                    continue;
                }
            }
            stack.push(Visit {
                value,
                pointer,
                is_schema: !(visit.is_schema && SCHEMA_MAPS.contains(&key.as_str())),
            });
        }
    }
}

/// A JSON pointer token for `key`.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn first_line(reason: &str) -> String {
    let lines: Vec<&str> = reason
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.last().copied().unwrap_or(reason).to_string()
}
