//! Arithmetic (`+ - * /`) and rounding, exact in decimal: `0.1 + 0.2` is `0.3`, `1.005 |
//! round(2)` is `1.01`. Numbers are read exactly (the digits a deal or a mapping wrote, up to 28
//! significant digits); sums, differences and products are exact, a quotient is exact to 28
//! significant digits. A result is written in its shortest form (`48500.00 * 1` is `48500`).
//! An operand with more significant digits than a decimal holds, or a result beyond it (about
//! 7.9e28), fails the operation naming it rather than being rounded; so does a division by zero.

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
}

/// The operand as a decimal; fails naming what it is when it is not a number a decimal holds.
fn operand(value: &Val<'_>) -> Result<Decimal, String> {
    match value.as_decimal() {
        Some(exact) => Ok(exact),
        None if value.is_number() => Err(
            "has more than 28 significant digits (or is beyond about 7.9e28), more than arithmetic holds exactly"
                .to_string(),
        ),
        None => Err(format!("is {}, not a number", value.kind().a())),
    }
}

/// A decimal result as a value, in its shortest form: whole numbers as integers when they fit.
fn from_decimal<'a>(value: Decimal) -> Val<'a> {
    let normal = value.normalize();
    if normal.scale() == 0
        && let Ok(whole) = i64::try_from(normal.mantissa())
    {
        return Val::Int(whole);
    }
    Val::Num(normal)
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

/// `left OP right`: absent when either side is absent; fails on a value that is not a number a
/// decimal holds, on a division by zero, and on a result beyond the decimal range.
pub fn apply<'a>(op: ArithOp, left: &Val<'_>, right: &Val<'_>) -> Result<Val<'a>, ArithFailure> {
    if left.is_absent() || right.is_absent() {
        return Ok(Val::Absent);
    }
    let a = operand(left).map_err(|reason| ArithFailure {
        right: false,
        reason,
    })?;
    let b = operand(right).map_err(|reason| ArithFailure {
        right: true,
        reason,
    })?;
    if op == ArithOp::Div && b.is_zero() {
        return Err(ArithFailure {
            right: true,
            reason: "is zero, and no number can be divided by zero".to_string(),
        });
    }
    let exact = match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Sub => a.checked_sub(b),
        ArithOp::Mul => a.checked_mul(b),
        ArithOp::Div => a.checked_div(b),
    };
    exact.map(from_decimal).ok_or_else(|| ArithFailure {
        right: false,
        reason:
            "is too large: the result is beyond about 7.9e28, the most arithmetic holds exactly"
                .to_string(),
    })
}

/// `round(places, mode)`: exact in decimal; `round(0)` gives a whole number. A whole number
/// with more digits than a decimal holds is already round and is kept as it is.
pub fn round<'a>(input: &Val<'_>, places: u32, mode: Rounding) -> Result<Val<'a>, String> {
    if let Val::Json(json) = input
        && json.as_number().is_some_and(crate::value::number::is_whole)
    {
        return Ok(Val::Json(std::borrow::Cow::Owned(json.as_ref().clone())));
    }
    let exact = operand(input)?;
    Ok(from_decimal(
        exact.round_dp_with_strategy(places, mode.strategy()),
    ))
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
        assert!(show(apply(ArithOp::Mul, &num("1e20"), &num("1e20"))).contains("too large"));
        // Nothing is rounded silently: an operand a decimal cannot hold fails, naming it.
        let long = show(apply(ArithOp::Mul, &num("1e200"), &num("2")));
        assert!(
            long.contains("right: false") && long.contains("28 significant"),
            "{long}"
        );
        assert_eq!(
            show(apply(
                ArithOp::Add,
                &num("12345678901234567890123.45"),
                &num("0.05")
            )),
            "12345678901234567890123.5"
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
        assert_eq!(r("48500.00", 2, Rounding::HalfUp), "48500");
    }
}
