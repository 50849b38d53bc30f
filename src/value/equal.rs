//! Equality of JSON values as mapctl compares them: numbers by value, exactly (`1` equals
//! `1.0`; two 23-digit amounts are equal only when every digit is), everything else exactly. Table keys, `in [...]` lists, array searches and `enum` checks all
//! use it, in the checker and at run time alike.

use serde_json::{Number, Value};

/// True when `a` and `b` are the same value; numbers compare by value.
pub fn json_equal(a: &Value, b: &Value) -> bool {
    equal_with(a, b, super::number::same)
}

/// Structural equality at any depth, with numbers compared by `numbers` (the one walk behind
/// [`json_equal`] and the reader's `enum`/`const` check, which compares as the validator does).
pub fn equal_with(a: &Value, b: &Value, numbers: fn(&Number, &Number) -> bool) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equal_with(v, w, numbers))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, v)| y.get(key).is_some_and(|w| equal_with(v, w, numbers)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value_and_the_rest_exactly() {
        assert!(json_equal(&json!(1), &json!(1.0)));
        assert!(!json_equal(&json!(1), &json!("1")));
        assert!(json_equal(&json!({"a": [1]}), &json!({"a": [1]})));
        assert!(!json_equal(&json!(true), &json!(1)));
        let long = |text: &str| serde_json::from_str::<Value>(text).expect("a number");
        assert!(!json_equal(
            &long("12345678901234567890123"),
            &long("12345678901234567890124")
        ));
        assert!(json_equal(&long("48500.00"), &long("48500")));
        assert!(json_equal(
            &long(r#"{"rate":[150.00]}"#),
            &long(r#"{"rate":[150]}"#)
        ));
        assert!(!json_equal(&long(r#"{"a":1}"#), &long(r#"{"a":1,"b":2}"#)));
    }
}
