//! Compact JSON text for output lines, byte for byte what `serde_json::to_writer` writes.
//!
//! Records are mostly text (titles, notes), so output time is mostly spent finding the bytes a
//! JSON string must escape. This writer tests eight bytes at a time for a quote, a backslash or
//! a control character and copies runs without them whole; `serde_json` tests byte by byte.

use serde_json::Value;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Appends `value` to `out` as compact JSON (the same bytes as `serde_json::to_writer`).
pub fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(number, out),
        Value::String(text) => write_str(text, out),
        Value::Array(items) => write_array(items, out, write_value),
        Value::Object(map) => {
            out.push(b'{');
            for (index, (key, member)) in map.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_str(key, out);
                out.push(b':');
                write_value(member, out);
            }
            out.push(b'}');
        }
    }
}

/// Appends a JSON array of `items`, each written by `write_item`, with no spaces.
pub fn write_array<T>(items: &[T], out: &mut Vec<u8>, write_item: impl Fn(&T, &mut Vec<u8>)) {
    out.push(b'[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_item(item, out);
    }
    out.push(b']');
}

/// Numbers are few and short: `serde_json` writes them (itoa and ryu), so they stay identical.
fn write_number(number: &serde_json::Number, out: &mut Vec<u8>) {
    // Writing to a vector cannot fail, and a Number always serializes.
    if serde_json::to_writer(&mut *out, number).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// Appends `text` as a JSON string: quoted, with `"`, `\` and control characters escaped.
pub fn write_str(text: &str, out: &mut Vec<u8>) {
    let mut rest = text.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    loop {
        let clean = clean_prefix_len(rest);
        out.extend_from_slice(&rest[..clean]);
        let Some((&byte, tail)) = rest[clean..].split_first() else {
            break;
        };
        match escape_of(byte) {
            Some(escape) => write_escape(escape, byte, out),
            None => out.push(byte),
        }
        rest = tail;
    }
    out.push(b'"');
}

/// How many bytes at the start of `bytes` need no escape: tested 32 bytes at a time with one
/// branch, then eight at a time, then one by one.
pub fn clean_prefix_len(bytes: &[u8]) -> usize {
    let mut at = 0;
    while let Some(block) = bytes.get(at..at + 32) {
        let mask = block
            .chunks_exact(8)
            .map(|chunk| escape_mask(word_of(chunk)))
            .fold(0, |all, mask| all | mask);
        if mask != 0 {
            break;
        }
        at += 32;
    }
    while let Some(chunk) = bytes.get(at..at + 8) {
        if escape_mask(word_of(chunk)) != 0 {
            break;
        }
        at += 8;
    }
    at + bytes[at..]
        .iter()
        .position(|&byte| escape_of(byte).is_some())
        .unwrap_or(bytes.len() - at)
}

/// Eight bytes as one little-endian word (`chunk` is eight bytes long).
fn word_of(chunk: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    u64::from_le_bytes(word)
}

/// Non-zero when one of the eight bytes of `word` is a quote, a backslash or below 0x20. (Each
/// test is exact about whether any byte matches; bytes of 0x80 and above never match.)
fn escape_mask(word: u64) -> u64 {
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let has_quote = quote.wrapping_sub(ONES) & !quote;
    let has_backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | has_quote | has_backslash) & HIGH_BITS
}

/// How `byte` is escaped, when it must be: its short escape letter, or `u` for `\u00XX`.
fn escape_of(byte: u8) -> Option<u8> {
    match byte {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        b'\n' => Some(b'n'),
        b'\r' => Some(b'r'),
        b'\t' => Some(b't'),
        0x08 => Some(b'b'),
        0x0c => Some(b'f'),
        0x00..=0x1f => Some(b'u'),
        _ => None,
    }
}

fn write_escape(escape: u8, byte: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'\\');
    out.push(escape);
    if escape == b'u' {
        out.extend_from_slice(b"00");
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 0xf)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn compact(value: &Value) -> String {
        let mut out = Vec::new();
        write_value(value, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn every_byte_is_written_as_serde_json_writes_it() {
        for byte in 0u8..=0x7f {
            let text = format!("ab{}cdefghij{}", byte as char, byte as char);
            let value = Value::String(text);
            assert_eq!(compact(&value), value.to_string(), "byte {byte:#04x}");
        }
    }

    #[test]
    fn the_eight_byte_test_finds_each_escape_in_each_position() {
        let needs_escape = |word: [u8; 8]| escape_mask(u64::from_le_bytes(word)) != 0;
        for position in 0..8 {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                let mut word = *b"abcdefgh";
                word[position] = special;
                assert!(needs_escape(word));
            }
        }
        assert!(!needs_escape(*b"\x7f\x80\xff #!]~"));
        assert!(!needs_escape(
            "Łódź ü".as_bytes()[..8].try_into().unwrap_or([0; 8])
        ));
    }

    #[test]
    fn an_escape_is_found_at_every_position_of_long_text() {
        for length in 1..100 {
            for position in 0..length {
                for special in ['"', '\\', '\u{0}', '\u{1f}', '\n'] {
                    let mut text: Vec<char> = "aé".chars().cycle().take(length).collect();
                    text[position] = special;
                    let value = Value::String(text.into_iter().collect());
                    assert_eq!(compact(&value), value.to_string(), "{length} {position}");
                }
            }
        }
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            "\\PC{0,40}",
            "[a-z\"\\\\\\n\\t\\u{0}-\\u{1f}\\u{7f}é€😀 ]{0,40}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            text.clone().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((text.clone(), inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn output_equals_serde_json(value in any_json()) {
            prop_assert_eq!(compact(&value), serde_json::to_string(&value).unwrap_or_default());
        }
    }
}
