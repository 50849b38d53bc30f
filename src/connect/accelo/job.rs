//! The create-job request (accelo.md 4.4): the fields of Accelo's "Create a Job" table, sent
//! form-encoded, from the record the mapping wrote.
//!
//! Fields of the table go as they are (`title`, `against_type`, `against_id`, `type_id`,
//! `manager_id`, `status_id`, dates as Unix seconds, ...). Three mapctl fields are resolved
//! from Accelo's reference data when the record has no id for them: `type_title` (a job type's
//! title) becomes `type_id`, `manager_email` becomes `manager_id`, and `standing` becomes the
//! `status_id` of a status with that standing (Accelo derives a job's standing from its status;
//! `standing` is not writable). `crm_deal_id` identifies the deal: the title ends with
//! ` [<crm_deal_id>]` (added unless the mapping put it there), which is what a lookup searches
//! for after a crash (4.5). Other fields of the record are not Accelo request fields; they stay
//! in the ledger's copy of the record and are not sent.

use serde_json::{Map, Value};

/// The fields of Accelo's create-job table, sent as they are.
pub const WRITABLE: [&str; 14] = [
    "title",
    "against_type",
    "against_id",
    "type_id",
    "manager_id",
    "status_id",
    "rate_id",
    "rate_charged",
    "contract_id",
    "affiliation_id",
    "date_started",
    "date_due",
    "date_created",
    "is_billable",
];

/// mapctl's fields the connector turns into request fields (or reads itself: `id` is the
/// job's, set by Accelo, for `sync back`).
pub const RESOLVED: [&str; 5] = [
    "type_title",
    "manager_email",
    "standing",
    "crm_deal_id",
    "id",
];

/// The fields read back from the created job (its answer is kept for `sync back`).
pub const ANSWER_FIELDS: &str =
    "title,against_type,against_id,job_type,manager,status,standing,date_started,date_created";

/// A field's value as form text; `None` for null (left out). Booleans are `1`/`0`.
pub fn form_text(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(if *b { "1" } else { "0" }.to_string())),
        other => Err(format!("a form field cannot hold {other}")),
    }
}

/// The text of a record field, when it has one.
pub fn field(record: &Map<String, Value>, name: &str) -> Option<String> {
    record
        .get(name)
        .and_then(|v| form_text(v).ok().flatten())
        .filter(|t| !t.trim().is_empty())
}

/// The marker that identifies the deal's job: the record's `crm_deal_id`, else the deal id.
pub fn marker(record: &Map<String, Value>, deal_id: &str) -> String {
    field(record, "crm_deal_id").unwrap_or_else(|| deal_id.to_string())
}

/// The title with ` [marker]` at its end, unless it carries the marker already.
pub fn titled(title: &str, marker: &str) -> String {
    let tag = format!("[{marker}]");
    if title.contains(&tag) {
        title.to_string()
    } else {
        format!("{} {tag}", title.trim_end())
    }
}

/// Whether a job's title carries the marker.
pub fn carries(title: &str, marker: &str) -> bool {
    title.contains(&format!("[{marker}]"))
}

/// The request's fields: the record's writable ones (the title marked), with `resolved`
/// (`type_id`, `manager_id`, `status_id` found from names, and `against_id` for a new client)
/// filling in what the record lacks.
pub fn request_fields(
    record: &Map<String, Value>,
    marker: &str,
    resolved: &[(&str, String)],
) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for name in WRITABLE {
        let given = match record.get(name) {
            Some(value) => form_text(value).map_err(|e| format!("`{name}`: {e}"))?,
            None => None,
        };
        let value = given.or_else(|| {
            resolved
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        });
        let Some(mut value) = value else { continue };
        if name == "title" {
            value = titled(&value, marker);
        }
        pairs.push((name.to_string(), value));
    }
    for required in [
        "title",
        "against_type",
        "against_id",
        "type_id",
        "manager_id",
    ] {
        if !pairs.iter().any(|(n, _)| n == required) {
            return Err(format!(
                "Accelo requires `{required}` to create a job and the record has none{}",
                match required {
                    "type_id" => " (write `type_id`, or `type_title` naming an Accelo job type)",
                    "manager_id" =>
                        " (write `manager_id`, or `manager_email` of an Accelo staff member)",
                    _ => "",
                }
            ));
        }
    }
    pairs.push(("_fields".to_string(), ANSWER_FIELDS.to_string()));
    Ok(pairs)
}

/// The record's fields Accelo does not receive.
pub fn unsent(fields: &[String]) -> Vec<String> {
    fields
        .iter()
        .filter(|f| {
            let top = f.split('.').next().unwrap_or_default();
            !WRITABLE.contains(&top) && !RESOLVED.contains(&top)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writable_fields_go_as_text_and_the_title_is_marked_once() {
        let record = json!({"title": "Acme - ERP", "against_type": "company", "against_id": 101,
            "type_id": 4, "manager_id": 12, "budget": 48500, "date_started": "1741910400",
            "crm_deal_id": "HS-18000000027"});
        let record = record.as_object().unwrap();
        let mark = marker(record, "18000000027");
        assert_eq!(mark, "HS-18000000027");
        let pairs = request_fields(record, &mark, &[("status_id", "1".into())]).unwrap();
        let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("title"), Some("Acme - ERP [HS-18000000027]"));
        assert_eq!(get("against_id"), Some("101"));
        assert_eq!(get("status_id"), Some("1"));
        assert_eq!(get("budget"), None);
        assert_eq!(titled("Acme - ERP [HS-1]", "HS-1"), "Acme - ERP [HS-1]");
        assert!(carries("x [HS-1]", "HS-1") && !carries("x [HS-12]", "HS-1"));
    }

    #[test]
    fn a_missing_required_field_is_named_with_its_alternatives() {
        let record =
            json!({"title": "T", "against_type": "company", "against_id": 1, "manager_id": 2});
        let error = request_fields(record.as_object().unwrap(), "m", &[]).unwrap_err();
        assert!(
            error.contains("type_id") && error.contains("type_title"),
            "{error}"
        );
        assert_eq!(
            unsent(&["budget".into(), "title".into(), "standing".into()]),
            ["budget"]
        );
    }
}
