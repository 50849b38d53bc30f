//! Vendor envelopes: input documents that are pages of an API's answer (`{"results": [...]}`,
//! `{"data": [...]}`, `{"response": {...}}`), read as the records at the JSON pointer the mapping's
//! primary source names (`source deal = schema "..." in "/results"`).
//!
//! Each input item (a single document, an array element or an NDJSON line) is one page. At the
//! pointer, an array's elements are the records, numbered like array elements (`element N`, from
//! 0, across the pages of one input), and an object is one record at the page's own position. A
//! page with nothing there, or something else, is one item with an [`ItemError::Envelope`] (M522);
//! a page that is not JSON keeps its own error.

use serde_json::Value;

use super::input::{Flow, InputItem, ItemError, Payload, Position};

/// Opens the page `item` at `pointer`, calling `each` with every record in it, in order;
/// `next_index` numbers array records across the pages of one input.
pub fn open(
    item: InputItem<'_>,
    pointer: &str,
    next_index: &mut usize,
    each: &mut impl FnMut(InputItem<'static>) -> Flow,
) -> Flow {
    let position = item.position;
    let page = match item.value.and_then(Payload::into_value) {
        Ok(page) => page,
        Err(error) => return each(failed(position, error)),
    };
    let Value::Object(mut members) = page else {
        return each(failed(
            position,
            ItemError::Envelope(format!(
                "the page is {}, not an object holding the records at `{pointer}`",
                describe(&page)
            )),
        ));
    };
    let found = take_at(&mut members, pointer);
    match found {
        Some(Value::Array(records)) => {
            for record in records {
                let at = Position::Index(*next_index);
                *next_index += 1;
                let item = InputItem {
                    position: at,
                    value: Ok(Payload::Parsed(record)),
                };
                if each(item).is_break() {
                    return Flow::Break(());
                }
            }
            Flow::Continue(())
        }
        Some(record @ Value::Object(_)) => each(InputItem {
            position,
            value: Ok(Payload::Parsed(record)),
        }),
        Some(other) => each(failed(
            position,
            ItemError::Envelope(format!(
                "`{pointer}` holds {}, not a record or an array of records",
                describe(&other)
            )),
        )),
        None => {
            let keys: Vec<String> = members.keys().take(8).map(|k| format!("`{k}`")).collect();
            let has = if keys.is_empty() {
                "it has no members".to_string()
            } else {
                format!("it has {}", keys.join(", "))
            };
            each(failed(
                position,
                ItemError::Envelope(format!(
                    "the page has nothing at `{pointer}`, where the mapping expects its records ({has})"
                )),
            ))
        }
    }
}

/// Hands `each` the deals of one input item: the item itself, or, when the mapping declares a
/// vendor envelope (`pointer`), the records of the page ([`open`]).
pub fn each_deal(
    pointer: Option<&str>,
    next_index: &mut usize,
    item: InputItem<'_>,
    each: &mut impl FnMut(InputItem<'_>) -> Flow,
) -> Flow {
    match pointer {
        None => each(item),
        Some(pointer) => open(item, pointer, next_index, &mut |record| each(record)),
    }
}

/// An item that failed, at `position`.
fn failed(position: Position, error: ItemError) -> InputItem<'static> {
    InputItem {
        position,
        value: Err(error),
    }
}

/// Takes the value at a JSON pointer (RFC 6901) out of an object's members.
fn take_at(members: &mut serde_json::Map<String, Value>, pointer: &str) -> Option<Value> {
    let mut tokens = pointer.split('/').skip(1).map(unescape);
    let first = tokens.next()?;
    let mut value = members.remove(&first)?;
    for token in tokens {
        value = match value {
            Value::Object(mut inner) => inner.remove(&token)?,
            Value::Array(mut items) => {
                let index: usize = token.parse().ok()?;
                (index < items.len()).then(|| items.swap_remove(index))?
            }
            _ => return None,
        };
    }
    Some(value)
}

/// A pointer token with `~1` and `~0` undone.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// "an array", "a string", ... for messages.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(page: &str, pointer: &str) -> Vec<(Position, Result<Value, String>)> {
        let mut out = Vec::new();
        let mut index = 0;
        let item = InputItem {
            position: Position::Line(3),
            value: Ok(Payload::Text(page.as_bytes())),
        };
        let _ = open(item, pointer, &mut index, &mut |item| {
            let value = item
                .value
                .and_then(Payload::into_value)
                .map_err(|e| super::super::input::describe_error(&e));
            out.push((item.position, value));
            Flow::Continue(())
        });
        out
    }

    #[test]
    fn pages_give_their_records() {
        let got = records(
            r#"{"results": [{"id": 1}, {"id": 2}], "paging": {}}"#,
            "/results",
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, Position::Index(1));
        assert_eq!(got[1].1, Ok(serde_json::json!({"id": 2})));
        let one = records(r#"{"response": {"id": 7}}"#, "/response");
        assert_eq!(
            one,
            vec![(Position::Line(3), Ok(serde_json::json!({"id": 7})))]
        );
        let deep = records(r#"{"a/b": {"x": [{"id": 1}]}}"#, "/a~1b/x");
        assert_eq!(deep.len(), 1);
    }

    #[test]
    fn a_page_without_records_is_one_error_naming_what_it_has() {
        let got = records(r#"{"message": "rate limit"}"#, "/results");
        assert_eq!(got.len(), 1);
        let error = got[0].1.clone().unwrap_err();
        assert!(
            error.contains("nothing at `/results`") && error.contains("`message`"),
            "{error}"
        );
        let got = records(r#"{"results": "none"}"#, "/results");
        assert!(got[0].1.clone().unwrap_err().contains("a string"));
        let got = records("[1]", "/results");
        assert!(got[0].1.clone().unwrap_err().contains("an array"));
        let got = records("{", "/results");
        assert!(got[0].1.clone().unwrap_err().contains("not valid JSON"));
    }
}
