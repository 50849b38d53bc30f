//! Deals as the mapping reads them: `{"deal": ..., "company": ...}` bundles (keyed by the
//! mapping's record names), the deal shaped as `GET /crm/v3/objects/deals/{id}?associations=
//! companies` returns it (`associations.companies.results[].id`, the primary company first) and
//! the company as the companies endpoints return it.
//!
//! The search returns no associations, so a page of deals costs one v4 association batch read
//! and one companies batch read per 100 deals (hubspot.md 4.3, 4.4). The primary company is the
//! one whose association types include type id 5 ("only the typeId should be used for any
//! programmatic reference to an association" [HS19]); a deal with several companies and none
//! of them primary is not guessed about.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

pub use crate::connect::encode::id_text;
use crate::connect::vendor::VendorError;
use crate::net::Method;

use super::api::Api;

/// Records per batch request.
const BATCH: usize = 100;
/// The association type id of a deal's primary company.
const PRIMARY: u64 = 5;

/// A deal's companies: (company id, whether primary), in HubSpot's order.
pub type Companies = Vec<(String, bool)>;

/// The companies of each deal, by v4 batch read (following each deal's association pages).
pub fn associations(
    api: &Api,
    deal_ids: &[String],
    for_deal: Option<&str>,
) -> Result<BTreeMap<String, Companies>, VendorError> {
    let mut found: BTreeMap<String, Companies> = BTreeMap::new();
    for chunk in deal_ids.chunks(BATCH) {
        let mut inputs: Vec<Value> = chunk.iter().map(|id| json!({"id": id})).collect();
        // Each round reads the next page of the deals that have more; bounded by the pages.
        for _ in 0..100 {
            if inputs.is_empty() {
                break;
            }
            let body = json!({"inputs": inputs});
            let answer = api
                .call(
                    Method::Post,
                    "/crm/v4/associations/deals/companies/batch/read",
                    Some(&body),
                    "read associations",
                    for_deal,
                )?
                .unwrap_or(Value::Null);
            inputs = Vec::new();
            for result in answer
                .get("results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(from) = result.pointer("/from/id").and_then(id_text) else {
                    continue;
                };
                let entry = found.entry(from.clone()).or_default();
                for to in result
                    .get("to")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(company) = to.get("toObjectId").and_then(id_text) else {
                        continue;
                    };
                    let primary = to
                        .get("associationTypes")
                        .and_then(Value::as_array)
                        .is_some_and(|types| {
                            types
                                .iter()
                                .any(|t| t.get("typeId").and_then(Value::as_u64) == Some(PRIMARY))
                        });
                    entry.push((company, primary));
                }
                if let Some(after) = result.pointer("/paging/next/after").and_then(id_text) {
                    inputs.push(json!({"id": from, "after": after}));
                }
            }
        }
    }
    Ok(found)
}

/// Records of `object` (`deals`, `companies`) by id, with `properties`, by batch read.
pub fn batch_read(
    api: &Api,
    object: &str,
    ids: &[String],
    properties: &[String],
    purpose: &'static str,
    for_deal: Option<&str>,
) -> Result<BTreeMap<String, Value>, VendorError> {
    let mut records = BTreeMap::new();
    for chunk in ids.chunks(BATCH) {
        let inputs: Vec<Value> = chunk.iter().map(|id| json!({"id": id})).collect();
        let body = json!({"properties": properties, "propertiesWithHistory": [], "inputs": inputs});
        let path = format!("/crm/v3/objects/{object}/batch/read");
        let answer = api
            .call(Method::Post, &path, Some(&body), purpose, for_deal)?
            .unwrap_or(Value::Null);
        for record in answer
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = record.get("id").and_then(id_text) {
                records.insert(id, record.clone());
            }
        }
    }
    Ok(records)
}

/// The company a deal's bundle carries: the primary one, else the only one. `Err` names the
/// candidates when there are several and none is primary.
pub fn chosen(companies: &Companies) -> Result<Option<&str>, String> {
    if let Some((id, _)) = companies.iter().find(|(_, primary)| *primary) {
        return Ok(Some(id));
    }
    match companies.as_slice() {
        [] => Ok(None),
        [(id, _)] => Ok(Some(id)),
        many => {
            let ids: Vec<&str> = many.iter().map(|(id, _)| id.as_str()).collect();
            Err(format!(
                "the deal is associated with {} companies ({}) and none is its primary company; mapctl will not guess which is the client: mark one primary in HubSpot",
                many.len(),
                ids.join(", ")
            ))
        }
    }
}

/// The deal with `associations.companies.results` (primary first), as the v3 read gives it.
pub fn with_associations(mut deal: Value, companies: &Companies) -> Value {
    if companies.is_empty() {
        return deal;
    }
    let mut ordered: Vec<&(String, bool)> = companies.iter().filter(|(_, p)| *p).collect();
    ordered.extend(companies.iter().filter(|(_, p)| !*p));
    let mut seen = BTreeSet::new();
    let results: Vec<Value> = ordered
        .into_iter()
        .filter(|(id, _)| seen.insert(id.clone()))
        .map(|(id, primary)| {
            let kind = if *primary {
                "deal_to_company"
            } else {
                "deal_to_company_unlabeled"
            };
            json!({"id": id, "type": kind})
        })
        .collect();
    if let Some(map) = deal.as_object_mut() {
        map.insert(
            "associations".into(),
            json!({"companies": {"results": results}}),
        );
    }
    deal
}

pub use crate::connect::bundle;

/// The companies a v3 deal read lists under `associations.companies.results` (no primary
/// flag: the v3 read does not say which is primary).
pub fn listed_companies(deal: &Value) -> Companies {
    deal.pointer("/associations/companies/results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("id").and_then(id_text))
        .map(|id| (id, false))
        .collect()
}
