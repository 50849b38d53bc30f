//! The Copper source (`--from copper`; facts and sources in docs/connectors/copper.md).
//!
//! - Polling ([`Source::changed`]): the opportunity search at the trigger's status, pipeline or
//!   stage, modified since the ledger's cursor (minus five minutes: whether
//!   `minimum_modified_date` is inclusive is not documented, and the ledger drops repeats),
//!   oldest change first, 200 a page (`search.rs`). An opportunity carries `company_name` and
//!   every custom field (`custom_fields`, as returned), so a page costs one call; the company
//!   is read (`GET /companies/{id}`, once per company and poll) only when the mapping has a
//!   company record. The cursor returned is the newest `date_modified` read (Unix seconds).
//! - By id ([`Source::fetch`], for `mapctl retry`): `GET /opportunities/{id}`.
//! - Sync back ([`Source::patch`]): `PUT /opportunities/{id}` with only the fields the `sync
//!   back` rules give, the answer checked to hold them (`patch.rs`).
//!
//! Copper sends each webhook once and never retries it, so there is no webhook mode: polling
//! is the only way not to miss a deal. The API key and its user's email come from
//! `COPPER_TOKEN` and `COPPER_USER_EMAIL` and go only into request headers.

mod api;
mod patch;
mod search;

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Duration;

use serde_json::Value;

pub use api::{Credentials, DEFAULT_URL, Limits};

use self::api::Api;
use self::search::{Query, modified};
use super::encode::{id_text, percent_encode};
use super::meter::Meter;
use super::pull::{Response, required};
use super::vendor::{ReadRetry, VendorError};
use super::{Needs, Source, SourceError, SourceItem, bundle};
use crate::io::input::{InputItem, Payload, Position};
use crate::net::{ClientOptions, Method};

/// How to reach Copper and what to read.
pub struct CopperOptions {
    /// Scheme, host and port (`MAPCTL_COPPER_URL`, default [`DEFAULT_URL`]).
    pub base: String,
    /// The API key and its user's email.
    pub credentials: Credentials,
    /// What the mapping reads and writes back.
    pub needs: Needs,
    /// Timeouts.
    pub client: ClientOptions,
    /// Where API calls are counted.
    pub meter: Meter,
    /// Retries of reads.
    pub retry: ReadRetry,
    /// Rate limits.
    pub limits: Limits,
    /// Opportunities per search page (at most 200).
    pub page_size: usize,
    /// Results one search may page through (Copper: 100,000).
    pub search_cap: usize,
    /// How far before the cursor a poll starts.
    pub overlap: Duration,
}

impl CopperOptions {
    /// The documented defaults.
    pub fn new(base: &str, credentials: Credentials, needs: Needs) -> CopperOptions {
        CopperOptions {
            base: base.to_string(),
            credentials,
            needs,
            client: ClientOptions::default(),
            meter: Meter::new(),
            retry: ReadRetry::default(),
            limits: Limits::default(),
            page_size: 200,
            search_cap: 100_000,
            overlap: Duration::from_secs(300),
        }
    }
}

/// The Copper source.
pub struct CopperSource {
    api: Api,
    needs: Needs,
    query: Query,
    overlap: i64,
}

fn failed(error: VendorError) -> SourceError {
    SourceError::Failed(error.to_string())
}

impl CopperSource {
    /// Checks what the mapping asks of Copper and starts the client (no request yet).
    pub fn new(options: CopperOptions) -> Result<CopperSource, String> {
        patch::check_paths(&options.needs)?;
        let api = Api::new(
            &options.base,
            options.credentials,
            options.limits,
            options.client,
            options.meter,
            options.retry,
        )?;
        let query = Query::for_needs(&options.needs, options.page_size, options.search_cap);
        Ok(CopperSource {
            api,
            needs: options.needs,
            query,
            overlap: i64::try_from(options.overlap.as_secs()).unwrap_or(0),
        })
    }

    /// The company record of an opportunity, when the mapping has a company record (`None`
    /// otherwise, or when the opportunity names none). Read once per company and poll.
    fn company(
        &self,
        opportunity: &Value,
        cache: &mut BTreeMap<String, Option<Value>>,
        deal: Option<&str>,
    ) -> Result<Option<Value>, VendorError> {
        if self.needs.company.is_none() {
            return Ok(None);
        }
        let Some(id) = opportunity.get("company_id").and_then(id_text) else {
            return Ok(None);
        };
        if let Some(known) = cache.get(&id) {
            return Ok(known.clone());
        }
        let path = format!("/companies/{}", percent_encode(&id));
        let record = self
            .api
            .call(Method::Get, &path, None, "read company", deal)?;
        cache.insert(id, record.clone());
        Ok(record)
    }

    /// The bundle of one opportunity.
    fn bundle_of(&self, opportunity: Value, company: Option<Value>) -> Value {
        let company = self.needs.company.as_deref().map(|key| (key, company));
        bundle(&self.needs.primary, opportunity, company)
    }

    /// Polls from `since` (Unix seconds), raising `newest` to the newest modification read.
    fn poll(
        &mut self,
        mut since: i64,
        each: &mut dyn FnMut(SourceItem<'_>) -> ControlFlow<()>,
        newest: &mut Option<i64>,
    ) -> Result<(), VendorError> {
        let mut companies = BTreeMap::new();
        let mut index = 0usize;
        loop {
            let mut last = since;
            let mut page = 1usize;
            loop {
                let opportunities = self.query.page(&self.api, since, page)?;
                let full = opportunities.len() >= self.query.page_size;
                for opportunity in opportunities {
                    let id = opportunity.get("id").and_then(id_text).unwrap_or_default();
                    let changed = modified(&opportunity);
                    last = changed.map_or(last, |m| m.max(last));
                    let company = self.company(&opportunity, &mut companies, None)?;
                    let item = InputItem {
                        position: Position::Index(index),
                        value: Ok(Payload::Parsed(self.bundle_of(opportunity, company))),
                    };
                    index += 1;
                    let flow = each(SourceItem {
                        item,
                        origin: format!("copper:opportunity/{id}"),
                        version: changed.map(|m| m.to_string()),
                    });
                    *newest = (*newest).max(changed);
                    if flow.is_break() {
                        return Ok(());
                    }
                }
                if !full {
                    return Ok(());
                }
                if self.query.past_cap(page) {
                    break;
                }
                page += 1;
            }
            if last <= since {
                return Err(VendorError {
                    endpoint: format!("Copper POST {}{}", api::PREFIX, search::PATH),
                    status: None,
                    message: format!(
                        "more than {} opportunities were modified in the same second; the search cannot page past them",
                        self.query.cap
                    ),
                    maybe_sent: false,
                    after: None,
                });
            }
            since = last;
        }
    }
}

impl CopperSource {
    /// The metadata `schema pull copper` reads (copper.md 5): the custom field definitions
    /// (`GET /custom_field_definitions`) and the pipelines with their stages (`GET /pipelines`).
    pub fn metadata(&self) -> Result<Vec<Response>, VendorError> {
        let mut responses = Vec::new();
        for (role, path, purpose) in [
            (
                "custom_fields",
                "/custom_field_definitions",
                "read custom fields",
            ),
            ("pipelines", "/pipelines", "read pipelines"),
        ] {
            let call = format!("Copper GET {}{path}", api::PREFIX);
            let body = self.api.call(Method::Get, path, None, purpose, None)?;
            responses.push(Response::new(role, call.clone(), required(&call, body)?));
        }
        Ok(responses)
    }
}

impl Source for CopperSource {
    fn describe(&self) -> String {
        format!("Copper ({})", self.api.base())
    }

    fn cursor_name(&self) -> Option<&str> {
        Some("copper")
    }

    fn can_patch(&self) -> bool {
        true
    }

    fn changed(
        &mut self,
        cursor: Option<&str>,
        each: &mut dyn FnMut(SourceItem<'_>) -> ControlFlow<()>,
    ) -> Result<Option<String>, SourceError> {
        let saved = cursor.and_then(|c| c.trim().parse::<i64>().ok());
        let since = saved.map_or(0, |c| (c - self.overlap).max(0));
        let mut newest = saved;
        self.poll(since, each, &mut newest).map_err(failed)?;
        Ok(newest.map(|n| n.to_string()))
    }

    fn fetch(&mut self, deal_id: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let path = format!("/opportunities/{}", percent_encode(deal_id));
        let Some(opportunity) = self
            .api
            .call(Method::Get, &path, None, "read opportunity", Some(deal_id))
            .map_err(failed)?
        else {
            return Ok(None);
        };
        let company = self
            .company(&opportunity, &mut BTreeMap::new(), Some(deal_id))
            .map_err(failed)?;
        Ok(Some(
            self.bundle_of(opportunity, company)
                .to_string()
                .into_bytes(),
        ))
    }

    fn patch(&mut self, deal_id: &str, fields: &Value) -> Result<(), SourceError> {
        let body = patch::put_body(fields).map_err(SourceError::Failed)?;
        let path = format!("/opportunities/{}", percent_encode(deal_id));
        let echoed = match self.api.call(
            Method::Put,
            &path,
            Some(&body),
            "sync back",
            Some(deal_id),
        ) {
            Ok(Some(echoed)) => echoed,
            Ok(None) => {
                return Err(SourceError::Failed(format!(
                    "Copper PUT {}/opportunities/{deal_id} answered 404: the opportunity no longer exists",
                    api::PREFIX
                )));
            }
            Err(error) => return Err(failed(error)),
        };
        match patch::missing_in_echo(&body, &echoed) {
            None => Ok(()),
            Some(what) => Err(SourceError::Failed(format!(
                "Copper accepted the update of opportunity {deal_id}, but its answer does not hold the {what} written; check the opportunity in Copper"
            ))),
        }
    }
}
