//! Readable differences between expected and actual JSON, one line per differing path.

use serde_json::Value;

use crate::value::json_equal;

/// Lines describing how `actual` differs from `expected` (exact comparison).
pub fn exact(expected: &Value, actual: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    walk(expected, actual, "", false, &mut lines);
    lines
}

/// Lines describing how `actual` fails to include `expected` (objects compared key by key, only
/// the keys `expected` names).
pub fn subset(expected: &Value, actual: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    walk(expected, actual, "", true, &mut lines);
    lines
}

fn walk(expected: &Value, actual: &Value, path: &str, partial: bool, lines: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for (key, value) in want {
                let child = format!("{path}/{key}");
                match got.get(key) {
                    Some(found) => walk(value, found, &child, partial, lines),
                    None => lines.push(format!("{child}: missing (expected {})", short(value))),
                }
            }
            if !partial {
                for (key, value) in got {
                    if !want.contains_key(key) {
                        lines.push(format!("{path}/{key}: unexpected {}", short(value)));
                    }
                }
            }
        }
        (Value::Array(want), Value::Array(got)) if want.len() == got.len() => {
            for (index, (w, g)) in want.iter().zip(got).enumerate() {
                walk(w, g, &format!("{path}/{index}"), partial, lines);
            }
        }
        _ if json_equal(expected, actual) => {}
        _ => lines.push(format!(
            "{}: expected {}, got {}",
            if path.is_empty() { "/" } else { path },
            short(expected),
            short(actual)
        )),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        format!("{}...", text.chars().take(77).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_differing_path() {
        let want = json!({"budget": 48500, "client": {"name": "Acme"}, "title": "x"});
        let got = json!({"budget": 4850.0, "client": {"name": "Acme"}, "extra": 1});
        assert_eq!(
            exact(&want, &got),
            vec![
                "/budget: expected 48500, got 4850.0",
                "/title: missing (expected \"x\")",
                "/extra: unexpected 1"
            ]
        );
        assert_eq!(
            subset(&json!({"client": {"name": "Acme"}}), &got),
            Vec::<String>::new()
        );
        assert!(exact(&json!({"n": 1}), &json!({"n": 1.0})).is_empty());
    }
}
