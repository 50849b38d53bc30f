//! Numbers as mapctl holds them: exact. A JSON number keeps the digits it was written with
//! (serde_json's `arbitrary_precision`), numbers compare by value without rounding however many
//! digits they have, and a number with at most 28 significant digits is also a [`Decimal`] for
//! arithmetic and rounding. Nothing here goes through a binary float.

use std::cmp::Ordering;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Number;

/// The value of `a` against the value of `b`, exactly (`1` equals `1.0` and `1e0`; a
/// 23-digit amount is compared digit by digit).
pub fn compare(a: &Number, b: &Number) -> Ordering {
    compare_text(a.as_str(), b.as_str())
}

/// True when `a` and `b` are the same number by value.
pub fn same(a: &Number, b: &Number) -> bool {
    a.as_str() == b.as_str() || compare(a, b) == Ordering::Equal
}

/// The number as an exact decimal; `None` when a decimal cannot hold it without rounding
/// (more than 28 significant digits, or a magnitude beyond about 7.9e28).
pub fn to_decimal(number: &Number) -> Option<Decimal> {
    decimal_of_text(number.as_str())
}

/// A text that names the number's value and nothing else: equal numbers give equal texts
/// (`48500.00`, `48500` and `4.85e4` all give `0.485e5`), for keys.
pub fn canonical(number: &Number) -> String {
    let parts = Parts::of(number.as_str()).unwrap_or(Parts::ZERO);
    if parts.is_zero() {
        return "0".to_string();
    }
    let sign = if parts.negative { "-" } else { "" };
    format!("{sign}0.{}{}e{}", parts.head, parts.tail, parts.exponent)
}

/// The exact decimal a JSON number's text stands for, keeping its scale (`48500.00` has two
/// places); `None` when it does not fit a decimal exactly.
pub fn decimal_of_text(text: &str) -> Option<Decimal> {
    if !text.bytes().any(|b| b == b'e' || b == b'E') {
        return Decimal::from_str_exact(text).ok();
    }
    // With an exponent: the same digits written out (`1.5e3` is `1500`, `5e-3` is `0.005`).
    let parts = Parts::of(text)?;
    if parts.is_zero() {
        return Some(Decimal::ZERO);
    }
    if !(-30..=30).contains(&parts.exponent) {
        return None;
    }
    let digits = format!("{}{}", parts.head, parts.tail);
    let point = parts.exponent;
    let written = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (whole, fraction) = digits.split_at(point as usize);
        format!("{whole}.{fraction}")
    };
    let sign = if parts.negative { "-" } else { "" };
    Decimal::from_str_exact(&format!("{sign}{written}")).ok()
}

/// A decimal as a JSON number, with the digits the decimal holds (its scale kept: `48500.00`
/// stays `48500.00`).
pub fn from_decimal(value: Decimal) -> Number {
    let text = value.to_string();
    // A decimal's text is always a valid JSON number (digits, an optional point, a sign).
    Number::from_str(&text).unwrap_or_else(|_| Number::from(0))
}

/// A float as a JSON number in its shortest form, whole values within ±2^53 as integers
/// (`1000.0` is `1000`); `None` for NaN and infinities.
pub fn from_float(value: f64) -> Option<Number> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if value.fract() == 0.0 && value.abs() <= EXACT {
        return Some(Number::from(value as i64));
    }
    Number::from_f64(value)
}

/// Numbers a YAML reader gave as floats (YAML holds no digits beyond a float's), written in
/// their shortest form: `48500.0` as `48500`, as a JSON reader would have given them.
pub fn tidy_floats(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) if number.as_str().contains(['.', 'e', 'E']) => {
            if let Some(tidy) = number.as_f64().and_then(from_float) {
                *number = tidy;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(tidy_floats),
        serde_json::Value::Object(members) => members.values_mut().for_each(tidy_floats),
        _ => {}
    }
}

/// A JSON value as YAML. A number is written as the nearest float unless it is a 64-bit
/// integer (YAML has no exact decimals; a test file that needs more digits gives its deal or
/// output in a JSON file).
pub fn to_yaml(value: &serde_json::Value) -> serde_yaml::Value {
    use serde_json::Value as J;
    use serde_yaml::Value as Y;
    match value {
        J::Null => Y::Null,
        J::Bool(b) => Y::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Y::from(i),
            (_, Some(u)) => Y::from(u),
            _ => Y::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Y::String(s.clone()),
        J::Array(items) => Y::Sequence(items.iter().map(to_yaml).collect()),
        J::Object(members) => Y::Mapping(
            members
                .iter()
                .map(|(k, v)| (Y::String(k.clone()), to_yaml(v)))
                .collect(),
        ),
    }
}

/// A decimal that is a whole number in the 64-bit range (`48500.00`), as that integer; `None`
/// for a fraction or a larger number.
pub fn whole_i64(value: Decimal) -> Option<i64> {
    use rust_decimal::prelude::ToPrimitive;
    if value.fract().is_zero() {
        value.to_i64()
    } else {
        None
    }
}

/// A number written as text the way ids are (`"42"`, `" 0042 "`, `"+42"`, `"4.2e1"`), for
/// comparing keys across types; `None` for anything else (`"NaN"`, `"inf"`, `"1,000"`).
pub fn parse_loose(text: &str) -> Option<Number> {
    let text = text.trim();
    let (sign, unsigned) = match text.as_bytes().first()? {
        b'-' => ("-", &text[1..]),
        b'+' => ("", &text[1..]),
        _ => ("", text),
    };
    let integer_digits = unsigned.len()
        - unsigned
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    let (integer, rest) = unsigned.split_at(integer_digits);
    if integer.is_empty() {
        return None;
    }
    let integer = match integer.trim_start_matches('0') {
        "" => "0",
        digits => digits,
    };
    Number::from_str(&format!("{sign}{integer}{rest}")).ok()
}

/// The whole number a JSON number is, when it is one in the 64-bit range (`48500.00` is
/// 48500; `1e3` is 1000).
pub fn to_i64(number: &Number) -> Option<i64> {
    if let Some(whole) = number.as_i64() {
        return Some(whole);
    }
    let parts = Parts::of(number.as_str())?;
    if parts.is_zero() {
        return Some(0);
    }
    let places = usize::try_from(parts.exponent).ok()?;
    if places < parts.digit_count() || places > 19 {
        return None;
    }
    let mut text = String::with_capacity(places + 1);
    if parts.negative {
        text.push('-');
    }
    text.push_str(parts.head);
    text.push_str(parts.tail);
    text.extend(std::iter::repeat_n('0', places - parts.digit_count()));
    text.parse().ok()
}

/// True when the number has no fractional part (`48500.00` is whole; `0.5` is not).
pub fn is_whole(number: &Number) -> bool {
    match Parts::of(number.as_str()) {
        Some(parts) => parts.is_zero() || parts.exponent >= parts.digit_count() as i64,
        None => false,
    }
}

/// True when the number is zero (`0`, `0.00`, `-0e5`).
pub fn is_zero(number: &Number) -> bool {
    Parts::of(number.as_str()).is_some_and(|parts| parts.is_zero())
}

/// A JSON number's text taken apart: the value is `(-1 if negative) × 0.D × 10^exponent`,
/// where the significant digits D are `head` then `tail`, with no leading or trailing zeros
/// (both empty for zero).
struct Parts<'a> {
    negative: bool,
    head: &'a str,
    tail: &'a str,
    exponent: i64,
}

impl<'a> Parts<'a> {
    const ZERO: Parts<'static> = Parts {
        negative: false,
        head: "",
        tail: "",
        exponent: 0,
    };

    /// Takes a JSON number's text apart; `None` when it is not one.
    fn of(text: &'a str) -> Option<Parts<'a>> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], parse_exponent(&unsigned[at + 1..])?),
            None => (unsigned, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() || !is_digits(whole) || !is_digits(fraction) {
            return None;
        }
        let significant_whole = whole.trim_start_matches('0');
        let (head, tail, point) = if significant_whole.is_empty() {
            let lead = fraction.len() - fraction.trim_start_matches('0').len();
            (fraction[lead..].trim_end_matches('0'), "", -(lead as i64))
        } else {
            let point = significant_whole.len() as i64;
            match fraction.trim_end_matches('0') {
                "" => (significant_whole.trim_end_matches('0'), "", point),
                tail => (significant_whole, tail, point),
            }
        };
        if head.is_empty() {
            return Some(Parts::ZERO);
        }
        Some(Parts {
            negative,
            head,
            tail,
            exponent: point.saturating_add(exponent),
        })
    }

    fn is_zero(&self) -> bool {
        self.head.is_empty()
    }

    /// How many significant digits there are.
    fn digit_count(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// The `index`th significant digit, or `b'0'` past the end.
    fn digit_at(&self, index: usize) -> u8 {
        let (head, tail) = (self.head.as_bytes(), self.tail.as_bytes());
        match index.checked_sub(head.len()) {
            None => head[index],
            Some(rest) => tail.get(rest).copied().unwrap_or(b'0'),
        }
    }
}

/// An exponent's text (`+5`, `-12`, `7`), saturated far beyond any float's range.
fn parse_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !is_digits(digits) {
        return None;
    }
    let magnitude = digits
        .trim_start_matches('0')
        .parse::<i64>()
        .unwrap_or(if digits.trim_start_matches('0').is_empty() {
            0
        } else {
            i64::MAX / 4
        })
        .min(i64::MAX / 4);
    Some(if negative { -magnitude } else { magnitude })
}

fn is_digits(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
}

/// Exact comparison of two JSON number texts by value. Text that is not a number (which a
/// parsed `Number` never holds) sorts as zero.
fn compare_text(a: &str, b: &str) -> Ordering {
    let x = Parts::of(a).unwrap_or(Parts::ZERO);
    let y = Parts::of(b).unwrap_or(Parts::ZERO);
    let sign = |p: &Parts| match (p.is_zero(), p.negative) {
        (true, _) => 0,
        (false, true) => -1,
        (false, false) => 1,
    };
    match sign(&x).cmp(&sign(&y)) {
        Ordering::Equal if x.is_zero() => Ordering::Equal,
        Ordering::Equal if x.negative => compare_magnitude(&x, &y).reverse(),
        Ordering::Equal => compare_magnitude(&x, &y),
        other => other,
    }
}

/// Compares the absolute values of two nonzero numbers.
fn compare_magnitude(x: &Parts, y: &Parts) -> Ordering {
    x.exponent.cmp(&y.exponent).then_with(|| {
        let longest = x.digit_count().max(y.digit_count());
        (0..longest)
            .map(|i| x.digit_at(i).cmp(&y.digit_at(i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::from_str(text).expect("a JSON number")
    }

    #[test]
    fn numbers_compare_by_value_exactly() {
        assert!(same(&n("1"), &n("1.0")));
        assert!(same(&n("1e0"), &n("1.000")));
        assert!(same(&n("48500.00"), &n("48500")));
        assert!(same(&n("0"), &n("-0.0")));
        assert!(same(&n("0.0025"), &n("25e-4")));
        assert!(same(&n("120.5"), &n("1.205e2")));
        let big = n("12345678901234567890123");
        let next = n("12345678901234567890124");
        assert_eq!(compare(&big, &next), Ordering::Less);
        assert!(!same(&big, &n("1.2345678901234568e22")));
        assert_eq!(compare(&n("-2"), &n("-10")), Ordering::Greater);
        assert_eq!(compare(&n("-0.5"), &n("0")), Ordering::Less);
        assert_eq!(compare(&n("0.1"), &n("0.09")), Ordering::Greater);
        assert_eq!(compare(&n("10.01"), &n("10.1")), Ordering::Less);
        assert_eq!(compare(&n("1e400"), &n("9e399")), Ordering::Greater);
    }

    #[test]
    fn decimals_keep_their_scale_and_refuse_what_they_would_round() {
        assert_eq!(
            to_decimal(&n("48500.00")).map(|d| d.to_string()),
            Some("48500.00".into())
        );
        assert_eq!(from_decimal(Decimal::new(4850000, 2)).as_str(), "48500.00");
        assert_eq!(
            to_decimal(&n("1.5e3")).map(|d| d.to_string()),
            Some("1500".into())
        );
        assert!(to_decimal(&n("1234567890123456789012345678901")).is_none());
        assert!(to_decimal(&n("1e40")).is_none());
        assert_eq!(
            to_decimal(&n("0.5e29")).map(|d| d.to_string()),
            Some("50000000000000000000000000000".into())
        );
        assert_eq!(
            to_decimal(&n("-25e-4")).map(|d| d.to_string()),
            Some("-0.0025".into())
        );
        assert_eq!(
            to_decimal(&n("100e-30")).map(|d| d.to_string()),
            Some("0.0000000000000000000000000001".into())
        );
        assert!(to_decimal(&n("12345678901234567890123")).is_some());
    }

    #[test]
    fn ids_as_text_read_as_numbers() {
        for (text, number) in [
            ("42", "42"),
            (" 0042 ", "42"),
            ("+42", "42"),
            ("-0.50", "-0.50"),
        ] {
            assert_eq!(
                parse_loose(text).map(|n| n.to_string()).as_deref(),
                Some(number)
            );
        }
        for junk in ["", "NaN", "inf", "1,000", "4 2", "-", ".5", "0x1F"] {
            assert_eq!(parse_loose(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn canonical_texts_name_values() {
        assert_eq!(canonical(&n("48500.00")), canonical(&n("4.85e4")));
        assert_eq!(canonical(&n("48500")), "0.485e5");
        assert_eq!(canonical(&n("-0.0")), "0");
        assert_ne!(
            canonical(&n("12345678901234567890123")),
            canonical(&n("12345678901234567890124"))
        );
    }

    #[test]
    fn whole_numbers_are_found_in_any_notation() {
        assert_eq!(to_i64(&n("48500.00")), Some(48500));
        assert_eq!(to_i64(&n("1e3")), Some(1000));
        assert_eq!(to_i64(&n("-0.0")), Some(0));
        assert_eq!(to_i64(&n("0.5")), None);
        assert_eq!(to_i64(&n("1e30")), None);
        assert!(is_whole(&n("12345678901234567890123")));
        assert!(!is_whole(&n("2.5")));
        assert!(is_zero(&n("0.000")));
    }
}
