//! What the checker knows about the size of a number: a lower and an upper bound, each with
//! whether the limit itself is excluded. Bounds come from the schema (`minimum`,
//! `exclusiveMaximum` ...), from constants and from `require` rules, and flow through arithmetic
//! (interval arithmetic: `amount >= 0` proves `amount * 0.9 >= 0`) and rounding. A bound is
//! only ever made weaker than the truth, never stronger: where exclusivity cannot be kept, the
//! bound becomes inclusive.

use serde_json::Value;

use crate::syntax::ast::ArithOp;

/// A limit and whether it is excluded.
pub(crate) type Limit = (f64, bool);

/// Known bounds of a number (`None`: unbounded on that side).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Range {
    /// The lower bound.
    pub min: Option<Limit>,
    /// The upper bound.
    pub max: Option<Limit>,
}

impl Range {
    /// The bounds a schema declares.
    pub fn of_schema(min: Option<Limit>, max: Option<Limit>) -> Range {
        Range { min, max }
    }

    /// The range of a constant (nothing known for anything but a number).
    pub fn of_constant(value: &Value) -> Range {
        match value.as_f64() {
            Some(n) => Range {
                min: Some((n, false)),
                max: Some((n, false)),
            },
            None => Range::default(),
        }
    }

    /// The tighter of two facts about the same value.
    pub fn and(self, other: Range) -> Range {
        let tighter =
            |a: Option<Limit>, b: Option<Limit>, first_is_tighter: fn(&Limit, &Limit) -> bool| {
                match (a, b) {
                    (Some(x), Some(y)) => Some(if first_is_tighter(&x, &y) { x } else { y }),
                    (x, None) => x,
                    (None, y) => y,
                }
            };
        Range {
            min: tighter(self.min, other.min, |x, y| x.0 > y.0 || (x.0 == y.0 && x.1)),
            max: tighter(self.max, other.max, |x, y| x.0 < y.0 || (x.0 == y.0 && x.1)),
        }
    }

    /// What either of two values may be (for `??`).
    pub fn or(self, other: Range) -> Range {
        let looser = |a: Option<Limit>, b: Option<Limit>, lower: bool| match (a, b) {
            (Some(x), Some(y)) if x.0 == y.0 => Some((x.0, x.1 && y.1)),
            (Some(x), Some(y)) => Some(if (x.0 < y.0) == lower { x } else { y }),
            _ => None,
        };
        Range {
            min: looser(self.min, other.min, true),
            max: looser(self.max, other.max, false),
        }
    }

    /// True when zero is outside the range.
    pub fn excludes_zero(self) -> bool {
        let above = self
            .min
            .is_some_and(|(m, excl)| m > 0.0 || (m == 0.0 && excl));
        let below = self
            .max
            .is_some_and(|(m, excl)| m < 0.0 || (m == 0.0 && excl));
        above || below
    }

    /// The range after rounding to any number of places, in any mode: at least the floor of
    /// the lower bound, at most the ceiling of the upper.
    pub fn rounded(self) -> Range {
        Range {
            min: self.min.map(|(m, _)| (m.floor(), false)),
            max: self.max.map(|(m, _)| (m.ceil(), false)),
        }
    }

    /// The range of `self OP other`.
    pub fn combine(self, op: ArithOp, other: Range) -> Range {
        match op {
            ArithOp::Add => Range {
                min: add(self.min, other.min),
                max: add(self.max, other.max),
            },
            ArithOp::Sub => Range {
                min: add(self.min, other.max.map(|(m, e)| (-m, e))),
                max: add(self.max, other.min.map(|(m, e)| (-m, e))),
            },
            ArithOp::Mul => corners(self, other),
            ArithOp::Div if other.excludes_zero() => corners(self, other.reciprocal()),
            ArithOp::Div => Range::default(),
        }
    }

    /// `1 / x` for a range that excludes zero (inclusive bounds; zero where a side is
    /// unbounded).
    fn reciprocal(self) -> Range {
        let (low, high) = self.as_floats();
        let (a, b) = (1.0 / high, 1.0 / low);
        Range::from_floats(a.min(b), a.max(b))
    }

    fn as_floats(self) -> (f64, f64) {
        (
            self.min.map_or(f64::NEG_INFINITY, |(m, _)| m),
            self.max.map_or(f64::INFINITY, |(m, _)| m),
        )
    }

    fn from_floats(low: f64, high: f64) -> Range {
        let finite = |x: f64| x.is_finite().then_some((x, false));
        Range {
            min: if low.is_nan() { None } else { finite(low) },
            max: if high.is_nan() { None } else { finite(high) },
        }
    }
}

/// A number known as `scale × BASE + offset`, where BASE is one value (named by the text it is
/// written with; the same text reads the same value of the same deal) whose range is known.
/// Interval arithmetic forgets that both sides of `x - x * 0.1` are the same `x` (from `x >= 0`
/// it only knows the difference is unbounded); as `0.9 × x` it is at least 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Affine {
    /// The value it is computed from, as written; `None` for a constant.
    pub base: Option<String>,
    /// What is known of the base.
    pub base_range: Range,
    /// The factor on the base.
    pub scale: f64,
    /// The constant added.
    pub offset: f64,
}

impl Affine {
    /// A constant.
    pub fn constant(value: f64) -> Affine {
        Affine {
            base: None,
            base_range: Range::default(),
            scale: 0.0,
            offset: value,
        }
    }

    /// The value `base` itself, with what is known of it.
    pub fn of(base: String, base_range: Range) -> Affine {
        Affine {
            base: Some(base),
            base_range,
            scale: 1.0,
            offset: 0.0,
        }
    }

    /// `self OP other`, when it is still `scale × BASE + offset` of one base (`x * x` is not).
    pub fn combine(&self, op: ArithOp, other: &Affine) -> Option<Affine> {
        let base = match (&self.base, &other.base) {
            (Some(a), Some(b)) if a != b => return None,
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        let base_range = match (&self.base, &other.base) {
            (Some(_), Some(_)) => self.base_range.and(other.base_range),
            (Some(_), None) => self.base_range,
            _ => other.base_range,
        };
        let (scale, offset) = match op {
            ArithOp::Add => (self.scale + other.scale, self.offset + other.offset),
            ArithOp::Sub => (self.scale - other.scale, self.offset - other.offset),
            ArithOp::Mul if other.base.is_none() => {
                (self.scale * other.offset, self.offset * other.offset)
            }
            ArithOp::Mul if self.base.is_none() => {
                (other.scale * self.offset, other.offset * self.offset)
            }
            ArithOp::Div if other.base.is_none() && other.offset != 0.0 => {
                (self.scale / other.offset, self.offset / other.offset)
            }
            _ => return None,
        };
        (scale.is_finite() && offset.is_finite()).then_some(Affine {
            base,
            base_range,
            scale,
            offset,
        })
    }

    /// What is known of the number.
    pub fn range(&self) -> Range {
        let point = |x: f64| Range::from_floats(x, x);
        match self.base {
            None => point(self.offset),
            Some(_) => self
                .base_range
                .combine(ArithOp::Mul, point(self.scale))
                .combine(ArithOp::Add, point(self.offset)),
        }
    }
}

/// The sum of two bounds: excluded when either is.
fn add(a: Option<Limit>, b: Option<Limit>) -> Option<Limit> {
    let ((x, xe), (y, ye)) = (a?, b?);
    let sum = x + y;
    sum.is_finite().then_some((sum, xe || ye))
}

/// The range of a product: the smallest and largest of the corners' products (a zero times an
/// unbounded side is zero).
fn corners(a: Range, b: Range) -> Range {
    let (a_low, a_high) = a.as_floats();
    let (b_low, b_high) = b.as_floats();
    let times = |x: f64, y: f64| if x == 0.0 || y == 0.0 { 0.0 } else { x * y };
    let products = [
        times(a_low, b_low),
        times(a_low, b_high),
        times(a_high, b_low),
        times(a_high, b_high),
    ];
    let low = products.iter().copied().fold(f64::INFINITY, f64::min);
    let high = products.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Range::from_floats(low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_least(n: f64) -> Range {
        Range {
            min: Some((n, false)),
            max: None,
        }
    }

    #[test]
    fn a_nonnegative_amount_stays_nonnegative_through_a_discount() {
        let amount = at_least(0.0);
        let discounted = amount.combine(ArithOp::Mul, Range::of_constant(&0.9.into()));
        assert_eq!(discounted.min, Some((0.0, false)));
        assert_eq!(discounted.max, None);
        assert_eq!(discounted.rounded().min, Some((0.0, false)));
    }

    #[test]
    fn subtraction_and_division_bounds() {
        let a = Range::of_schema(Some((10.0, false)), Some((20.0, false)));
        let b = Range::of_schema(Some((1.0, false)), Some((5.0, false)));
        assert_eq!(
            a.combine(ArithOp::Sub, b),
            Range::of_schema(Some((5.0, false)), Some((19.0, false)))
        );
        assert_eq!(
            a.combine(ArithOp::Div, b),
            Range::of_schema(Some((2.0, false)), Some((20.0, false)))
        );
        assert_eq!(a.combine(ArithOp::Div, at_least(0.0)), Range::default());
        assert_eq!(
            at_least(0.0).combine(ArithOp::Sub, at_least(0.0)),
            Range::default()
        );
    }

    #[test]
    fn a_value_less_a_share_of_itself_keeps_its_sign() {
        let amount = Affine::of("amount".into(), at_least(0.0));
        let share = amount
            .combine(ArithOp::Mul, &Affine::constant(0.1))
            .expect("affine");
        let net = amount.combine(ArithOp::Sub, &share).expect("affine");
        assert_eq!(net.range().min, Some((0.0, false)));
        assert_eq!(net.range().max, None);
        let other = Affine::of("seats".into(), at_least(1.0));
        assert_eq!(amount.combine(ArithOp::Sub, &other), None);
        assert_eq!(amount.combine(ArithOp::Mul, &amount), None);
        let nothing = amount.combine(ArithOp::Sub, &amount).expect("affine");
        assert_eq!(
            nothing.range(),
            Range::of_schema(Some((0.0, false)), Some((0.0, false)))
        );
        let halved = amount
            .combine(ArithOp::Div, &Affine::constant(2.0))
            .and_then(|a| a.combine(ArithOp::Add, &Affine::constant(5.0)))
            .expect("affine");
        assert_eq!(halved.range().min, Some((5.0, false)));
        assert_eq!(amount.combine(ArithOp::Div, &Affine::constant(0.0)), None);
    }

    #[test]
    fn exclusive_bounds_exclude_zero() {
        assert!(Range::of_schema(Some((0.0, true)), None).excludes_zero());
        assert!(!at_least(0.0).excludes_zero());
        assert!(Range::of_schema(None, Some((-1.0, false))).excludes_zero());
    }
}
