//! A set of value kinds: what a value may be, as far as the checker can tell.

use std::fmt;

/// A set of kinds, as a bit set. JSON kinds plus the two internal date kinds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Kinds(u16);

impl Kinds {
    /// No kind at all (an impossible value).
    pub const NONE: Kinds = Kinds(0);
    /// JSON null.
    pub const NULL: Kinds = Kinds(1);
    /// `true` / `false`.
    pub const BOOL: Kinds = Kinds(1 << 1);
    /// A whole number.
    pub const INT: Kinds = Kinds(1 << 2);
    /// A number with a fractional part.
    pub const FRAC: Kinds = Kinds(1 << 3);
    /// A string.
    pub const STRING: Kinds = Kinds(1 << 4);
    /// A JSON object.
    pub const OBJECT: Kinds = Kinds(1 << 5);
    /// A JSON array.
    pub const ARRAY: Kinds = Kinds(1 << 6);
    /// A calendar date (internal; written as `YYYY-MM-DD`).
    pub const DATE: Kinds = Kinds(1 << 7);
    /// A date and time (internal; written as RFC 3339).
    pub const DATETIME: Kinds = Kinds(1 << 8);
    /// Any number.
    pub const NUMBER: Kinds = Kinds(Self::INT.0 | Self::FRAC.0);
    /// Any JSON value.
    pub const JSON: Kinds = Kinds(
        Self::NULL.0
            | Self::BOOL.0
            | Self::NUMBER.0
            | Self::STRING.0
            | Self::OBJECT.0
            | Self::ARRAY.0,
    );
    /// Any value at all.
    pub const ANY: Kinds = Kinds(Self::JSON.0 | Self::DATE.0 | Self::DATETIME.0);
    /// Scalars that can be written into text.
    pub const SCALAR: Kinds =
        Kinds(Self::BOOL.0 | Self::NUMBER.0 | Self::STRING.0 | Self::DATE.0 | Self::DATETIME.0);
    /// Either date kind.
    pub const DATES: Kinds = Kinds(Self::DATE.0 | Self::DATETIME.0);

    /// The kinds for a JSON Schema `type` name.
    pub fn from_type_name(name: &str) -> Option<Kinds> {
        Some(match name {
            "null" => Kinds::NULL,
            "boolean" => Kinds::BOOL,
            "integer" => Kinds::INT,
            "number" => Kinds::NUMBER,
            "string" => Kinds::STRING,
            "object" => Kinds::OBJECT,
            "array" => Kinds::ARRAY,
            _ => return None,
        })
    }

    /// The kind of a JSON value.
    pub fn of_json(value: &serde_json::Value) -> Kinds {
        use serde_json::Value;
        match value {
            Value::Null => Kinds::NULL,
            Value::Bool(_) => Kinds::BOOL,
            Value::Number(n) if super::number::is_whole(n) => Kinds::INT,
            Value::Number(_) => Kinds::FRAC,
            Value::String(_) => Kinds::STRING,
            Value::Array(_) => Kinds::ARRAY,
            Value::Object(_) => Kinds::OBJECT,
        }
    }

    /// Union.
    pub const fn or(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    /// Intersection.
    pub const fn and(self, other: Kinds) -> Kinds {
        Kinds(self.0 & other.0)
    }

    /// `self` without the kinds in `other`.
    pub const fn without(self, other: Kinds) -> Kinds {
        Kinds(self.0 & !other.0)
    }

    /// True when every kind in `self` is in `other`.
    pub const fn within(self, other: Kinds) -> bool {
        self.0 & !other.0 == 0
    }

    /// True when the sets share a kind.
    pub const fn intersects(self, other: Kinds) -> bool {
        self.0 & other.0 != 0
    }

    /// True for the empty set.
    pub const fn is_none(self) -> bool {
        self.0 == 0
    }

    /// True when the set has exactly the given single kind or subset of it.
    pub const fn contains(self, other: Kinds) -> bool {
        other.0 & !self.0 == 0
    }

    /// The names of the kinds, for messages ("string or null").
    pub fn describe(self) -> String {
        if self.contains(Kinds::ANY) {
            return "any value".to_string();
        }
        if self.contains(Kinds::JSON) {
            return "any JSON value".to_string();
        }
        let mut names: Vec<&str> = Vec::new();
        if self.contains(Kinds::NUMBER) {
            names.push("number");
        } else if self.contains(Kinds::INT) {
            names.push("integer");
        } else if self.contains(Kinds::FRAC) {
            names.push("fractional number");
        }
        for (kind, name) in [
            (Kinds::STRING, "string"),
            (Kinds::BOOL, "boolean"),
            (Kinds::OBJECT, "object"),
            (Kinds::ARRAY, "array"),
            (Kinds::DATE, "date"),
            (Kinds::DATETIME, "date-time"),
            (Kinds::NULL, "null"),
        ] {
            if self.contains(kind) {
                names.push(name);
            }
        }
        match names.len() {
            0 => "nothing".to_string(),
            1 => names[0].to_string(),
            n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
        }
    }
}

impl Kinds {
    /// The names with an article, for sentences: "a string or null", "an integer".
    pub fn a(self) -> String {
        let names = self.describe();
        if names.starts_with("any") || names.starts_with("nothing") || names.starts_with("null") {
            return names;
        }
        let article = if names.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {names}")
    }
}

impl fmt::Debug for Kinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kinds({})", self.describe())
    }
}

impl fmt::Display for Kinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_sets_in_words() {
        assert_eq!(Kinds::STRING.or(Kinds::NULL).describe(), "string or null");
        assert_eq!(Kinds::NUMBER.describe(), "number");
        assert_eq!(Kinds::INT.describe(), "integer");
        assert!(Kinds::INT.within(Kinds::NUMBER));
        assert_eq!(Kinds::INT.a(), "an integer");
        assert_eq!(Kinds::STRING.or(Kinds::NULL).a(), "a string or null");
        assert!(!Kinds::NUMBER.within(Kinds::INT));
    }
}
