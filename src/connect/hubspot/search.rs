//! Polling by the CRM search API (hubspot.md 4.1): deals at a trigger stage modified at or
//! after the cursor, oldest change first, `limit` 200 a page, paged with `after`.
//!
//! One query returns at most 10,000 results (paging past that is a 400), so before a page
//! would start at the cap the search starts again from the last modification time read: the
//! deals at that instant are read twice, and the ledger (keyed by deal id) drops the repeat.
//! The request body may hold at most 3,000 characters: when the properties the mapping reads
//! would make it longer, the search asks only for the stage and the modification time and the
//! properties are read in batches of 100 instead.

use serde_json::{Value, json};

use crate::connect::encode::iso_to_ms;
use crate::connect::vendor::VendorError;
use crate::net::Method;

use super::api::Api;

/// The search endpoint.
pub const PATH: &str = "/crm/v3/objects/deals/search";
/// The largest body the search accepts.
const MAX_BODY: usize = 3000;
/// The most filter groups a search may have.
const MAX_GROUPS: usize = 5;
/// The property every poll sorts and filters by.
pub const MODIFIED: &str = "hs_lastmodifieddate";

/// What to search for.
#[derive(Debug, Clone)]
pub struct Query {
    /// The property holding the stage, when the trigger compares one.
    pub stage_property: Option<String>,
    /// The trigger's stage values.
    pub stages: Vec<String>,
    /// The deal properties the mapping reads (with the stage and the modification time).
    pub properties: Vec<String>,
    /// Results per page (at most 200).
    pub page_size: usize,
    /// Results one query may page through (10,000).
    pub cap: usize,
}

/// One page of a search.
pub struct Page {
    /// The deals, as HubSpot returns them.
    pub deals: Vec<Value>,
    /// The next page's `after`, when there is one.
    pub after: Option<String>,
    /// Whether the deals lack properties the mapping reads (they must be read in batches).
    pub lean: bool,
}

impl Query {
    /// The search body for deals modified at or after `since_ms`, from `after`.
    fn body(&self, since_ms: i64, after: Option<&str>, lean: bool) -> Value {
        let modified =
            json!({"propertyName": MODIFIED, "operator": "GTE", "value": since_ms.to_string()});
        let groups: Vec<Value> = match &self.stage_property {
            Some(stage) if !self.stages.is_empty() && self.stages.len() <= MAX_GROUPS => self
                .stages
                .iter()
                .map(|value| {
                    json!({"filters": [
                        {"propertyName": stage, "operator": "EQ", "value": value},
                        modified.clone(),
                    ]})
                })
                .collect(),
            Some(stage) if !self.stages.is_empty() => vec![json!({"filters": [
                {"propertyName": stage, "operator": "IN", "values": self.stages},
                modified.clone(),
            ]})],
            _ => vec![json!({"filters": [modified]})],
        };
        let properties: Vec<&str> = if lean {
            let mut few = vec![MODIFIED];
            few.extend(self.stage_property.as_deref());
            few
        } else {
            self.properties.iter().map(String::as_str).collect()
        };
        let mut body = json!({
            "filterGroups": groups,
            "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
            "properties": properties,
            "limit": self.page_size.min(200),
        });
        if let Some(after) = after {
            body["after"] = json!(after);
        }
        body
    }

    /// Searches one page.
    pub fn page(&self, api: &Api, since_ms: i64, after: Option<&str>) -> Result<Page, VendorError> {
        let mut lean = false;
        let mut body = self.body(since_ms, after, false);
        if body.to_string().len() > MAX_BODY {
            lean = true;
            body = self.body(since_ms, after, true);
        }
        let answer = api
            .call(Method::Post, PATH, Some(&body), "search", None)?
            .unwrap_or(Value::Null);
        let deals = answer
            .get("results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let after = answer.pointer("/paging/next/after").and_then(|a| {
            a.as_str()
                .map(str::to_string)
                .or_else(|| a.as_u64().map(|n| n.to_string()))
        });
        Ok(Page { deals, after, lean })
    }

    /// Whether a page starting at `after` (with `read` results of this query behind it) would
    /// go past the cap.
    pub fn past_cap(&self, after: &str, read: usize) -> bool {
        let offset = after.parse::<usize>().unwrap_or(read);
        offset.max(read) + self.page_size.min(200) > self.cap
    }
}

/// A deal's last modification, in Unix ms.
pub fn modified_ms(deal: &Value) -> Option<i64> {
    deal.pointer("/properties/hs_lastmodifieddate")
        .and_then(Value::as_str)
        .and_then(|text| iso_to_ms(text).or_else(|| text.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(stages: &[&str], properties: usize) -> Query {
        Query {
            stage_property: Some("dealstage".into()),
            stages: stages.iter().map(|s| s.to_string()).collect(),
            properties: (0..properties)
                .map(|n| format!("property_number_{n}"))
                .collect(),
            page_size: 200,
            cap: 10_000,
        }
    }

    #[test]
    fn a_group_per_stage_up_to_five_then_one_in_filter() {
        let body = query(&["closedwon", "11348547"], 3).body(1_741_910_400_000, Some("200"), false);
        assert_eq!(body["filterGroups"].as_array().unwrap().len(), 2);
        assert_eq!(body["filterGroups"][1]["filters"][0]["value"], "11348547");
        assert_eq!(
            body["filterGroups"][0]["filters"][1]["value"],
            "1741910400000"
        );
        assert_eq!(body["after"], "200");
        let many = query(&["a", "b", "c", "d", "e", "f"], 3).body(0, None, false);
        assert_eq!(many["filterGroups"][0]["filters"][0]["operator"], "IN");
    }

    #[test]
    fn the_cap_is_never_paged_past() {
        let q = query(&["closedwon"], 1);
        assert!(!q.past_cap("9800", 9800));
        assert!(q.past_cap("10000", 10_000));
        assert!(q.past_cap("9900", 9900));
    }

    #[test]
    fn modification_times_read_iso_and_milliseconds() {
        let iso = json!({"properties": {"hs_lastmodifieddate": "2025-03-14T09:31:02.004Z"}});
        assert_eq!(modified_ms(&iso), Some(1_741_944_662_004));
        let ms = json!({"properties": {"hs_lastmodifieddate": "1741944662004"}});
        assert_eq!(modified_ms(&ms), Some(1_741_944_662_004));
    }
}
