//! `format` checks for the fast validator. `date`, `date-time` and `time` follow RFC 3339 as
//! `jsonschema` reads it (coded here, because they are on every HubSpot deal and building a
//! `jsonschema` validator costs more than a single-deal run); every other format is checked by a
//! `jsonschema` validator built the first time that format is met, so the two always agree.

use std::sync::OnceLock;

use serde_json::Value;

/// A format the fast validator checks.
#[derive(Debug)]
pub struct FormatCheck {
    name: String,
    delegate: OnceLock<Option<jsonschema::Validator>>,
}

impl FormatCheck {
    /// The check for `name`.
    pub fn new(name: &str) -> FormatCheck {
        FormatCheck {
            name: name.to_string(),
            delegate: OnceLock::new(),
        }
    }

    /// The format's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when `text` has the format.
    pub fn holds(&self, text: &str) -> bool {
        match self.name.as_str() {
            "date" => is_date(text),
            "date-time" => is_datetime(text),
            "time" => is_time(text),
            _ => self
                .delegate
                .get_or_init(|| {
                    let schema = serde_json::json!({"format": self.name});
                    jsonschema::options()
                        .should_validate_formats(true)
                        .build(&schema)
                        .ok()
                })
                .as_ref()
                .is_none_or(|validator| validator.is_valid(&Value::String(text.to_string()))),
        }
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (
        digits(&bytes[..4]),
        digits(&bytes[5..7]),
        digits(&bytes[8..]),
    ) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// A date, `T` (or `t`), and a time.
pub fn is_datetime(text: &str) -> bool {
    match text.bytes().position(|b| b == b'T' || b == b't') {
        Some(at) => is_date(&text[..at]) && is_time(&text[at + 1..]),
        None => false,
    }
}

/// `HH:MM:SS[.frac]` then `Z` or `±HH:MM`; a leap second only at 23:59:60 UTC.
pub fn is_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 9 || bytes[2] != b':' || bytes[5] != b':' {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) = (
        digits(&bytes[..2]),
        digits(&bytes[3..5]),
        digits(&bytes[6..8]),
    ) else {
        return false;
    };
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut at = 8;
    if bytes.get(at) == Some(&b'.') {
        let start = at + 1;
        at = start;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == start {
            return false;
        }
    }
    let utc_minutes = |offset: i32| (hour as i32 * 60 + minute as i32 - offset).rem_euclid(24 * 60);
    match bytes.get(at) {
        Some(b'Z' | b'z') => {
            at + 1 == bytes.len() && (second != 60 || utc_minutes(0) == 23 * 60 + 59)
        }
        Some(sign @ (b'+' | b'-')) => {
            let offset = &bytes[at + 1..];
            if offset.len() != 5 || offset[2] != b':' {
                return false;
            }
            let (Some(oh), Some(om)) = (digits(&offset[..2]), digits(&offset[3..])) else {
                return false;
            };
            if oh > 23 || om > 59 {
                return false;
            }
            let minutes = (oh * 60 + om) as i32;
            let signed = if *sign == b'+' { minutes } else { -minutes };
            second != 60 || utc_minutes(signed) == 23 * 60 + 59
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_agree_with_jsonschema() {
        let samples = [
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "24-01-01",
            "2024-1-01",
            "2025-03-14T09:30:00.000Z",
            "2025-03-14t09:30:00z",
            "2025-03-14T09:30:00+01:00",
            "2025-03-14 09:30:00Z",
            "2025-03-14T24:00:00Z",
            "2025-03-14T23:59:60Z",
            "2025-03-14T22:59:60-01:00",
            "2025-03-14T09:30:00.Z",
            "2025-03-14T09:30:00",
            "2025-03-14T09:30:00+1:00",
            "12:00:00Z",
            "",
        ];
        for format in ["date", "date-time", "time"] {
            let ours = FormatCheck::new(format);
            let schema = serde_json::json!({"format": format});
            let theirs = jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap();
            for sample in samples {
                assert_eq!(
                    ours.holds(sample),
                    theirs.is_valid(&Value::String(sample.into())),
                    "{format} {sample:?}"
                );
            }
        }
    }
}
