//! Where deals come from and where projects go: the [`Source`] and [`Target`] traits, and their
//! implementations. `file.rs` reads deal files (or stdin) and writes records to a file (or
//! stdout); `http_target.rs` is the generic HTTP target (docs/runtime.md states its contract).
//! Vendor connectors are folders of their own (sources `hubspot/`, `copper/`, `zoho/`; targets
//! `accelo/`, `harvest/`), each speaking one vendor's documented API (docs/connectors/), found
//! by name in `registry.rs` (`--from hubspot`, `--to accelo`), their secrets and hosts read by
//! `credentials.rs`. What they share: `vendor.rs` (every request: limits, counts, retries of
//! reads, errors naming vendor, endpoint and status), `limit.rs` (rate limits shared by all
//! workers), `meter.rs` (API calls counted by deal, vendor and purpose), `encode.rs`.
//!
//! Connectors sit below the engine: what a mapping needs from a source (the fields it reads,
//! its trigger stages, what `sync back` writes) reaches them as plain data, [`Needs`], worked
//! out by the runtime (`deliver/needs.rs`).
//!
//! A connector does one request's worth of work and says how it went; the shared runtime
//! (`deliver/`) does the rest: it records intent before every write, retries with backoff,
//! honours `Retry-After`, and resolves uncertain writes with [`Target::find`] before it creates
//! anything again. So a target must make two promises: `create` either writes the project or
//! reports an error that says honestly whether it may have written it, and `find` can recognise
//! a project created for a deal (by its idempotency key, or by the deal id the mapping writes).

pub mod accelo;
pub mod copper;
pub mod credentials;
pub mod encode;
pub mod file;
pub mod harvest;
pub mod http_target;
pub mod hubspot;
pub mod limit;
pub mod meter;
pub mod pull;
pub mod registry;
pub mod vendor;
pub mod zoho;

use std::ops::ControlFlow;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::io::input::InputItem;
use crate::value::path::PathStep;

/// What a mapping needs from a source, as plain data (the runtime works it out from the
/// mapping; connectors sit below the engine and never see one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// The bundle key of the deal record (the mapping's first `source`, e.g. `deal`).
    pub primary: String,
    /// The bundle key of the deal's associated company, when the mapping has such a record.
    pub company: Option<String>,
    /// Paths the mapping reads in the deal (steps below the record).
    pub deal_paths: Vec<Vec<PathStep>>,
    /// Paths the mapping reads in the company.
    pub company_paths: Vec<Vec<PathStep>>,
    /// The deal field that holds its stage, when the trigger compares one.
    pub stage_path: Option<Vec<PathStep>>,
    /// The stage values the trigger fires on (empty: the trigger is not a stage test).
    pub stages: Vec<String>,
    /// The deal fields `sync back` writes.
    pub sync_paths: Vec<Vec<PathStep>>,
}
/// The bundle a CRM connector hands on: the deal under the mapping's first record name
/// (`needs.primary`), and the company (or null) under the company record's name when the
/// mapping has one. The engine reads a bundle by record names.
pub fn bundle(primary: &str, deal: Value, company: Option<(&str, Option<Value>)>) -> Value {
    let mut map = Map::new();
    map.insert(primary.to_string(), deal);
    if let Some((key, record)) = company {
        map.insert(key.to_string(), record.unwrap_or(Value::Null));
    }
    Value::Object(map)
}

/// One deal to deliver.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The deal's id in the CRM.
    pub deal_id: &'a str,
    /// Stable per (mapping, deal): a target that honours it never creates twice.
    pub idempotency_key: &'a str,
    /// The PSA record, as compact JSON.
    pub record: &'a [u8],
    /// What client matching decided (JSON), when the mapping matches clients: a target that
    /// creates clients finds or creates this one first.
    pub client: Option<&'a str>,
}

/// A project the target created (or reports as existing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Created {
    /// The project's id, when the target said it.
    pub project_id: Option<String>,
    /// The client's id, when the target created or matched one.
    pub client_id: Option<String>,
    /// The project as the target answered (JSON), kept for `sync back`.
    pub project: Option<Vec<u8>>,
    /// Something worth knowing about an otherwise good create (a secondary write that failed).
    pub note: Option<String>,
}

/// Why a request to a target did not create a project.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetError {
    /// The target refused the record; nothing was written. Not retried (until `mapctl retry`).
    Rejected {
        /// The HTTP status, if any.
        status: Option<u16>,
        /// The target's explanation.
        message: String,
    },
    /// The project exists already, but the answer did not say its id: look it up.
    Exists,
    /// Try again later.
    Retryable {
        /// The HTTP status, if any.
        status: Option<u16>,
        /// What went wrong.
        message: String,
        /// How long the target asked to wait (`Retry-After`).
        after: Option<Duration>,
        /// Whether the request may have been acted on (then the deal is looked up first).
        maybe_written: bool,
        /// Whether the target asked every request to slow down (429, 503 with `Retry-After`),
        /// not only this one.
        throttled: bool,
    },
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = |s: &Option<u16>| s.map(|s| format!("HTTP {s}: ")).unwrap_or_default();
        match self {
            TargetError::Rejected { status: s, message } => write!(f, "{}{message}", status(s)),
            TargetError::Exists => f.write_str("the project exists, but its id was not given"),
            TargetError::Retryable {
                status: s, message, ..
            } => write!(f, "{}{message}", status(s)),
        }
    }
}

/// What a target promises about writes that happen twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarantee {
    /// A retried write never creates a second project (idempotency key, or lookup first).
    ExactlyOnce,
    /// A write interrupted by a crash may happen twice (stdout: nothing can be asked).
    AtLeastOnce,
}

/// A PSA (or any system projects are delivered to).
pub trait Target: Send + Sync {
    /// Names the target in messages (a URL without credentials, a file name).
    fn describe(&self) -> String;

    /// What a retried write can do.
    fn guarantee(&self) -> Guarantee;

    /// Whether the target creates clients the mapping's `match client` found no match for
    /// (then such deals are delivered with the new client in [`Delivery::client`]; otherwise
    /// the mapping rejects them, M511).
    fn creates_clients(&self) -> bool {
        false
    }

    /// Most requests the target should see at once (`None`: the runtime's setting).
    fn max_concurrency(&self) -> Option<usize> {
        None
    }

    /// Creates the project for a deal (finding or creating its client first, if the target
    /// manages clients).
    fn create(&self, delivery: &Delivery<'_>) -> Result<Created, TargetError>;

    /// The ids of projects that exist for this deal (by idempotency key or deal id), most
    /// likely first; empty when there is none.
    fn find(&self, delivery: &Delivery<'_>) -> Result<Vec<String>, TargetError>;

    /// Makes the writes reported so far durable; called before their outcomes are recorded.
    fn flush(&self) -> Result<(), TargetError> {
        Ok(())
    }

    /// The project as the target has it now (for `sync back`), when the target can say.
    fn project(&self, _project_id: &str) -> Result<Option<Value>, TargetError> {
        Ok(None)
    }

    /// The PSA's existing clients (records with `id` and `name`), for mappings that match
    /// clients, when the target can list them (read once per run).
    fn clients(&self) -> Result<Option<Vec<Value>>, TargetError> {
        Ok(None)
    }

    /// Notes on the target fields a mapping writes (`fields`: dotted paths), e.g. those the
    /// target does not send; printed once per run.
    fn review(&self, _fields: &[String]) -> Vec<String> {
        Vec::new()
    }
}

/// Why a source could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// The source does not support this (a file cannot fetch by id or be patched).
    Unsupported(String),
    /// Reading failed.
    Failed(String),
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::Unsupported(m) | SourceError::Failed(m) => f.write_str(m),
        }
    }
}

/// One deal a source produced.
pub struct SourceItem<'a> {
    /// The deal (or why it could not be read), with its position in a file.
    pub item: InputItem<'a>,
    /// Where it came from, for the ledger and messages (`deals.ndjson:12`).
    pub origin: String,
    /// The source's version of the deal (its modification time), when the source has one.
    pub version: Option<String>,
}

/// A CRM (or any place won deals are read from).
pub trait Source: Send {
    /// Names the source in messages.
    fn describe(&self) -> String;

    /// The name the source's cursor is saved under in the ledger, for sources that poll.
    fn cursor_name(&self) -> Option<&str> {
        None
    }

    /// Whether [`Source::patch`] can write `sync back` fields.
    fn can_patch(&self) -> bool {
        false
    }

    /// Calls `each` with every deal changed after `cursor` (all deals, for a file), and returns
    /// the cursor to save once they are all recorded (`None`: the source has no cursor).
    fn changed(
        &mut self,
        cursor: Option<&str>,
        each: &mut dyn FnMut(SourceItem<'_>) -> ControlFlow<()>,
    ) -> Result<Option<String>, SourceError>;

    /// One deal by id, as JSON text, when the source can fetch by id.
    fn fetch(&mut self, deal_id: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let _ = deal_id;
        Err(SourceError::Unsupported(format!(
            "{} cannot fetch a deal by id",
            self.describe()
        )))
    }

    /// Writes `sync back` fields to a deal, when the source can be written.
    fn patch(&mut self, deal_id: &str, fields: &Value) -> Result<(), SourceError> {
        let _ = (deal_id, fields);
        Err(SourceError::Unsupported(format!(
            "{} cannot be written back to",
            self.describe()
        )))
    }

    /// How many deals' `sync back` fields one [`Source::patch_many`] call writes (Zoho: 100);
    /// the runtime hands patches over in groups of this size and can stop between them.
    fn patches_per_call(&self) -> usize {
        1
    }

    /// Writes the `sync back` fields of several deals (`(deal id, fields)`), one result per
    /// deal in the same order. A source whose API updates many records in one call (Zoho: 100)
    /// overrides this; the default patches one deal at a time.
    fn patch_many(&mut self, patches: &[(String, Value)]) -> Vec<Result<(), SourceError>> {
        patches
            .iter()
            .map(|(deal_id, fields)| self.patch(deal_id, fields))
            .collect()
    }
}
