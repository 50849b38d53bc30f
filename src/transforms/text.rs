//! Text transforms coded by hand because they sit on the hot path: company names and numbers.

use crate::value::Val;

/// ASCII whitespace as CRMs produce it: space, tab, LF, CR.
fn is_crm_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Replaces each run of whitespace with one space and trims both ends.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(is_crm_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// True when `text` needs no change from [`collapse_whitespace`].
pub fn is_collapsed(text: &str) -> bool {
    let bytes = text.as_bytes();
    !text.starts_with(' ')
        && !text.ends_with(' ')
        && !bytes.iter().any(|b| matches!(b, b'\t' | b'\n' | b'\r'))
        && !text.contains("  ")
}

/// Invisible formatting characters (zero-width, joiners, bidirectional controls, soft hyphen):
/// pasted into CRM fields, they make "Ac\u{200B}me" display as "Acme" yet compare differently.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// `text` without [`is_invisible_format`] characters (borrowed when it has none).
pub fn without_invisible(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(is_invisible_format) {
        std::borrow::Cow::Owned(text.chars().filter(|c| !is_invisible_format(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

const TRAILING_PUNCTUATION: &[char] = &[' ', '.', ',', ';', ':', '!', '?'];
const LEGAL_SUFFIXES: &[&str] = &["corporation", "corp", "inc", "llc", "ltd", "gmbh"];

/// Cleans a company name for display (see the `company_name` declaration).
pub fn company_name(text: &str) -> String {
    let visible = without_invisible(text);
    let text = visible.as_ref();
    let collapsed;
    let text = if is_collapsed(text) {
        text
    } else {
        collapsed = collapse_whitespace(text);
        &collapsed
    };
    let text = text.trim_end_matches(TRAILING_PUNCTUATION);
    let text = strip_legal_suffix(text);
    text.trim_end_matches(TRAILING_PUNCTUATION).to_string()
}

/// Removes one legal suffix that follows a space or comma (and an optional final dot).
fn strip_legal_suffix(text: &str) -> &str {
    let without_dot = text.strip_suffix('.').unwrap_or(text);
    for candidate in [text, without_dot] {
        for suffix in LEGAL_SUFFIXES {
            if let Some(stem) = strip_suffix_ignore_ascii_case(candidate, suffix) {
                let kept = stem.trim_end_matches([' ', ',']);
                if kept.len() < stem.len() {
                    return kept;
                }
            }
        }
    }
    text
}

fn strip_suffix_ignore_ascii_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    (text.is_char_boundary(cut) && text[cut..].eq_ignore_ascii_case(suffix)).then(|| &text[..cut])
}

/// Reads `"48500.00"`, `"12,500.50"`, `"-3"` as the number they write, digits kept exactly as
/// written (`"48500.00"` is 48500.00, a 25-digit amount keeps all 25); `None` for anything else.
pub fn parse_number(text: &str) -> Option<Val<'static>> {
    let text = text.trim_matches(is_crm_space);
    let unsigned = match text.as_bytes().first()? {
        b'-' | b'+' => &text[1..],
        _ => text,
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    if let Some(fraction) = fraction
        && (fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let plain = !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit());
    if plain {
        // The common case, read without building any text: an integer, or a decimal with the
        // places written (Rust's parsers accept the sign and leading zeros).
        if fraction.is_none()
            && let Ok(i) = text.parse::<i64>()
        {
            return Some(Val::Int(i));
        }
        if let Ok(exact) = rust_decimal::Decimal::from_str_exact(text) {
            return Some(Val::Num(exact));
        }
    }
    let digits = match plain {
        true => whole.to_string(),
        false if whole.contains(',') => grouped_digits(whole)?,
        false => return None,
    };
    let sign = if text.starts_with('-') { "-" } else { "" };
    let fraction = fraction.map_or(String::new(), |f| format!(".{f}"));
    crate::value::number::parse_loose(&format!("{sign}{digits}{fraction}")).map(Val::from_number)
}

/// The digits of a whole part written with comma thousands separators, when they are well
/// placed (`12,500`), without the commas.
fn grouped_digits(whole: &str) -> Option<String> {
    let mut groups = whole.split(',');
    let head = groups.next()?;
    if head.is_empty() || head.len() > 3 || !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits = head.to_string();
    for group in groups {
        if group.len() != 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.push_str(group);
    }
    Some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names_follow_the_reference_table() {
        for (input, expected) in [
            ("  Acme Corp. ", "Acme"),
            ("Acme, Inc.", "Acme"),
            ("Globex Corporation", "Globex"),
            ("\tStark   Industries ", "Stark Industries"),
            ("Hooli CORP.!", "Hooli"),
            ("Globex Co., Ltd.", "Globex Co"),
            ("Umbrella Corp Inc", "Umbrella Corp"),
            ("Initech Incorporated", "Initech Incorporated"),
            ("Yahoo!", "Yahoo"),
            ("Inc.", "Inc"),
            ("   ", ""),
            ("Pure Zinc", "Pure Zinc"),
            ("Incline Partners", "Incline Partners"),
            ("Müller GmbH", "Müller"),
        ] {
            assert_eq!(company_name(input), expected, "input {input:?}");
        }
    }

    fn text_of(number: Option<Val<'_>>) -> Option<String> {
        number.map(|n| n.to_json().to_string())
    }

    #[test]
    fn numbers_accept_separators_keep_their_digits_and_refuse_junk() {
        assert_eq!(
            text_of(parse_number("48500.00")).as_deref(),
            Some("48500.00")
        );
        assert_eq!(
            text_of(parse_number("12,500.50")).as_deref(),
            Some("12500.50")
        );
        assert_eq!(text_of(parse_number(" -1,000 ")).as_deref(), Some("-1000"));
        assert_eq!(text_of(parse_number("+007")).as_deref(), Some("7"));
        assert_eq!(text_of(parse_number("-0,000")).as_deref(), Some("0"));
        assert_eq!(text_of(parse_number("-0")).as_deref(), Some("0"));
        assert_eq!(
            text_of(parse_number("12,345,678,901,234,567,890,123.45")).as_deref(),
            Some("12345678901234567890123.45")
        );
        for junk in [
            "", "-", "1,00", "12,50", "$1", "NaN", "inf", "1e999", "1.", ".5", "1..2", "1 000",
        ] {
            assert_eq!(parse_number(junk), None, "input {junk:?}");
        }
    }

    /// What `parse_number` must answer, from the specification: an optional sign, digits (or
    /// digits in well-placed comma groups of three), an optional non-empty fraction; the
    /// number with those digits, commas, a plus sign and leading zeros left out (and the sign
    /// of a whole zero).
    fn specified_number(text: &str) -> Option<String> {
        let shape = regex::Regex::new(r"^[+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?$").ok()?;
        let text = text.trim_matches(is_crm_space);
        if !shape.is_match(text) {
            return None;
        }
        let plain = text.replace([',', '+'], "");
        let (sign, unsigned) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain.as_str()),
        };
        let (integer, fraction) = match unsigned.split_once('.') {
            Some((integer, fraction)) => (integer, format!(".{fraction}")),
            None => (unsigned, String::new()),
        };
        let integer = match integer.trim_start_matches('0') {
            "" => "0",
            digits => digits,
        };
        // A whole number is an integer, and the integer zero has no sign.
        let sign = if fraction.is_empty() && integer == "0" {
            ""
        } else {
            sign
        };
        Some(format!("{sign}{integer}{fraction}"))
    }

    proptest::proptest! {
        #[test]
        fn numbers_are_read_as_specified(text in proptest::prop_oneof![
            "[ ]?[+-]?[0-9,]{0,24}([.][0-9]{0,4})?[.]?[ ]?",
            "[+-]?[0-9]{1,5}(,[0-9]{2,4}){0,3}([.][0-9]{0,3})?",
        ]) {
            proptest::prop_assert_eq!(text_of(parse_number(&text)), specified_number(&text), "input {:?}", text);
        }
    }
}
