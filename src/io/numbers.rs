//! Exact numbers through serde visitors. With serde_json's `arbitrary_precision` (which keeps a
//! number's digits as written), a number that is not a 64-bit integer reaches a visitor's
//! `visit_map` as a one-member map: the key [`NUMBER_TOKEN`] and the number's text. Every
//! visitor of ours that reads JSON through `deserialize_any` starts its `visit_map` with
//! [`classify`], which tells that map from an object and gives the object back as
//! [`Resumed`] (which hands back the first key it had to take to tell them apart).

use std::borrow::Cow;
use std::str::FromStr;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{DeserializeSeed, Error, MapAccess};

/// The key under which serde_json passes a number's text to `visit_map` (serde_json's private
/// `number::TOKEN`; `tests::serde_json_still_passes_numbers_under_this_token` fails if it ever
/// changes).
pub const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// What a map handed to `visit_map` is.
pub enum MapRead<'de, A> {
    /// A number, with its digits as written.
    Number(serde_json::Number),
    /// An object, to be read on from its first member.
    Object(Resumed<'de, A>),
}

/// Reads the first key of `map` and tells a number from an object. A number beyond the range
/// of a 64-bit float (about ±1.8e308) is refused as serde_json refuses it without exact
/// numbers: the systems a record goes to read JSON numbers as floats, and would see infinity.
pub fn classify<'de, A: MapAccess<'de>>(mut map: A) -> Result<MapRead<'de, A>, A::Error> {
    let first = map.next_key_seed(KeySeed)?;
    if first.as_deref() != Some(NUMBER_TOKEN) {
        return Ok(MapRead::Object(Resumed { first, map }));
    }
    let text: String = map.next_value()?;
    match serde_json::Number::from_str(&text) {
        Ok(number) if number.as_f64().is_some_and(f64::is_finite) => Ok(MapRead::Number(number)),
        Ok(_) => Err(A::Error::custom("number out of range")),
        Err(_) => Err(A::Error::custom(format!("`{text}` is not a number"))),
    }
}

/// A map whose first key was read by [`classify`]: yields that key again, then the rest.
pub struct Resumed<'de, A> {
    first: Option<Cow<'de, str>>,
    map: A,
}

impl<'de, A> Resumed<'de, A> {
    /// The first key and the map after it, for a reader that loops over the keys itself (and
    /// so keeps the map's own type on its hot path).
    pub fn into_parts(self) -> (Option<Cow<'de, str>>, A) {
        (self.first, self.map)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Resumed<'de, A> {
    type Error = A::Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.first.take() {
            Some(Cow::Borrowed(key)) => seed
                .deserialize(BorrowedStrDeserializer::<A::Error>::new(key))
                .map(Some),
            Some(Cow::Owned(key)) => seed
                .deserialize(StringDeserializer::<A::Error>::new(key))
                .map(Some),
            None => self.map.next_key_seed(seed),
        }
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// An object key, borrowed from the text when it has no escapes.
pub struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(KeySeed)
    }
}

impl<'de> serde::de::Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserializer;
    use serde::de::Visitor;

    /// Reads one JSON value and says what `start_map` made of it.
    struct Probe;

    impl<'de> Visitor<'de> for Probe {
        type Value = String;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("a number or an object")
        }

        fn visit_u64<E>(self, v: u64) -> Result<String, E> {
            Ok(format!("integer {v}"))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
            Ok(match classify(map)? {
                MapRead::Number(n) => format!("number {n}"),
                MapRead::Object(mut rest) => {
                    let mut keys = Vec::new();
                    while let Some(key) = rest.next_key::<String>()? {
                        rest.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(key);
                    }
                    format!("object {}", keys.join(","))
                }
            })
        }
    }

    fn probe(text: &str) -> String {
        serde_json::Deserializer::from_str(text)
            .deserialize_any(Probe)
            .unwrap_or_else(|e| format!("error {e}"))
    }

    #[test]
    fn serde_json_still_passes_numbers_under_this_token() {
        assert_eq!(probe("48500.00"), "number 48500.00");
        assert_eq!(
            probe("12345678901234567890123"),
            "number 12345678901234567890123"
        );
        assert_eq!(probe("7"), "integer 7");
        assert!(probe("1e400").starts_with("error number out of range at line 1"));
    }

    #[test]
    fn an_object_is_read_whole_from_its_first_key() {
        assert_eq!(probe(r#"{"a": 1, "b": {"c": 2.5}}"#), "object a,b");
        assert_eq!(probe("{}"), "object ");
    }
}
