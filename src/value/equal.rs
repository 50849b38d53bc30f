//! Equality of JSON values as mapctl compares them: numbers by value (`1` equals `1.0`),
//! everything else exactly. Table keys, `in [...]` lists, array searches and `enum` checks all
//! use it, in the checker and at run time alike.

use serde_json::Value;

/// True when `a` and `b` are the same value; numbers compare by value.
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
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
    }
}
