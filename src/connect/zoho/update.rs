//! Sync back as Zoho takes it (zoho.md 4.4): `PUT /crm/v7/Deals` with `{"data": [{"id", field:
//! value, ...}]}`, at most 100 records a call, fields by API name; each record gets its own
//! result in the answer's `data` (in the request's order; 207 when some failed), so every
//! deal's sync back succeeds or fails on its own.

use serde_json::{Map, Value, json};

use super::api::{Api, error_text};
use crate::connect::{Needs, SourceError};
use crate::net::Method;
use crate::value::path::PathStep;

/// Records per update call.
pub const BATCH: usize = 100;

/// `sync back` may write any field of a deal by its API name, but not its id.
pub fn check_paths(needs: &Needs) -> Result<(), String> {
    for path in &needs.sync_paths {
        match path.first() {
            Some(PathStep::Field(name)) if name != "id" => {}
            _ => {
                return Err(format!(
                    "Zoho: `sync back` writes `{}.{}`, but a deal is written through its fields by API name (`{0}.Project_Status`)",
                    needs.primary,
                    crate::connect::encode::path_text(path)
                ));
            }
        }
    }
    Ok(())
}

/// One record of the update body: the patch's fields and the deal's id.
fn record(deal_id: &str, fields: &Value) -> Result<Value, String> {
    let Some(object) = fields.as_object() else {
        return Err("Zoho: the sync back patch is not an object".into());
    };
    if object.contains_key("id") {
        return Err("Zoho: sync back cannot write a deal's id".into());
    }
    let mut record = Map::new();
    record.insert("id".into(), json!(deal_id));
    record.extend(object.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(Value::Object(record))
}

/// Writes the patches, 100 deals a call; one result per patch, in order.
pub fn update(api: &Api, patches: &[(String, Value)]) -> Vec<Result<(), SourceError>> {
    let mut results = Vec::with_capacity(patches.len());
    for chunk in patches.chunks(BATCH) {
        let mut sent = Vec::new();
        let mut records = Vec::new();
        let mut chunk_results: Vec<Option<Result<(), SourceError>>> = Vec::new();
        for (deal_id, fields) in chunk {
            match record(deal_id, fields) {
                Ok(r) => {
                    sent.push(chunk_results.len());
                    chunk_results.push(None);
                    records.push(r);
                }
                Err(e) => chunk_results.push(Some(Err(SourceError::Failed(e)))),
            }
        }
        if !records.is_empty() {
            let deal = (records.len() == 1).then(|| chunk[sent[0]].0.as_str());
            let body = json!({"data": records});
            let outcome = api.call(Method::Put, "/Deals", Some(&body), "sync back", deal);
            let per_record = per_record(outcome, records.len());
            for (index, result) in sent.into_iter().zip(per_record) {
                chunk_results[index] = Some(result);
            }
        }
        results.extend(
            chunk_results.into_iter().map(|r| {
                r.unwrap_or_else(|| Err(SourceError::Failed("Zoho gave no result".into())))
            }),
        );
    }
    results
}

/// Each record's result in an update's answer (or the call's failure, for every record).
fn per_record(
    outcome: Result<super::api::Answer, crate::connect::vendor::VendorError>,
    count: usize,
) -> Vec<Result<(), SourceError>> {
    let answer = match outcome {
        Ok(answer) => answer,
        Err(error) => {
            return (0..count)
                .map(|_| Err(SourceError::Failed(error.to_string())))
                .collect();
        }
    };
    let items = answer
        .body
        .as_ref()
        .and_then(|b| b.get("data"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    (0..count)
        .map(|i| match items.get(i) {
            Some(item) if item.get("status").and_then(Value::as_str) == Some("success") => Ok(()),
            Some(item) => Err(SourceError::Failed(format!(
                "Zoho PUT /crm/v7/Deals answered {} for this deal: {}",
                answer.status,
                error_text(item).unwrap_or_else(|| item.to_string())
            ))),
            None if answer.status == 404 => Err(SourceError::Failed(
                "Zoho PUT /crm/v7/Deals answered 404".into(),
            )),
            None => Err(SourceError::Failed(format!(
                "Zoho PUT /crm/v7/Deals answered {} without a result for this deal",
                answer.status
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_the_id_and_the_patch_only() {
        let r = record("5725767000000524157", &json!({"Project_Status": "Planned"})).unwrap();
        assert_eq!(
            r,
            json!({"id": "5725767000000524157", "Project_Status": "Planned"})
        );
        assert!(record("1", &json!({"id": "2"})).is_err());
        let results = per_record(
            Ok(super::super::api::Answer {
                status: 207,
                body: Some(json!({"data": [
                    {"code": "SUCCESS", "status": "success", "message": "record updated", "details": {}},
                    {"code": "INVALID_DATA", "status": "error", "message": "invalid data",
                     "details": {"api_name": "Project_Status"}}]})),
            }),
            2,
        );
        assert!(results[0].is_ok());
        let error = results[1].as_ref().unwrap_err().to_string();
        assert!(
            error.contains("INVALID_DATA") && error.contains("Project_Status"),
            "{error}"
        );
    }
}
