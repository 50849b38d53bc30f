//! Polling by the opportunity search (copper.md 4.1): opportunities at the trigger's status,
//! pipeline or stage, modified at or after the cursor, oldest change first (`sort_by:
//! date_modified`), 200 a page, paged by `page_number` until a short page.
//!
//! The trigger's field decides the filter: `status` becomes `status_ids` (Open 0, Won 1, Lost 2,
//! Abandoned 3), `pipeline_stage_id` becomes `pipeline_stage_ids`, `pipeline_id` becomes
//! `pipeline_ids`; any other trigger reads every opportunity modified since the cursor (the
//! mapping decides). One search returns at most the first 100,000 records, so before a page
//! would pass that the search starts again from the last modification time read.

use serde_json::{Map, Value, json};

use crate::connect::Needs;
use crate::connect::vendor::VendorError;
use crate::net::Method;
use crate::value::path::PathStep;

use super::api::Api;

/// The search endpoint (under `/developer_api/v1`).
pub const PATH: &str = "/opportunities/search";
/// Copper's opportunity statuses and their search ids.
const STATUSES: [(&str, i64); 4] = [("Open", 0), ("Won", 1), ("Lost", 2), ("Abandoned", 3)];

/// What to search for.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The filter members (`status_ids`, `pipeline_stage_ids`, `pipeline_ids`), when the
    /// trigger names values the search can filter by.
    pub filter: Map<String, Value>,
    /// Results per page (at most 200).
    pub page_size: usize,
    /// Results one search may page through (100,000).
    pub cap: usize,
}

impl Query {
    /// The query for what the mapping's trigger fires on.
    pub fn for_needs(needs: &Needs, page_size: usize, cap: usize) -> Query {
        let mut filter = Map::new();
        let field = match needs.stage_path.as_deref() {
            Some([PathStep::Field(name)]) => Some(name.as_str()),
            _ => None,
        };
        let ids: Option<Vec<i64>> = match field {
            Some("status") => needs
                .stages
                .iter()
                .map(|stage| {
                    STATUSES
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case(stage.trim()))
                        .map(|(_, id)| *id)
                })
                .collect(),
            Some("pipeline_stage_id" | "pipeline_id") => {
                needs.stages.iter().map(|s| s.trim().parse().ok()).collect()
            }
            _ => None,
        };
        if let (Some(field), Some(ids)) = (field, ids.filter(|ids| !ids.is_empty())) {
            let member = match field {
                "status" => "status_ids",
                "pipeline_stage_id" => "pipeline_stage_ids",
                _ => "pipeline_ids",
            };
            filter.insert(member.into(), json!(ids));
        }
        Query {
            filter,
            page_size: page_size.clamp(1, 200),
            cap: cap.max(1),
        }
    }

    /// The search body for opportunities modified at or after `since` (Unix seconds), page
    /// `page` (from 1).
    pub fn body(&self, since: i64, page: usize) -> Value {
        let mut body = self.filter.clone();
        body.insert("minimum_modified_date".into(), json!(since));
        body.insert("sort_by".into(), json!("date_modified"));
        body.insert("sort_direction".into(), json!("asc"));
        body.insert("page_size".into(), json!(self.page_size));
        body.insert("page_number".into(), json!(page));
        Value::Object(body)
    }

    /// Searches one page (a bare JSON array of opportunities).
    pub fn page(&self, api: &Api, since: i64, page: usize) -> Result<Vec<Value>, VendorError> {
        let body = self.body(since, page);
        let answer = api.call(Method::Post, PATH, Some(&body), "search", None)?;
        match answer {
            Some(Value::Array(items)) => Ok(items),
            None => Ok(Vec::new()),
            Some(other) => Err(VendorError {
                endpoint: format!("Copper POST {}{PATH}", super::api::PREFIX),
                status: Some(200),
                message: format!(
                    "expected a JSON array of opportunities, got {}",
                    crate::connect::vendor::body_excerpt(other.to_string().as_bytes())
                ),
                maybe_sent: false,
                after: None,
            }),
        }
    }

    /// Whether the page after `page` would start past the cap.
    pub fn past_cap(&self, page: usize) -> bool {
        page.saturating_mul(self.page_size) + self.page_size > self.cap
    }
}

/// An opportunity's last modification, in Unix seconds.
pub fn modified(opportunity: &Value) -> Option<i64> {
    let value = opportunity.get("date_modified")?;
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|f| f as i64))
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(field: &str, stages: &[&str]) -> Needs {
        Needs {
            primary: "deal".into(),
            stage_path: Some(vec![PathStep::Field(field.into())]),
            stages: stages.iter().map(|s| s.to_string()).collect(),
            ..Needs::default()
        }
    }

    #[test]
    fn the_trigger_field_becomes_the_search_filter() {
        let won = Query::for_needs(&needs("status", &["Won"]), 200, 100_000);
        let body = won.body(1_741_944_000, 2);
        assert_eq!(body["status_ids"], json!([1]));
        assert_eq!(body["minimum_modified_date"], 1_741_944_000);
        assert_eq!(
            (&body["sort_by"], &body["page_number"]),
            (&json!("date_modified"), &json!(2))
        );
        let stages = Query::for_needs(&needs("pipeline_stage_id", &["987794"]), 500, 100_000);
        assert_eq!(stages.filter["pipeline_stage_ids"], json!([987794]));
        assert_eq!(stages.page_size, 200);
        let unknown = Query::for_needs(&needs("status", &["Closed"]), 200, 100_000);
        assert!(
            unknown.filter.is_empty(),
            "an unknown status filters nothing"
        );
        let other = Query::for_needs(&needs("name", &["x"]), 200, 100_000);
        assert!(other.filter.is_empty());
    }

    #[test]
    fn the_cap_is_never_paged_past() {
        let q = Query::for_needs(&needs("status", &["Won"]), 200, 1000);
        assert!(!q.past_cap(3));
        assert!(q.past_cap(5));
        assert_eq!(
            modified(&json!({"date_modified": 1741944662})),
            Some(1741944662)
        );
    }
}
