//! Polling by the Deals search (zoho.md 4.1): `GET /crm/v7/Deals/search?criteria=…` for deals
//! at the trigger's stages whose `Modified_Time` is at or after the cursor, 200 a page, paged
//! while `info.more_records` says so; 204 when nothing matches.
//!
//! Three of the search's ways are handled here. `equals` matches like "contains" (`Closed Won`
//! also finds `Closed Won - Partner`), so every deal returned is checked against the stages
//! exactly. One search returns at most 2,000 records (10 pages; the 11th is a 400
//! `LIMIT_REACHED`) and has no sort order, so a window whose tenth page still has more is
//! split in two halves (`Modified_Time:between:a,b`) and each searched again, until every
//! window holds fewer. Values in criteria escape `(`, `)` and `,` with `\`.

use serde_json::Value;

use crate::connect::encode::{iso_to_ms, percent_encode};
use crate::connect::vendor::VendorError;
use crate::net::Method;

use super::api::Api;

/// Records per page (Zoho's maximum).
pub const PER_PAGE: usize = 200;
/// Pages one search may read (2,000 records).
pub const MAX_PAGES: usize = 10;
/// The field every poll filters by.
pub const MODIFIED: &str = "Modified_Time";

/// What to search for.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The field holding the stage, when the trigger compares one.
    pub stage_field: Option<String>,
    /// The trigger's stages.
    pub stages: Vec<String>,
    /// The fields to ask for (`None`: all of them).
    pub fields: Option<Vec<String>>,
    /// Records per page.
    pub per_page: usize,
    /// Pages one search may read.
    pub max_pages: usize,
}

/// The result of searching one window.
pub enum Window {
    /// Every deal in it.
    Complete(Vec<Value>),
    /// More than one search returns: split it.
    Full,
}

/// A criteria value with `(`, `)` and `,` escaped (and a trailing `\`).
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '(' | ')' | ',') {
            out.push('\\');
        }
        out.push(c);
    }
    if out.ends_with('\\') && !out.ends_with("\\\\") {
        out.push('\\');
    }
    out
}

/// Unix milliseconds as Zoho's criteria write date-times (`2025-03-14T09:31:02+00:00`).
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_default()
}

impl Query {
    /// The criteria for deals modified from `from` (ms), up to `until` when given.
    pub fn criteria(&self, from: i64, until: Option<i64>) -> String {
        let time = match until {
            Some(until) => format!("({MODIFIED}:between:{},{})", iso(from), iso(until)),
            None => format!("({MODIFIED}:greater_equal:{})", iso(from)),
        };
        let stage = match (&self.stage_field, self.stages.as_slice()) {
            (Some(field), [one]) => Some(format!("({field}:equals:{})", escape(one))),
            (Some(field), many) if !many.is_empty() && many.len() <= 100 => {
                let values: Vec<String> = many.iter().map(|s| escape(s)).collect();
                Some(format!("({field}:in:{})", values.join(",")))
            }
            _ => None,
        };
        match stage {
            Some(stage) => format!("({stage}and{time})"),
            None => time,
        }
    }

    fn path(&self, criteria: &str, page: usize) -> String {
        let mut path = format!(
            "/Deals/search?criteria={}&per_page={}&page={page}",
            percent_encode(criteria),
            self.per_page
        );
        if let Some(fields) = &self.fields {
            path.push_str(&format!("&fields={}", percent_encode(&fields.join(","))));
        }
        path
    }

    /// Whether a deal is at one of the trigger's stages, exactly (the search's `equals` is
    /// looser); true when the trigger is not a stage test.
    pub fn at_stage(&self, deal: &Value) -> bool {
        match &self.stage_field {
            Some(field) if !self.stages.is_empty() => deal
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|stage| self.stages.iter().any(|s| s == stage)),
            _ => true,
        }
    }

    /// Every deal of one window, or [`Window::Full`] when it holds more than a search returns.
    pub fn window(&self, api: &Api, from: i64, until: Option<i64>) -> Result<Window, VendorError> {
        let criteria = self.criteria(from, until);
        let mut deals = Vec::new();
        for page in 1..=self.max_pages.max(1) {
            let answer = api.call(
                Method::Get,
                &self.path(&criteria, page),
                None,
                "search",
                None,
            )?;
            let Some(body) = answer.body else {
                return Ok(Window::Complete(deals));
            };
            deals.extend(
                body.get("data")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            let more = body
                .pointer("/info/more_records")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if !more {
                return Ok(Window::Complete(deals));
            }
        }
        Ok(Window::Full)
    }
}

/// A deal's `Modified_Time`, in Unix ms.
pub fn modified_ms(deal: &Value) -> Option<i64> {
    deal.get(MODIFIED)
        .and_then(Value::as_str)
        .and_then(iso_to_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(stages: &[&str]) -> Query {
        Query {
            stage_field: Some("Stage".into()),
            stages: stages.iter().map(|s| s.to_string()).collect(),
            fields: None,
            per_page: 200,
            max_pages: 10,
        }
    }

    #[test]
    fn criteria_name_the_stage_and_the_window() {
        let q = query(&["Closed Won"]);
        assert_eq!(
            q.criteria(1_741_944_662_000, None),
            "((Stage:equals:Closed Won)and(Modified_Time:greater_equal:2025-03-14T09:31:02+00:00))"
        );
        let two = query(&["Won (partner)", "Closed Won"]);
        assert_eq!(
            two.criteria(0, Some(1000)),
            "((Stage:in:Won \\(partner\\),Closed Won)and(Modified_Time:between:1970-01-01T00:00:00+00:00,1970-01-01T00:00:01+00:00))"
        );
        assert_eq!(escape("a,b\\"), "a\\,b\\\\");
    }

    #[test]
    fn stages_are_checked_exactly() {
        let q = query(&["Closed Won"]);
        assert!(q.at_stage(&json!({"Stage": "Closed Won"})));
        assert!(!q.at_stage(&json!({"Stage": "Closed Won - Partner"})));
        assert_eq!(
            modified_ms(&json!({"Modified_Time": "2025-03-14T15:01:02+05:30"})),
            Some(1_741_944_662_000)
        );
    }
}
