//! Reading and writing dates in the formats CRMs and PSAs use.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};

use crate::value::Val;

/// True when `format` is a valid strftime format.
pub fn is_valid_format(format: &str) -> bool {
    !StrftimeItems::new(format).any(|item| matches!(item, Item::Error))
}

/// Reads a date (see the `date` declaration).
pub fn to_date(value: &Val<'_>, format: Option<&str>) -> Result<NaiveDate, String> {
    if let Some(format) = format {
        let text = value.as_str().ok_or("a formatted date must be a string")?;
        return NaiveDate::parse_from_str(text.trim(), format)
            .or_else(|_| NaiveDateTime::parse_from_str(text.trim(), format).map(|t| t.date()))
            .map_err(|_| format!("does not match the date format \"{format}\""));
    }
    match value {
        Val::Date(d) => Ok(*d),
        Val::DateTime(t) => Ok(t.date_naive()),
        Val::Int(seconds) => unix_to_utc(*seconds).map(|t| t.date_naive()),
        Val::Str(text) => parse_date_text(text.trim()),
        whole => match whole_seconds(whole) {
            Some(seconds) => unix_to_utc(seconds).map(|t| t.date_naive()),
            None => Err("is not a date".to_string()),
        },
    }
}

/// Reads a date-time (see the `datetime` declaration).
pub fn to_datetime(value: &Val<'_>, format: Option<&str>) -> Result<DateTime<FixedOffset>, String> {
    if let Some(format) = format {
        let text = value
            .as_str()
            .ok_or("a formatted date-time must be a string")?;
        let text = text.trim();
        return DateTime::parse_from_str(text, format)
            .or_else(|_| {
                NaiveDateTime::parse_from_str(text, format).map(|t| t.and_utc().fixed_offset())
            })
            .or_else(|_| NaiveDate::parse_from_str(text, format).map(midnight_utc))
            .map_err(|_| format!("does not match the date-time format \"{format}\""));
    }
    match value {
        Val::Date(d) => Ok(midnight_utc(*d)),
        Val::DateTime(t) => Ok(*t),
        Val::Int(seconds) => unix_to_utc(*seconds),
        Val::Str(text) => parse_datetime_text(text.trim()),
        whole => match whole_seconds(whole) {
            Some(seconds) => unix_to_utc(seconds),
            None => Err("is not a date-time".to_string()),
        },
    }
}

/// Unix seconds written with a fraction of zeros (`1741910400.00`, as `| number` reads such
/// text), as the whole number they are.
fn whole_seconds(value: &Val<'_>) -> Option<i64> {
    match value {
        Val::Num(d) => crate::value::number::whole_i64(*d),
        _ => None,
    }
}

fn parse_date_text(text: &str) -> Result<NaiveDate, String> {
    if let Ok(seconds) = digits_as_seconds(text) {
        return unix_to_utc(seconds).map(|t| t.date_naive());
    }
    if let Some(date) = iso_date(text).or_else(|| us_date(text)) {
        return Ok(date);
    }
    parse_datetime_text(text)
        .map(|t| t.date_naive())
        .map_err(|_| {
            "is not a date (expected ISO 8601, yyyy-MM-dd, M/D/YYYY or Unix seconds)".to_string()
        })
}

fn parse_datetime_text(text: &str) -> Result<DateTime<FixedOffset>, String> {
    if let Ok(seconds) = digits_as_seconds(text) {
        return unix_to_utc(seconds);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t);
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(t.and_utc().fixed_offset());
    }
    iso_date(text)
        .or_else(|| us_date(text))
        .map(midnight_utc)
        .ok_or_else(|| {
            "is not a date-time (expected ISO 8601, yyyy-MM-dd, M/D/YYYY or Unix seconds)"
                .to_string()
        })
}

fn digits_as_seconds(text: &str) -> Result<i64, ()> {
    if !(9..=11).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    text.parse().map_err(|_| ())
}

fn iso_date(text: &str) -> Option<NaiveDate> {
    (text.len() == 10).then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())?
}

/// `M/D/YYYY` (Copper's `close_date`), one or two digits for month and day.
fn us_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.split('/');
    let (month, day, year) = (parts.next()?, parts.next()?, parts.next()?);
    let short = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !short(month) || !short(day) || year.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

fn unix_to_utc(seconds: i64) -> Result<DateTime<FixedOffset>, String> {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .map(|t| t.fixed_offset())
        .ok_or_else(|| "is out of the supported date range".to_string())
}

fn midnight_utc(date: NaiveDate) -> DateTime<FixedOffset> {
    date.and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .fixed_offset()
}

/// Unix seconds of a date (midnight UTC) or date-time.
pub fn unix_seconds(value: &Val<'_>) -> Result<i64, String> {
    match value {
        Val::Date(d) => Ok(midnight_utc(*d).timestamp()),
        Val::DateTime(t) => Ok(t.timestamp()),
        _ => Err("is not a date".to_string()),
    }
}

/// Writes a date or date-time with a strftime format.
pub fn format(value: &Val<'_>, format: &str) -> Result<String, String> {
    let moment = match value {
        Val::Date(d) => midnight_utc(*d),
        Val::DateTime(t) => *t,
        _ => return Err("is not a date".to_string()),
    };
    let mut out = String::new();
    write!(out, "{}", moment.format(format))
        .map_err(|_| format!("cannot be written with the format \"{format}\""))?;
    Ok(out)
}

/// `add_days`: a date or date-time moved by whole days.
pub fn add_days<'a>(value: &Val<'_>, days: i64) -> Result<Val<'a>, String> {
    let moved = match value {
        Val::Date(d) => d
            .checked_add_signed(chrono::TimeDelta::days(days))
            .map(Val::Date),
        Val::DateTime(t) => t
            .checked_add_signed(chrono::TimeDelta::days(days))
            .map(Val::DateTime),
        _ => return Err("is not a date (read it with `date` first)".to_string()),
    };
    moved.ok_or_else(|| format!("is too far from today to move by {days} days"))
}

/// `add_months`: a date or date-time moved by whole calendar months, clamped to the last day of
/// a shorter month.
pub fn add_months<'a>(value: &Val<'_>, months: i64) -> Result<Val<'a>, String> {
    let count = chrono::Months::new(u32::try_from(months.unsigned_abs()).unwrap_or(u32::MAX));
    let moved = match (value, months >= 0) {
        (Val::Date(d), true) => d.checked_add_months(count).map(Val::Date),
        (Val::Date(d), false) => d.checked_sub_months(count).map(Val::Date),
        (Val::DateTime(t), true) => t.checked_add_months(count).map(Val::DateTime),
        (Val::DateTime(t), false) => t.checked_sub_months(count).map(Val::DateTime),
        _ => return Err("is not a date (read it with `date` first)".to_string()),
    };
    moved.ok_or_else(|| format!("is too far from today to move by {months} months"))
}
