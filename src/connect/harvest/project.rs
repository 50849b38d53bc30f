//! The create-project request (harvest.md 4.4): the fields of Harvest's "Create a project"
//! table, as JSON, from the record the mapping wrote; the required ones (`client_id`, `name`,
//! `is_billable`, `bill_by`, `budget_by`) and the two enums (`bill_by`: `Project`, `Tasks`,
//! `People`, `none`; `budget_by`: `project`, `project_cost`, `task`, `task_fees`, `person`,
//! `none`, exactly so cased) are checked before anything is sent.
//!
//! The deal's mark is the project's `code` (4.5): Harvest can filter projects by nothing but
//! `client_id`, `is_active` and `updated_since`, so after a crash the client's projects are
//! listed and the one whose `code` is the record's is the deal's. A record without a `code`
//! gets the deal id as its code.

use serde_json::{Map, Value};

/// The fields of Harvest's create-project table.
pub const WRITABLE: [&str; 20] = [
    "client_id",
    "name",
    "code",
    "is_active",
    "is_billable",
    "is_fixed_fee",
    "bill_by",
    "hourly_rate",
    "budget_by",
    "budget",
    "budget_is_monthly",
    "cost_budget",
    "cost_budget_include_expenses",
    "notify_when_over_budget",
    "over_budget_notification_percentage",
    "show_budget_to_all",
    "fee",
    "notes",
    "starts_on",
    "ends_on",
];

/// Fields Harvest requires to create a project.
const REQUIRED: [&str; 5] = ["client_id", "name", "is_billable", "bill_by", "budget_by"];
/// `bill_by`'s values (v2; v1's capitalisations are refused).
pub const BILL_BY: [&str; 4] = ["Project", "Tasks", "People", "none"];
/// `budget_by`'s values.
pub const BUDGET_BY: [&str; 6] = [
    "project",
    "project_cost",
    "task",
    "task_fees",
    "person",
    "none",
];

/// The code that marks the deal's project: the record's `code`, else the deal id.
pub fn code_of(record: &Map<String, Value>, deal_id: &str) -> String {
    record
        .get("code")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map_or_else(|| deal_id.to_string(), str::to_string)
}

/// The create request's body: the record's writable fields (nulls left out, so Harvest's
/// defaults apply), `client_id` when the client was found or created here, and the code.
pub fn request_body(
    record: &Map<String, Value>,
    client_id: Option<&str>,
    code: &str,
) -> Result<Value, String> {
    let mut body = Map::new();
    for name in WRITABLE {
        if let Some(value) = record.get(name).filter(|v| !v.is_null()) {
            body.insert(name.to_string(), value.clone());
        }
    }
    if let Some(id) = client_id {
        let id = id
            .parse::<u64>()
            .map_or_else(|_| Value::String(id.to_string()), Value::from);
        body.insert("client_id".into(), id);
    }
    body.insert("code".into(), Value::String(code.to_string()));
    for required in REQUIRED {
        if !body.contains_key(required) {
            return Err(format!(
                "Harvest requires `{required}` to create a project and the record has none"
            ));
        }
    }
    for (field, allowed) in [("bill_by", &BILL_BY[..]), ("budget_by", &BUDGET_BY[..])] {
        let value = body.get(field).and_then(Value::as_str).unwrap_or_default();
        if !allowed.contains(&value) {
            return Err(format!(
                "Harvest's `{field}` is one of {} (exactly so cased), not {}",
                allowed.join(", "),
                body.get(field).map(Value::to_string).unwrap_or_default()
            ));
        }
    }
    Ok(Value::Object(body))
}

/// The record's fields Harvest does not receive.
pub fn unsent(fields: &[String]) -> Vec<String> {
    fields
        .iter()
        .filter(|f| {
            let top = f.split('.').next().unwrap_or_default();
            !WRITABLE.contains(&top) && top != "id"
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn writable_fields_go_as_json_with_the_code_and_the_client() {
        let r = record(
            json!({"name": "Acme - ERP", "code": "FIX-27000451", "is_billable": true,
            "bill_by": "none", "budget_by": "project_cost", "cost_budget": 48500, "fee": null,
            "budget": null, "internal": "x"}),
        );
        let body = request_body(&r, Some("8410221"), &code_of(&r, "27000451")).unwrap();
        assert_eq!(
            body,
            json!({"client_id": 8410221, "name": "Acme - ERP", "code": "FIX-27000451",
                "is_billable": true, "bill_by": "none", "budget_by": "project_cost", "cost_budget": 48500})
        );
        let bare = record(json!({"name": "x"}));
        assert_eq!(code_of(&bare, "27000451"), "27000451");
    }

    #[test]
    fn required_fields_and_enums_are_checked() {
        let r = record(
            json!({"name": "x", "is_billable": true, "bill_by": "Project", "budget_by": "none"}),
        );
        let error = request_body(&r, None, "c").unwrap_err();
        assert!(error.contains("client_id"), "{error}");
        let v1 = record(json!({"client_id": 1, "name": "x", "is_billable": true,
            "bill_by": "Project", "budget_by": "Project_Cost"}));
        let error = request_body(&v1, None, "c").unwrap_err();
        assert!(
            error.contains("budget_by") && error.contains("project_cost"),
            "{error}"
        );
        assert_eq!(unsent(&["name".into(), "template".into()]), ["template"]);
    }
}
