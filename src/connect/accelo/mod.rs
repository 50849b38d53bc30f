//! The Accelo target (`--to accelo`; facts and sources in docs/connectors/accelo.md).
//!
//! A create: the client first — the record's `against_id` when the mapping matched an existing
//! company, else (with `--create-clients`) the company found again or created under one lock
//! (`companies.rs`); then the names the record gives resolved to ids from Accelo's reference
//! data (`reference.rs`); then `POST /api/v0/jobs`, form-encoded, with the write-side fields
//! and the title marked with the deal (`job.rs`); then the deal id written to the job's
//! "CRM deal id" profile field, when the deployment has one. The answer is kept for sync back.
//!
//! A lookup ([`Target::find`], before any retry of a create that may have happened): the jobs
//! whose title carries the marker (`GET /jobs?_search=...`), else, when the deployment has the
//! profile field, its newest values. This is what accelo.md 4.5 concludes: the title marker is
//! the one thing Accelo can search; the profile field is the durable, visible record.

mod api;
mod companies;
mod job;
mod reference;

use serde_json::{Map, Value};

pub use api::Credentials;

use self::api::{AcceloError, Api};
use self::companies::{Companies, Resolved};
use self::job::{carries, field, marker, request_fields, unsent};
use self::reference::{Lookup, Reference};
use super::encode::{id_text, percent_encode};
use super::meter::Meter;
use super::pull::Response;
use super::vendor::ReadRetry;
use super::vendor::VendorError;
use super::{Created, Delivery, Guarantee, Target, TargetError};
use crate::net::ClientOptions;

/// The base URL of a deployment.
pub fn default_url(deployment: &str) -> String {
    format!("https://{deployment}.api.accelo.com")
}

/// How to reach the deployment and what the run allows.
pub struct AcceloOptions {
    /// Scheme, host and port (`MAPCTL_ACCELO_URL`, else from `ACCELO_DEPLOYMENT`).
    pub base: String,
    /// The service application's credentials.
    pub credentials: Credentials,
    /// Whether a client no company matches is created (`--create-clients`).
    pub create_clients: bool,
    /// The engine's client-name key (so a new client is matched as `match client` matches).
    pub client_key: fn(&str) -> String,
    /// Timeouts.
    pub client: ClientOptions,
    /// Where API calls are counted.
    pub meter: Meter,
    /// Retries of reads.
    pub retry: ReadRetry,
}

/// The Accelo target.
pub struct AcceloTarget {
    api: Api,
    reference: Reference,
    companies: Companies,
    create_clients: bool,
}

impl AcceloTarget {
    /// Starts the client (no request yet: the token is asked for by the first request).
    pub fn new(options: AcceloOptions) -> Result<AcceloTarget, String> {
        let api = Api::new(
            &options.base,
            options.credentials,
            options.client,
            options.meter,
            options.retry,
        )?;
        Ok(AcceloTarget {
            api,
            reference: Reference::default(),
            companies: Companies::new(options.client_key),
            create_clients: options.create_clients,
        })
    }

    /// The id of the client a new-client delivery names, found or created.
    fn new_client(&self, delivery: &Delivery<'_>) -> Result<Option<String>, TargetError> {
        let Some(client) = delivery
            .client
            .and_then(|c| serde_json::from_str::<Value>(c).ok())
        else {
            return Ok(None);
        };
        if client.get("match").and_then(Value::as_str) != Some("new") {
            return Ok(None);
        }
        let name = client
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !self.create_clients || name.trim().is_empty() {
            return Err(refused(format!(
                "no Accelo company matches \"{name}\"; create it in Accelo, or run with --create-clients"
            )));
        }
        match self
            .companies
            .find_or_create(&self.api, name, delivery.deal_id)
        {
            Ok(Resolved::Found(id) | Resolved::Created(id)) => Ok(Some(id)),
            Ok(Resolved::Ambiguous(many)) => {
                let names: Vec<String> = many
                    .iter()
                    .map(|c| format!("{} (id {})", c.name, c.id))
                    .collect();
                Err(refused(format!(
                    "M508: \"{name}\" matches {} Accelo companies: {}; merge the duplicates in Accelo and retry",
                    many.len(),
                    names.join(", ")
                )))
            }
            Err(error) => Err(write_error(error)),
        }
    }

    /// The ids the record names by name, from reference data.
    fn resolved(
        &self,
        record: &Map<String, Value>,
    ) -> Result<Vec<(&'static str, String)>, TargetError> {
        let mut resolved = Vec::new();
        let mut resolve =
            |name: &'static str,
             given: Option<String>,
             find: &dyn Fn(&str) -> Result<String, Lookup>| {
                if field(record, name).is_none()
                    && let Some(given) = given
                {
                    resolved.push((name, find(&given).map_err(lookup_error)?));
                }
                Ok::<(), TargetError>(())
            };
        resolve("type_id", field(record, "type_title"), &|t| {
            self.reference.type_id(&self.api, t)
        })?;
        resolve("manager_id", field(record, "manager_email"), &|e| {
            self.reference.manager_id(&self.api, e)
        })?;
        resolve("status_id", field(record, "standing"), &|s| {
            self.reference.status_id(&self.api, s)
        })?;
        Ok(resolved)
    }

    /// Writes the deal's marker to the job's "CRM deal id" profile field, when there is one;
    /// a failure is a note, not an error (the job exists and its title carries the marker).
    fn write_marker(&self, job: &str, mark: &str, deal: &str) -> Option<String> {
        let field = match self.reference.deal_id_field(&self.api) {
            Ok(Some(field)) => field,
            Ok(None) => return None,
            Err(error) => {
                return Some(format!(
                    "the job was created; reading its profile fields failed: {error}"
                ));
            }
        };
        let path = format!(
            "/jobs/{}/profiles/fields/{}",
            percent_encode(job),
            percent_encode(&field)
        );
        let pairs = [("value".to_string(), mark.to_string())];
        match self
            .api
            .post_form(&path, &pairs, "write deal id", Some(deal), true)
        {
            Ok(_) => None,
            Err(error) => Some(format!(
                "the job was created; writing the deal id to its \"{}\" profile field failed: {error}",
                reference::DEAL_ID_FIELD
            )),
        }
    }

    /// The jobs whose profile field holds the marker (newest 500 values).
    fn by_profile(&self, mark: &str, deal: &str) -> Result<Vec<String>, AcceloError> {
        let Some(field) = self.reference.deal_id_field(&self.api)? else {
            return Ok(Vec::new());
        };
        let query = [(
            "_filters",
            format!("field_id({field}),order_by_desc(date_modified)"),
        )];
        let values = self.api.list(
            "/jobs/profiles/values",
            &query,
            "read profile values",
            Some(deal),
            Some(5),
        )?;
        Ok(values
            .iter()
            .filter(|v| v.get("value").and_then(Value::as_str) == Some(mark))
            .filter_map(|v| v.get("link_id").and_then(id_text))
            .collect())
    }
}

impl AcceloTarget {
    /// The reference data `schema pull accelo` reads (accelo.md 7): job types, job statuses,
    /// staff, job profile fields and companies, each list read page by page (100 a page) and
    /// handed back as pages in Accelo's envelope, so the importer reads them as it reads saved
    /// responses (a list whose last page is full gets the empty page that ends it).
    pub fn metadata(&self) -> Result<Vec<Response>, VendorError> {
        let lists: [(&'static str, &str, &str); 5] = [
            ("job_types", "/jobs/types", "standing,has_custom_id"),
            (
                "statuses",
                "/jobs/statuses",
                "standing,color,start,ordering",
            ),
            ("staff", "/staff", "email,standing"),
            ("profile_fields", "/jobs/profiles/fields", ""),
            ("companies", "/companies", "standing,website"),
        ];
        let mut responses = Vec::new();
        for (role, path, fields) in lists {
            let query: Vec<(&str, String)> = if fields.is_empty() {
                Vec::new()
            } else {
                vec![("_fields", fields.to_string())]
            };
            let records = self
                .api
                .list(path, &query, "read reference data", None, None)
                .map_err(|e| e.error)?;
            let call = format!("Accelo GET /api/v0{path}");
            let mut pages: Vec<&[Value]> = records.chunks(api::PAGE).collect();
            if records.len() % api::PAGE == 0 {
                pages.push(&[]);
            }
            for page in pages {
                let body = serde_json::json!({
                    "meta": {"status": "ok", "message": "Everything executed as expected."},
                    "response": page,
                });
                responses.push(Response::new(role, call.clone(), body));
            }
        }
        Ok(responses)
    }
}

fn refused(message: String) -> TargetError {
    TargetError::Rejected {
        status: None,
        message,
    }
}

fn lookup_error(error: Lookup) -> TargetError {
    match error {
        Lookup::Read(error) => read_error(error),
        Lookup::Unresolved(why) => refused(why.0),
    }
}

/// A failed write: throttled, possibly written (5xx, a lost answer), refused (4xx) or a
/// duplicate (the job exists: look it up).
fn write_error(error: AcceloError) -> TargetError {
    let message = error.to_string();
    let after = error.error.after;
    match (error.error.status, error.meta.as_deref()) {
        (_, Some("duplicate")) => TargetError::Exists,
        (Some(429), _) => TargetError::Retryable {
            status: Some(429),
            message,
            after,
            maybe_written: false,
            throttled: true,
        },
        (Some(status @ (408 | 500..=599)), _) => TargetError::Retryable {
            status: Some(status),
            message,
            after,
            maybe_written: true,
            throttled: status == 503 && after.is_some(),
        },
        (Some(status), _) => TargetError::Rejected {
            status: Some(status),
            message,
        },
        (None, _) => TargetError::Retryable {
            status: None,
            message,
            after: None,
            maybe_written: error.error.maybe_sent,
            throttled: false,
        },
    }
}

/// A failed read (already retried where that could help): nothing was written.
fn read_error(error: AcceloError) -> TargetError {
    match write_error(error) {
        TargetError::Retryable {
            status,
            message,
            after,
            throttled,
            ..
        } => TargetError::Retryable {
            status,
            message,
            after,
            maybe_written: false,
            throttled,
        },
        TargetError::Exists => refused("Accelo answered `duplicate` to a read".into()),
        refusal => refusal,
    }
}

fn record_of(delivery: &Delivery<'_>) -> Result<Map<String, Value>, TargetError> {
    match serde_json::from_slice::<Value>(delivery.record) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(refused("the record is not a JSON object".into())),
    }
}

impl Target for AcceloTarget {
    fn describe(&self) -> String {
        format!("Accelo ({})", self.api.base())
    }

    fn guarantee(&self) -> Guarantee {
        Guarantee::ExactlyOnce
    }

    fn creates_clients(&self) -> bool {
        self.create_clients
    }

    fn create(&self, delivery: &Delivery<'_>) -> Result<Created, TargetError> {
        let record = record_of(delivery)?;
        let client = self.new_client(delivery)?;
        let mut resolved = self.resolved(&record)?;
        if let Some(id) = &client {
            resolved.push(("against_id", id.clone()));
        }
        let mark = marker(&record, delivery.deal_id);
        let pairs = request_fields(&record, &mark, &resolved).map_err(refused)?;
        let answer = self
            .api
            .post_form("/jobs", &pairs, "create job", Some(delivery.deal_id), false)
            .map_err(write_error)?;
        let Some(job) = answer.get("id").and_then(id_text) else {
            return Err(TargetError::Retryable {
                status: Some(200),
                message: "Accelo POST /api/v0/jobs answered without the job's id".into(),
                after: None,
                maybe_written: true,
                throttled: false,
            });
        };
        let note = self.write_marker(&job, &mark, delivery.deal_id);
        Ok(Created {
            project_id: Some(job),
            client_id: client.or_else(|| field(&record, "against_id")),
            project: Some(answer.to_string().into_bytes()),
            note,
        })
    }

    fn find(&self, delivery: &Delivery<'_>) -> Result<Vec<String>, TargetError> {
        let mark = record_of(delivery).map_or_else(
            |_| delivery.deal_id.to_string(),
            |r| marker(&r, delivery.deal_id),
        );
        let query = [
            ("_search", mark.clone()),
            (
                "_fields",
                "title,standing,against_type,against_id".to_string(),
            ),
        ];
        let jobs = self
            .api
            .list(
                "/jobs",
                &query,
                "find job",
                Some(delivery.deal_id),
                Some(10),
            )
            .map_err(read_error)?;
        let ids: Vec<String> = jobs
            .iter()
            .filter(|j| {
                j.get("title")
                    .and_then(Value::as_str)
                    .is_some_and(|t| carries(t, &mark))
            })
            .filter_map(|j| j.get("id").and_then(id_text))
            .collect();
        if !ids.is_empty() {
            return Ok(ids);
        }
        self.by_profile(&mark, delivery.deal_id).map_err(read_error)
    }

    fn project(&self, project_id: &str) -> Result<Option<Value>, TargetError> {
        let path = format!("/jobs/{}", percent_encode(project_id));
        let query = [(
            "_fields",
            "title,standing,status,against_type,against_id".to_string(),
        )];
        match self.api.get(&path, &query, "read job", None) {
            Ok(job) if job.is_object() => Ok(Some(job)),
            Ok(_) => Ok(None),
            // Accelo answers a job that does not exist with 400 invalid_request, not 404.
            Err(error) if error.meta.as_deref() == Some("invalid_request") => Ok(None),
            Err(error) => Err(read_error(error)),
        }
    }

    fn clients(&self) -> Result<Option<Vec<Value>>, TargetError> {
        self.companies
            .records(&self.api)
            .map(Some)
            .map_err(read_error)
    }

    fn review(&self, fields: &[String]) -> Vec<String> {
        let unsent = unsent(fields);
        if unsent.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "Accelo's create-job request has no field for {}: the ledger keeps them with the record, Accelo does not receive them",
            unsent
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )]
    }
}
