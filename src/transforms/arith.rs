//! Arithmetic (`+ - * /`) and rounding, exact in decimal: `0.1 + 0.2` is `0.3`, `1.005 |
//! round(2)` is `1.01`. A number is read as the shortest decimal that names it (the digits a
//! JSON number was written with, for up to 17 significant digits); the result is exact to 28
//! significant digits and is stored as a whole number when it is one, else as the nearest
//! 64-bit float, which prints back as the same decimal up to 15 significant digits. Numbers
//! beyond the decimal range (about 7.9e28) are combined as floats; a result no float can hold
//! fails the operation, as does a division by zero.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::syntax::ast::ArithOp;
use crate::value::Val;

/// How `round` breaks ties and which way it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// `"half_up"` (the default): to the nearest; halves away from zero (2.5 -> 3, -2.5 -> -3).
    HalfUp,
    /// `"half_even"`: to the nearest; halves to the even neighbour (2.5 -> 2, 3.5 -> 4).
    HalfEven,
    /// `"half_down"`: to the nearest; halves toward zero (2.5 -> 2).
    HalfDown,
    /// `"up"`: away from zero (2.1 -> 3, -2.1 -> -3).
    Up,
    /// `"down"`: toward zero, truncating (2.9 -> 2, -2.9 -> -2).
    Down,
    /// `"ceiling"`: toward positive infinity (2.1 -> 3, -2.9 -> -2).
    Ceiling,
    /// `"floor"`: toward negative infinity (2.9 -> 2, -2.1 -> -3).
    Floor,
}

impl Rounding {
    /// Every mode as written in a mapping, in the order of the docs.
    pub const NAMES: &'static [&'static str] = &[
        "half_up",
        "half_even",
        "half_down",
        "up",
        "down",
        "ceiling",
        "floor",
    ];

    /// The mode named `name` in a mapping.
    pub fn named(name: &str) -> Option<Rounding> {
        Some(match name {
            "half_up" => Rounding::HalfUp,
            "half_even" => Rounding::HalfEven,
            "half_down" => Rounding::HalfDown,
            "up" => Rounding::Up,
            "down" => Rounding::Down,
            "ceiling" => Rounding::Ceiling,
            "floor" => Rounding::Floor,
            _ => return None,
        })
    }

    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::HalfDown => RoundingStrategy::MidpointTowardZero,
            Rounding::Up => RoundingStrategy::AwayFromZero,
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::Ceiling => RoundingStrategy::ToPositiveInfinity,
            Rounding::Floor => RoundingStrategy::ToNegativeInfinity,
        }
    }

    fn float(self, value: f64) -> f64 {
        match self {
            Rounding::HalfUp | Rounding::HalfDown | Rounding::HalfEven => value.round(),
            Rounding::Up => value.abs().ceil().copysign(value),
            Rounding::Down => value.trunc(),
            Rounding::Ceiling => value.ceil(),
            Rounding::Floor => value.floor(),
        }
    }
}

/// A number as an exact decimal, when it is a number inside the decimal range.
fn decimal(value: &Val<'_>) -> Option<Decimal> {
    match value {
        Val::Int(i) => Some(Decimal::from(*i)),
        Val::Num(f) => Decimal::from_str_exact(&f.to_string()).ok(),
        Val::Json(v) => v.as_u64().map(Decimal::from).or_else(|| {
            v.as_f64()
                .and_then(|f| Decimal::from_str_exact(&f.to_string()).ok())
        }),
        _ => None,
    }
}

/// A decimal result as a value: whole numbers as integers when they fit, others as the nearest
/// float.
fn from_decimal<'a>(value: Decimal) -> Result<Val<'a>, String> {
    let normal = value.normalize();
    if normal.scale() == 0
        && let Ok(whole) = i64::try_from(normal.mantissa())
    {
        return Ok(Val::Int(whole));
    }
    f64::from_str(&normal.to_string())
        .map(Val::Num)
        .map_err(|_| "cannot be written as a number".to_string())
}

fn float<'a>(value: f64) -> Result<Val<'a>, String> {
    if !value.is_finite() {
        return Err("is too large: the result is beyond any number a field can hold".to_string());
    }
    Ok(Val::from_owned_json(crate::value::number_to_json(value)))
}

/// Why an operation failed, and which operand the reason is about.
#[derive(Debug, Clone, PartialEq)]
pub struct ArithFailure {
    /// True when the reason is about the right operand (a zero divisor, a right side that is
    /// not a number).
    pub right: bool,
    /// Why, after "the value" ("is zero, and no number can be divided by zero").
    pub reason: String,
}

/// `left OP right`: absent when either side is absent; fails on a value that is not a number,
/// on a division by zero, and on a result too large for a float.
pub fn apply<'a>(op: ArithOp, left: &Val<'_>, right: &Val<'_>) -> Result<Val<'a>, ArithFailure> {
    if left.is_absent() || right.is_absent() {
        return Ok(Val::Absent);
    }
    for (side, is_right) in [(left, false), (right, true)] {
        if side.as_f64().is_none() {
            return Err(ArithFailure {
                right: is_right,
                reason: format!("is {}, not a number", side.kind().a()),
            });
        }
    }
    if op == ArithOp::Div && right.as_f64() == Some(0.0) {
        return Err(ArithFailure {
            right: true,
            reason: "is zero, and no number can be divided by zero".to_string(),
        });
    }
    if let (Some(a), Some(b)) = (decimal(left), decimal(right)) {
        let exact = match op {
            ArithOp::Add => a.checked_add(b),
            ArithOp::Sub => a.checked_sub(b),
            ArithOp::Mul => a.checked_mul(b),
            ArithOp::Div => a.checked_div(b),
        };
        if let Some(result) = exact {
            return from_decimal(result).map_err(|reason| ArithFailure {
                right: false,
                reason,
            });
        }
    }
    let (a, b) = (left.as_f64().unwrap_or(0.0), right.as_f64().unwrap_or(0.0));
    float(match op {
        ArithOp::Add => a + b,
        ArithOp::Sub => a - b,
        ArithOp::Mul => a * b,
        ArithOp::Div => a / b,
    })
    .map_err(|reason| ArithFailure {
        right: false,
        reason,
    })
}

/// `round(places, mode)`: exact in decimal; `round(0)` gives a whole number.
pub fn round<'a>(input: &Val<'_>, places: u32, mode: Rounding) -> Result<Val<'a>, String> {
    let Some(value) = input.as_f64() else {
        return Err(format!("is {}, not a number", input.kind().a()));
    };
    match decimal(input) {
        Some(exact) => from_decimal(exact.round_dp_with_strategy(places, mode.strategy())),
        // Beyond the decimal range a float has no digits after the point to round.
        None if value.abs() >= 1e28 => float(value),
        None => {
            let factor = 10f64.powi(places as i32);
            float(mode.float(value * factor) / factor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Val<'static> {
        Val::from_owned_json(serde_json::from_str(text).expect("a number"))
    }

    fn show(value: Result<Val<'_>, impl std::fmt::Debug>) -> String {
        match value {
            Ok(v) => v.to_json().to_string(),
            Err(reason) => format!("error: {reason:?}"),
        }
    }

    #[test]
    fn decimal_sums_are_exact() {
        assert_eq!(show(apply(ArithOp::Add, &num("0.1"), &num("0.2"))), "0.3");
        assert_eq!(
            show(apply(ArithOp::Sub, &num("48500.10"), &num("0.1"))),
            "48500"
        );
        assert_eq!(show(apply(ArithOp::Mul, &num("19.99"), &num("3"))), "59.97");
        assert_eq!(show(apply(ArithOp::Div, &num("10"), &num("4"))), "2.5");
        assert_eq!(show(apply(ArithOp::Div, &num("10"), &num("5"))), "2");
    }

    #[test]
    fn absence_division_by_zero_and_overflow() {
        assert_eq!(show(apply(ArithOp::Add, &Val::Absent, &num("1"))), "null");
        assert!(show(apply(ArithOp::Div, &num("1"), &num("0"))).contains("divided by zero"));
        assert!(show(apply(ArithOp::Mul, &num("1e300"), &num("1e300"))).contains("too large"));
        assert_eq!(
            show(apply(ArithOp::Mul, &num("1e200"), &num("2"))),
            "2e+200"
        );
        assert!(
            show(apply(ArithOp::Add, &Val::Str("1".into()), &num("1"))).contains("not a number")
        );
    }

    #[test]
    fn rounding_modes() {
        let r = |x: &str, places, mode| show(round(&num(x), places, mode));
        assert_eq!(r("1.005", 2, Rounding::HalfUp), "1.01");
        assert_eq!(r("2.5", 0, Rounding::HalfEven), "2");
        assert_eq!(r("3.5", 0, Rounding::HalfEven), "4");
        assert_eq!(r("-2.5", 0, Rounding::HalfUp), "-3");
        assert_eq!(r("2.5", 0, Rounding::HalfDown), "2");
        assert_eq!(r("-2.1", 0, Rounding::Up), "-3");
        assert_eq!(r("-2.9", 0, Rounding::Down), "-2");
        assert_eq!(r("-2.9", 0, Rounding::Ceiling), "-2");
        assert_eq!(r("-2.1", 0, Rounding::Floor), "-3");
        assert_eq!(r("9.999", 2, Rounding::HalfUp), "10");
        assert_eq!(r("1e300", 2, Rounding::HalfUp), "1e+300");
    }
}
