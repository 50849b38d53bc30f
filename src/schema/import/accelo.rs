//! Accelo: the shipped write-side schemas (`POST /api/v0/jobs`, `POST /api/v0/companies`) and,
//! for jobs, the account's reference data added to them (docs/connectors/accelo.md, section 7):
//! active job types as the enum of `type_id`, statuses a job can start in as the enum of
//! `status_id`, active staff as the enum of `manager_id`, the job profile fields as an
//! annotation, and the companies' names as labels of `against_id` (no enum: `match client`
//! may create a company during a run).
//!
//! Every list pages at 100 items and says nothing about more pages, so each flag may be given
//! once per page; a last page of exactly 100 items is refused as probably incomplete.

use serde_json::{Map, Value, json};

use super::input::{expect_shape, kind};
use super::psa::{Entry, base_schema, pages, put_entries, reference_property, stamp};
use super::{ImportError, Input, Node, PROFILE_FIELDS, Provenance};

/// The shipped create-job schema.
pub const JOB_CREATE: &str =
    include_str!("../../../mappings/schemas/accelo/job.create.schema.json");
/// The shipped create-company schema.
pub const COMPANY_CREATE: &str =
    include_str!("../../../mappings/schemas/accelo/company.create.schema.json");
/// The most items one page of an Accelo list holds (`_limit` at most 100).
pub const PAGE_LIMIT: usize = 100;

/// The Accelo object a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// Jobs (projects): `POST /api/v0/jobs`.
    Jobs,
    /// Companies: `POST /api/v0/companies`.
    Companies,
}

/// The account's reference data, each list as the pages it was fetched in.
#[derive(Debug, Default)]
pub struct References {
    /// `GET /api/v0/jobs/types` pages.
    pub job_types: Vec<Input>,
    /// `GET /api/v0/jobs/statuses` pages.
    pub statuses: Vec<Input>,
    /// `GET /api/v0/staff` pages.
    pub staff: Vec<Input>,
    /// `GET /api/v0/jobs/profiles/fields` pages.
    pub profile_fields: Vec<Input>,
    /// `GET /api/v0/companies` pages.
    pub companies: Vec<Input>,
}

impl References {
    fn is_empty(&self) -> bool {
        self.job_types.is_empty()
            && self.statuses.is_empty()
            && self.staff.is_empty()
            && self.profile_fields.is_empty()
            && self.companies.is_empty()
    }
}

/// The write-side schema of `object` (`base`, else the shipped one) with the account's
/// reference data added.
pub fn import(
    object: Object,
    base: Option<&Input>,
    references: &References,
) -> Result<Value, ImportError> {
    let (builtin_name, builtin) = match object {
        Object::Jobs => ("accelo/job.create.schema.json", JOB_CREATE),
        Object::Companies => ("accelo/company.create.schema.json", COMPANY_CREATE),
    };
    let (file, mut schema) = base_schema(base, builtin_name, builtin)?;
    let mut responses = Vec::new();
    if object == Object::Companies && !references.is_empty() {
        return Err(ImportError {
            file,
            pointer: String::new(),
            message: "reference data (job types, statuses, staff, profile fields, companies) \
                      is added to job schemas only: leave it out with `--object companies`"
                .into(),
        });
    }
    let lists: [(&[Input], &str, &'static str, Reader); 4] = [
        (
            &references.job_types,
            "type_id",
            "GET /api/v0/jobs/types",
            job_type,
        ),
        (
            &references.statuses,
            "status_id",
            "GET /api/v0/jobs/statuses",
            status,
        ),
        (&references.staff, "manager_id", "GET /api/v0/staff", staff),
        (
            &references.companies,
            "against_id",
            "GET /api/v0/companies",
            company,
        ),
    ];
    for (inputs, property, call, reader) in lists {
        if inputs.is_empty() {
            continue;
        }
        check_last_page(inputs)?;
        let mut entries = pages(inputs, list_of, reader)?;
        let target = reference_property(&mut schema, &file, property)?;
        put_entries(
            target,
            &mut entries,
            property != "against_id",
            &inputs[0].name,
        )?;
        responses.push(call);
    }
    if !references.profile_fields.is_empty() {
        check_last_page(&references.profile_fields)?;
        let fields = pages(&references.profile_fields, list_of, profile_field)?;
        schema.insert(
            PROFILE_FIELDS.into(),
            Value::Object(fields.into_iter().collect()),
        );
        responses.push("GET /api/v0/jobs/profiles/fields");
    }
    let object = match object {
        Object::Jobs => "jobs",
        Object::Companies => "companies",
    };
    stamp(
        &mut schema,
        &Provenance {
            vendor: "accelo",
            object,
            responses,
        },
    );
    Ok(Value::Object(schema))
}

/// Reads one element of a reference list.
type Reader = fn(&Node<'_>) -> Result<Entry, ImportError>;

/// The `response` list of an Accelo page: the envelope must say `ok`, and a page holding the
/// most a page can is refused when it is the last one given.
fn list_of(input: &Input) -> Result<Vec<Node<'_>>, ImportError> {
    let root = expect_shape(
        input,
        "an Accelo list response (`{\"meta\": {...}, \"response\": [...]}`)",
        |v| v.get("meta").is_some() && v.get("response").is_some(),
    )?;
    let status = root.field("meta")?.text("status")?;
    if status != "ok" {
        let message = root.field("meta")?.opt_text("message")?.unwrap_or_default();
        return Err(root.error(format!(
            "the response is an Accelo error (`meta.status` {}): {message}",
            json!(status)
        )));
    }
    root.list("response")
}

/// Refuses a last page that is full: there may be more.
fn check_last_page(inputs: &[Input]) -> Result<(), ImportError> {
    if let Some(last) = inputs.last()
        && let Ok(items) = list_of(last)
        && items.len() >= PAGE_LIMIT
    {
        return Err(last.root().error(format!(
            "the page holds {} items, as many as a page can: fetch the next page (`_page=N`) \
             and give every page, each with its own flag",
            items.len()
        )));
    }
    Ok(())
}

/// True unless `standing` says inactive.
fn is_active(node: &Node<'_>) -> Result<bool, ImportError> {
    Ok(node.opt_text("standing")? != Some("inactive"))
}

fn job_type(node: &Node<'_>) -> Result<Entry, ImportError> {
    Ok(Entry {
        id: node.int_field("id")?,
        label: node.text("title")?.to_string(),
        active: is_active(node)?,
    })
}

/// A status a job can be created in (`start` is `yes`) and that is not inactive.
fn status(node: &Node<'_>) -> Result<Entry, ImportError> {
    let start = match node.get("start") {
        Some(start) => match start.str()? {
            "yes" => true,
            "no" => false,
            other => {
                return Err(start.error(format!(
                    "expected \"yes\" or \"no\", found {}",
                    json!(other)
                )));
            }
        },
        None => true,
    };
    Ok(Entry {
        id: node.int_field("id")?,
        label: node.text("title")?.to_string(),
        active: start && is_active(node)?,
    })
}

fn staff(node: &Node<'_>) -> Result<Entry, ImportError> {
    let first = node.opt_text("firstname")?.unwrap_or_default();
    let last = node.opt_text("surname")?.unwrap_or_default();
    let mut label = format!("{first} {last}").trim().to_string();
    if let Some(email) = node.opt_text("email")?.filter(|e| !e.is_empty()) {
        label = format!("{label} <{email}>").trim().to_string();
    }
    Ok(Entry {
        id: node.int_field("id")?,
        label,
        active: is_active(node)?,
    })
}

fn company(node: &Node<'_>) -> Result<Entry, ImportError> {
    Ok(Entry {
        id: node.int_field("id")?,
        label: node.text("name")?.to_string(),
        active: is_active(node)?,
    })
}

/// One profile field as `(id, {name, type, required, restrictions, options})`.
fn profile_field(node: &Node<'_>) -> Result<(String, Value), ImportError> {
    let id = node.int_field("id")?;
    let required = match node.get("required") {
        Some(flag) => match flag.value() {
            Value::String(s) => s == "yes",
            Value::Bool(b) => *b,
            other => {
                return Err(
                    flag.error(format!("expected \"yes\" or \"no\", found {}", kind(other)))
                );
            }
        },
        None => false,
    };
    let mut field = Map::new();
    field.insert("name".into(), json!(node.text("field_name")?));
    field.insert("type".into(), json!(node.text("field_type")?));
    field.insert("required".into(), json!(required));
    if let Some(restrictions) = node.opt_text("restrictions")? {
        field.insert("restrictions".into(), json!(restrictions));
    }
    if let Some(options) = node.get("options") {
        field.insert("options".into(), options.value().clone());
    }
    Ok((id.to_string(), Value::Object(field)))
}
