//! Accelo's reference data (accelo.md 4.3), read at most once per run and only when a record
//! needs it: job types (a type title the mapping writes becomes `type_id`), job statuses (the
//! `standing` it writes becomes the `status_id` of a status with that standing that a job may
//! start in), active staff (a manager's email becomes `manager_id`), and the job profile field
//! named "CRM deal id" (where the deal's id is written for people and for recovery).

use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::api::{AcceloError, Api};
use crate::connect::encode::id_text;

/// The name of the job profile field the deal id is written to.
pub const DEAL_ID_FIELD: &str = "CRM deal id";

/// One cached list.
type Cached = Mutex<Option<Arc<Vec<Value>>>>;

/// Reference data, cached for the run.
#[derive(Default)]
pub struct Reference {
    types: Cached,
    statuses: Cached,
    staff: Cached,
    fields: Cached,
}

/// Why a name the mapping wrote could not be resolved: the deal is refused (nothing written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved(pub String);

/// A failure: Accelo could not be read, or a name does not resolve.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Reading failed.
    Read(AcceloError),
    /// The name matches nothing (or several things).
    Unresolved(Unresolved),
}

impl From<AcceloError> for Lookup {
    fn from(error: AcceloError) -> Lookup {
        Lookup::Read(error)
    }
}

fn text<'a>(record: &'a Value, key: &str) -> &'a str {
    record.get(key).and_then(Value::as_str).unwrap_or_default()
}

impl Reference {
    fn cached(
        slot: &Cached,
        api: &Api,
        path: &str,
        query: &[(&str, String)],
        purpose: &'static str,
    ) -> Result<Arc<Vec<Value>>, AcceloError> {
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = slot.as_ref() {
            return Ok(Arc::clone(list));
        }
        let list = Arc::new(api.list(path, query, purpose, None, None)?);
        *slot = Some(Arc::clone(&list));
        Ok(list)
    }

    /// The id of the job type titled `title` (case-insensitive; an active one).
    pub fn type_id(&self, api: &Api, title: &str) -> Result<String, Lookup> {
        let fields = [("_fields", "standing,has_custom_id".to_string())];
        let types = Self::cached(&self.types, api, "/jobs/types", &fields, "read job types")?;
        let matching: Vec<&Value> = types
            .iter()
            .filter(|t| text(t, "title").eq_ignore_ascii_case(title.trim()))
            .filter(|t| text(t, "standing") != "inactive")
            .collect();
        let titles = || {
            let active: Vec<&str> = types
                .iter()
                .filter(|t| text(t, "standing") != "inactive")
                .map(|t| text(t, "title"))
                .collect();
            active.join(", ")
        };
        one_id(
            &matching,
            || {
                format!(
                    "no active Accelo job type is titled \"{title}\" (active types: {})",
                    titles()
                )
            },
            || {
                format!(
                    "{} active Accelo job types are titled \"{title}\"",
                    matching.len()
                )
            },
        )
    }

    /// The id of the status a new job with `standing` starts in: a status of that standing
    /// whose `start` is `yes`, the first in Accelo's ordering.
    pub fn status_id(&self, api: &Api, standing: &str) -> Result<String, Lookup> {
        let fields = [("_fields", "standing,color,start,ordering".to_string())];
        let statuses = Self::cached(
            &self.statuses,
            api,
            "/jobs/statuses",
            &fields,
            "read job statuses",
        )?;
        let order = |s: &Value| text(s, "ordering").parse::<i64>().unwrap_or(i64::MAX);
        let mut matching: Vec<&Value> = statuses
            .iter()
            .filter(|s| {
                text(s, "standing").eq_ignore_ascii_case(standing) && text(s, "start") != "no"
            })
            .collect();
        matching.sort_by_key(|s| order(s));
        match matching.first().and_then(|s| s.get("id")).and_then(id_text) {
            Some(id) => Ok(id),
            None => Err(Lookup::Unresolved(Unresolved(format!(
                "no Accelo job status with standing \"{standing}\" can start a job; write `status_id`, or a standing one of the statuses has"
            )))),
        }
    }

    /// The id of the active staff member with `email` (case-insensitive).
    pub fn manager_id(&self, api: &Api, email: &str) -> Result<String, Lookup> {
        let query = [
            ("_fields", "email,standing".to_string()),
            ("_filters", "standing(active)".to_string()),
        ];
        let staff = Self::cached(&self.staff, api, "/staff", &query, "read staff")?;
        let matching: Vec<&Value> = staff
            .iter()
            .filter(|s| text(s, "email").eq_ignore_ascii_case(email.trim()))
            .filter(|s| text(s, "standing") != "inactive")
            .collect();
        one_id(
            &matching,
            || format!("no active Accelo staff member has the email \"{email}\""),
            || {
                format!(
                    "{} active Accelo staff members have the email \"{email}\"",
                    matching.len()
                )
            },
        )
    }

    /// The id of the job profile field "CRM deal id", when the deployment has one.
    pub fn deal_id_field(&self, api: &Api) -> Result<Option<String>, AcceloError> {
        let fields = Self::cached(
            &self.fields,
            api,
            "/jobs/profiles/fields",
            &[],
            "read profile fields",
        )?;
        Ok(fields
            .iter()
            .find(|f| {
                text(f, "field_name").eq_ignore_ascii_case(DEAL_ID_FIELD)
                    && text(f, "link_type") != "company"
            })
            .and_then(|f| f.get("id"))
            .and_then(id_text))
    }
}

/// The one record's id, or why there is not exactly one.
fn one_id(
    matching: &[&Value],
    none: impl FnOnce() -> String,
    many: impl FnOnce() -> String,
) -> Result<String, Lookup> {
    match matching {
        [one] => one
            .get("id")
            .and_then(id_text)
            .ok_or_else(|| Lookup::Unresolved(Unresolved("Accelo's record has no id".into()))),
        [] => Err(Lookup::Unresolved(Unresolved(none()))),
        _ => Err(Lookup::Unresolved(Unresolved(many()))),
    }
}
