//! The Harvest target (`--to harvest`; facts and sources in docs/connectors/harvest.md).
//!
//! A create: the client first — the record's `client_id` when the mapping matched an existing
//! client, else (with `--create-clients`) the client found again or created under one lock
//! (`clients.rs`); then `POST /v2/projects` with the create table's fields as JSON, the
//! required ones and the enums checked, and the deal's mark in `code` (`project.rs`). The
//! answer (201 and the project) is kept for sync back.
//!
//! A lookup ([`Target::find`], before any retry of a create that may have happened): Harvest
//! filters projects by client, activity and update time only, so the deal's client is found
//! (again, by name, when it was new) and its projects listed; the one whose `code` is the
//! deal's mark is the deal's project.

mod api;
mod clients;
mod project;

use serde_json::{Map, Value};

pub use api::{Credentials, DEFAULT_URL, Limits, PER_PAGE};

use self::api::Api;
use self::clients::{Clients, Resolved};
use self::project::{code_of, request_body, unsent};
use super::encode::{id_text, percent_encode};
use super::meter::Meter;
use super::vendor::{ReadRetry, VendorError};
use super::{Created, Delivery, Guarantee, Target, TargetError};
use crate::net::ClientOptions;

/// How to reach the account and what the run allows.
pub struct HarvestOptions {
    /// Scheme, host and port (`MAPCTL_HARVEST_URL`, default [`DEFAULT_URL`]).
    pub base: String,
    /// Token, account and contact.
    pub credentials: Credentials,
    /// Whether a client no existing one matches is created (`--create-clients`).
    pub create_clients: bool,
    /// The engine's client-name key.
    pub client_key: fn(&str) -> String,
    /// Timeouts.
    pub client: ClientOptions,
    /// Where API calls are counted.
    pub meter: Meter,
    /// Retries of reads.
    pub retry: ReadRetry,
    /// Rate limits.
    pub limits: Limits,
}

/// The Harvest target.
pub struct HarvestTarget {
    api: Api,
    clients: Clients,
    create_clients: bool,
}

/// The Harvest account's API, for `schema pull` (`GET /v2/clients` pages).
pub struct HarvestReader {
    api: Api,
}

impl HarvestReader {
    /// A reader of the account at `base`.
    pub fn new(
        base: &str,
        credentials: Credentials,
        client: ClientOptions,
        retry: ReadRetry,
    ) -> Result<HarvestReader, String> {
        let api = Api::new(
            base,
            credentials,
            Limits::default(),
            client,
            Meter::new(),
            retry,
        )?;
        Ok(HarvestReader { api })
    }

    /// Every page of `GET /v2/clients?per_page=2000`, as Harvest answered.
    pub fn client_pages(&self) -> Result<Vec<Value>, VendorError> {
        Ok(self
            .api
            .pages("/v2/clients", "read clients", None)?
            .into_iter()
            .map(|(_, page)| page)
            .collect())
    }
}

fn refused(message: String) -> TargetError {
    TargetError::Rejected {
        status: None,
        message,
    }
}

/// A failed write: throttled, possibly written (5xx, a lost answer) or refused (4xx).
fn write_error(error: VendorError) -> TargetError {
    let message = error.to_string();
    match error.status {
        Some(429) => TargetError::Retryable {
            status: Some(429),
            message,
            after: error.after,
            maybe_written: false,
            throttled: true,
        },
        Some(status @ (408 | 500..=599)) => TargetError::Retryable {
            status: Some(status),
            message,
            after: error.after,
            maybe_written: true,
            throttled: status == 503 && error.after.is_some(),
        },
        Some(status) => TargetError::Rejected {
            status: Some(status),
            message,
        },
        None => TargetError::Retryable {
            status: None,
            message,
            after: None,
            maybe_written: error.maybe_sent,
            throttled: false,
        },
    }
}

/// A failed read (already retried where that could help): nothing was written.
fn read_error(error: VendorError) -> TargetError {
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
        other => other,
    }
}

fn record_of(delivery: &Delivery<'_>) -> Result<Map<String, Value>, TargetError> {
    match serde_json::from_slice::<Value>(delivery.record) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(refused("the record is not a JSON object".into())),
    }
}

/// The name of the new client a delivery asks for, when it asks for one.
fn new_client_name(delivery: &Delivery<'_>) -> Option<String> {
    let client = serde_json::from_str::<Value>(delivery.client?).ok()?;
    (client.get("match").and_then(Value::as_str) == Some("new"))
        .then(|| {
            client
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .flatten()
}

fn archived(client: &clients::Client) -> String {
    format!(
        "the Harvest client \"{}\" (id {}) is archived: reactivate it in Harvest (or give the company another name), then `mapctl retry`",
        client.name, client.id
    )
}

impl HarvestTarget {
    /// Starts the client (no request yet).
    pub fn new(options: HarvestOptions) -> Result<HarvestTarget, String> {
        let api = Api::new(
            &options.base,
            options.credentials,
            options.limits,
            options.client,
            options.meter,
            options.retry,
        )?;
        Ok(HarvestTarget {
            api,
            clients: Clients::new(options.client_key),
            create_clients: options.create_clients,
        })
    }

    /// The client id a delivery goes to: the record's (refused when that client is archived),
    /// else the new client's, found or created.
    fn client_for(
        &self,
        record: &Map<String, Value>,
        delivery: &Delivery<'_>,
    ) -> Result<Option<String>, TargetError> {
        if let Some(id) = record.get("client_id").and_then(id_text) {
            if let Some(client) = self.clients.cached(&id).filter(|c| !c.active) {
                return Err(refused(archived(&client)));
            }
            return Ok(None);
        }
        let Some(name) = new_client_name(delivery).filter(|n| !n.trim().is_empty()) else {
            return Ok(None);
        };
        if !self.create_clients {
            return Err(refused(format!(
                "no Harvest client matches \"{name}\"; create it in Harvest, or run with --create-clients"
            )));
        }
        match self
            .clients
            .find_or_create(&self.api, &name, delivery.deal_id)
        {
            Ok(Resolved::Found(id) | Resolved::Created(id)) => Ok(Some(id)),
            Ok(Resolved::Archived(client)) => Err(refused(archived(&client))),
            Ok(Resolved::Ambiguous(many)) => {
                let names: Vec<String> = many
                    .iter()
                    .map(|c| format!("{} (id {})", c.name, c.id))
                    .collect();
                Err(refused(format!(
                    "M508: \"{name}\" matches {} Harvest clients: {}; merge or rename them in Harvest and retry",
                    many.len(),
                    names.join(", ")
                )))
            }
            Err(error) => Err(write_error(error)),
        }
    }

    /// The id of the client a delivery's project would be under, without creating anything.
    fn existing_client(
        &self,
        record: &Map<String, Value>,
        delivery: &Delivery<'_>,
    ) -> Result<Option<String>, VendorError> {
        if let Some(id) = record.get("client_id").and_then(id_text) {
            return Ok(Some(id));
        }
        let Some(name) = new_client_name(delivery) else {
            return Ok(None);
        };
        // The client may have been created by the attempt being looked into.
        self.clients.mark_stale();
        let list = self.clients.list(&self.api)?;
        Ok(match self.clients.matching(&list, &name).as_slice() {
            [one] => Some(one.id.clone()),
            _ => None,
        })
    }
}

impl Target for HarvestTarget {
    fn describe(&self) -> String {
        format!("Harvest ({})", self.api.base())
    }

    fn guarantee(&self) -> Guarantee {
        Guarantee::ExactlyOnce
    }

    fn creates_clients(&self) -> bool {
        self.create_clients
    }

    fn create(&self, delivery: &Delivery<'_>) -> Result<Created, TargetError> {
        let record = record_of(delivery)?;
        let client = self.client_for(&record, delivery)?;
        let code = code_of(&record, delivery.deal_id);
        let body = request_body(&record, client.as_deref(), &code).map_err(refused)?;
        let (request, response) = self
            .api
            .post(
                "/v2/projects",
                &body,
                "create project",
                Some(delivery.deal_id),
            )
            .map_err(write_error)?;
        if !(200..=299).contains(&response.status) {
            return Err(write_error(self.api.status_error(&request, &response)));
        }
        let answer = self.api.answer(&request, &response).map_err(|mut e| {
            e.maybe_sent = true;
            e.status = None;
            write_error(e)
        })?;
        let Some(project) = answer.get("id").and_then(id_text) else {
            return Err(TargetError::Retryable {
                status: Some(response.status),
                message: "Harvest POST /v2/projects answered without the project's id".into(),
                after: None,
                maybe_written: true,
                throttled: false,
            });
        };
        Ok(Created {
            project_id: Some(project),
            client_id: client.or_else(|| record.get("client_id").and_then(id_text)),
            project: Some(answer.to_string().into_bytes()),
            note: None,
        })
    }

    fn find(&self, delivery: &Delivery<'_>) -> Result<Vec<String>, TargetError> {
        let record = record_of(delivery)?;
        let Some(client) = self
            .existing_client(&record, delivery)
            .map_err(read_error)?
        else {
            return Ok(Vec::new());
        };
        let code = code_of(&record, delivery.deal_id);
        let path = format!("/v2/projects?client_id={}", percent_encode(&client));
        let projects = self
            .api
            .list(&path, "projects", "find project", Some(delivery.deal_id))
            .map_err(read_error)?;
        Ok(projects
            .iter()
            .filter(|p| p.get("code").and_then(Value::as_str).map(str::trim) == Some(&code))
            .filter_map(|p| p.get("id").and_then(id_text))
            .collect())
    }

    fn project(&self, project_id: &str) -> Result<Option<Value>, TargetError> {
        let path = format!("/v2/projects/{}", percent_encode(project_id));
        self.api
            .get(&path, "read project", None)
            .map_err(read_error)
    }

    fn clients(&self) -> Result<Option<Vec<Value>>, TargetError> {
        self.clients
            .records(&self.api)
            .map(Some)
            .map_err(read_error)
    }

    fn review(&self, fields: &[String]) -> Vec<String> {
        let unsent = unsent(fields);
        let mut notes = Vec::new();
        if !unsent.is_empty() {
            notes.push(format!(
                "Harvest's create-project request has no field for {}: the ledger keeps them with the record, Harvest does not receive them",
                unsent
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !fields.iter().any(|f| f == "code") {
            notes.push("the mapping writes no `code`: each project's code is its deal id, which is how a project is found again after a crash".into());
        }
        notes
    }
}
