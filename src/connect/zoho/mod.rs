//! The Zoho CRM source (`--from zoho`; facts and sources in docs/connectors/zoho.md).
//!
//! - Polling ([`Source::changed`]): the Deals search at the trigger's stages, modified since
//!   the ledger's cursor (minus five minutes, for the search's indexing delay), windows split
//!   while one holds more than the search returns, stages checked exactly (`search.rs`). Only
//!   the fields the mapping reads are asked for (with the stage, the modification time and the
//!   id); lookups come as Zoho returns them (`{"name", "id"}`), so no Account read is needed
//!   unless the mapping has a company record (then `GET /crm/v7/Accounts/{id}`, once per
//!   account and poll). The cursor is the newest `Modified_Time` read, in Unix ms.
//! - By id ([`Source::fetch`], for `mapctl retry`): `GET /crm/v7/Deals/{id}`.
//! - Sync back ([`Source::patch_many`]): `PUT /crm/v7/Deals`, 100 deals a call (`update.rs`).
//!
//! The OAuth client and refresh token come from `ZOHO_CLIENT_ID`, `ZOHO_CLIENT_SECRET` and
//! `ZOHO_REFRESH_TOKEN`; access tokens live in memory only (`api.rs`).

mod api;
mod search;
mod update;

use std::collections::{BTreeMap, HashSet};
use std::ops::ControlFlow;
use std::time::Duration;

use serde_json::Value;

pub use api::{Credentials, DEFAULT_ACCOUNTS_URL, Hosts, Limits, VERSION};

use self::api::Api;
use self::search::{MODIFIED, Query, Window, modified_ms};
use super::encode::{id_text, now_ms, percent_encode};
use super::meter::Meter;
use super::pull::{Response, required};
use super::vendor::{ReadRetry, VendorError};
use super::{Needs, Source, SourceError, SourceItem, bundle};
use crate::io::input::{InputItem, Payload, Position};
use crate::net::{ClientOptions, Method};
use crate::value::path::PathStep;

/// How to reach Zoho and what to read.
pub struct ZohoOptions {
    /// The accounts server and, when fixed, the API domain.
    pub hosts: Hosts,
    /// The OAuth client and refresh token.
    pub credentials: Credentials,
    /// What the mapping reads and writes back.
    pub needs: Needs,
    /// Timeouts.
    pub client: ClientOptions,
    /// Where API calls are counted.
    pub meter: Meter,
    /// Retries of reads.
    pub retry: ReadRetry,
    /// The API credit quota.
    pub limits: Limits,
    /// Records per search page (at most 200).
    pub per_page: usize,
    /// Pages one search may read (Zoho: 10, for 2,000 records).
    pub max_pages: usize,
    /// How far before the cursor a poll starts.
    pub overlap: Duration,
}

impl ZohoOptions {
    /// The documented defaults.
    pub fn new(hosts: Hosts, credentials: Credentials, needs: Needs) -> ZohoOptions {
        ZohoOptions {
            hosts,
            credentials,
            needs,
            client: ClientOptions::default(),
            meter: Meter::new(),
            retry: ReadRetry::default(),
            limits: Limits::default(),
            per_page: search::PER_PAGE,
            max_pages: search::MAX_PAGES,
            overlap: Duration::from_secs(300),
        }
    }
}

/// The Zoho CRM source.
pub struct ZohoSource {
    api: Api,
    needs: Needs,
    query: Query,
    overlap_ms: i64,
}

fn failed(error: VendorError) -> SourceError {
    SourceError::Failed(error.to_string())
}

/// The top-level fields the mapping reads (`None`: a rule reads a whole record).
fn fields_read(needs: &Needs, stage: Option<&str>) -> Option<Vec<String>> {
    let mut fields = vec!["id".to_string(), MODIFIED.to_string()];
    fields.extend(stage.map(str::to_string));
    for path in &needs.deal_paths {
        match path.first() {
            Some(PathStep::Field(name)) => fields.push(name.clone()),
            _ => return None,
        }
    }
    fields.sort();
    fields.dedup();
    Some(fields)
}

impl ZohoSource {
    /// Checks what the mapping asks of Zoho and starts the client (no request yet).
    pub fn new(options: ZohoOptions) -> Result<ZohoSource, String> {
        update::check_paths(&options.needs)?;
        let stage_field = match options.needs.stage_path.as_deref() {
            Some([PathStep::Field(name)]) => Some(name.clone()),
            _ => None,
        };
        let query = Query {
            fields: fields_read(&options.needs, stage_field.as_deref()),
            stages: options.needs.stages.clone(),
            stage_field,
            per_page: options.per_page.clamp(1, search::PER_PAGE),
            max_pages: options.max_pages.max(1),
        };
        let api = Api::new(
            options.hosts,
            options.credentials,
            options.limits,
            options.client,
            options.meter,
            options.retry,
        )?;
        Ok(ZohoSource {
            api,
            needs: options.needs,
            query,
            overlap_ms: i64::try_from(options.overlap.as_millis()).unwrap_or(0),
        })
    }

    /// The account record of a deal, when the mapping has a company record.
    fn account(
        &self,
        deal: &Value,
        cache: &mut BTreeMap<String, Option<Value>>,
        for_deal: Option<&str>,
    ) -> Result<Option<Value>, VendorError> {
        if self.needs.company.is_none() {
            return Ok(None);
        }
        let Some(id) = deal.pointer("/Account_Name/id").and_then(id_text) else {
            return Ok(None);
        };
        if let Some(known) = cache.get(&id) {
            return Ok(known.clone());
        }
        let path = format!("/Accounts/{}", percent_encode(&id));
        let answer = self
            .api
            .call(Method::Get, &path, None, "read account", for_deal)?;
        let record = first_record(answer.body);
        cache.insert(id, record.clone());
        Ok(record)
    }

    fn bundle_of(&self, deal: Value, account: Option<Value>) -> Value {
        let company = self.needs.company.as_deref().map(|key| (key, account));
        bundle(&self.needs.primary, deal, company)
    }

    /// Every deal modified since `since` (ms), window by window, each handed on once.
    fn poll(
        &mut self,
        since: i64,
        each: &mut dyn FnMut(SourceItem<'_>) -> ControlFlow<()>,
        newest: &mut Option<i64>,
    ) -> Result<(), VendorError> {
        let mut windows: Vec<(i64, Option<i64>)> = vec![(since, None)];
        let mut seen = HashSet::new();
        let mut accounts = BTreeMap::new();
        let mut index = 0usize;
        let started = now_ms();
        while let Some((from, until)) = windows.pop() {
            let deals = match self.query.window(&self.api, from, until)? {
                Window::Complete(deals) => deals,
                Window::Full => {
                    let end = until.unwrap_or(started);
                    if end - from <= 1000 {
                        return Err(self.overfull());
                    }
                    let middle = from + (end - from) / 2;
                    windows.push((middle, Some(end)));
                    windows.push((from, Some(middle)));
                    continue;
                }
            };
            for deal in deals {
                let id = deal.get("id").and_then(id_text).unwrap_or_default();
                let changed = modified_ms(&deal);
                *newest = (*newest).max(changed);
                if !self.query.at_stage(&deal) || !seen.insert(id.clone()) {
                    continue;
                }
                let account = self.account(&deal, &mut accounts, None)?;
                let item = InputItem {
                    position: Position::Index(index),
                    value: Ok(Payload::Parsed(self.bundle_of(deal, account))),
                };
                index += 1;
                let version = changed.map(search::iso);
                let flow = each(SourceItem {
                    item,
                    origin: format!("zoho:deal/{id}"),
                    version,
                });
                if flow.is_break() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn overfull(&self) -> VendorError {
        VendorError {
            endpoint: format!("Zoho GET /crm/{VERSION}/Deals/search"),
            status: None,
            message: format!(
                "more than {} deals were modified within one second; the search cannot return them all",
                self.query.per_page * self.query.max_pages
            ),
            maybe_sent: false,
            after: None,
        }
    }
}

/// The first record of a `{"data": [...]}` answer.
fn first_record(body: Option<Value>) -> Option<Value> {
    body?.get("data")?.as_array()?.first().cloned()
}

impl ZohoSource {
    /// The metadata `schema pull zoho` reads (zoho.md 4.5–4.7): the Deals fields, the layouts,
    /// and the pipelines of the first active layout (none when Zoho answers 204: the layout has
    /// no pipeline).
    pub fn metadata(&self) -> Result<Vec<Response>, VendorError> {
        let mut responses = Vec::new();
        for (role, path, purpose) in [
            ("fields", "/settings/fields?module=Deals", "read fields"),
            ("layouts", "/settings/layouts?module=Deals", "read layouts"),
        ] {
            let call = format!(
                "Zoho GET /crm/{VERSION}{}",
                path.split('?').next().unwrap_or(path)
            );
            let answer = self.api.call(Method::Get, path, None, purpose, None)?;
            responses.push(Response::new(
                role,
                call.clone(),
                required(&call, answer.body)?,
            ));
        }
        let layout = responses[1]
            .body
            .get("layouts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|l| {
                l.get("status")
                    .and_then(Value::as_str)
                    .is_none_or(|s| s == "active")
            })
            .and_then(|l| l.get("id"))
            .and_then(id_text);
        if let Some(layout) = layout {
            let path = format!("/settings/pipeline?layout_id={}", percent_encode(&layout));
            let answer = self
                .api
                .call(Method::Get, &path, None, "read pipelines", None)?;
            if let Some(body) = answer.body {
                let call = format!("Zoho GET /crm/{VERSION}/settings/pipeline");
                responses.push(Response::new("pipelines", call, body));
            }
        }
        Ok(responses)
    }
}

impl Source for ZohoSource {
    fn describe(&self) -> String {
        format!("Zoho CRM ({})", self.api.base())
    }

    fn cursor_name(&self) -> Option<&str> {
        Some("zoho")
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
        let since = saved.map_or(0, |c| (c - self.overlap_ms).max(0));
        let mut newest = saved;
        self.poll(since, each, &mut newest).map_err(failed)?;
        Ok(newest.map(|n| n.to_string()))
    }

    fn fetch(&mut self, deal_id: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let path = format!("/Deals/{}", percent_encode(deal_id));
        let answer = self
            .api
            .call(Method::Get, &path, None, "read deal", Some(deal_id))
            .map_err(failed)?;
        let Some(deal) = first_record(answer.body) else {
            return Ok(None);
        };
        let account = self
            .account(&deal, &mut BTreeMap::new(), Some(deal_id))
            .map_err(failed)?;
        Ok(Some(self.bundle_of(deal, account).to_string().into_bytes()))
    }

    fn patch(&mut self, deal_id: &str, fields: &Value) -> Result<(), SourceError> {
        let patches = [(deal_id.to_string(), fields.clone())];
        self.patch_many(&patches)
            .pop()
            .unwrap_or_else(|| Err(SourceError::Failed("Zoho gave no result".into())))
    }

    fn patches_per_call(&self) -> usize {
        update::BATCH
    }

    fn patch_many(&mut self, patches: &[(String, Value)]) -> Vec<Result<(), SourceError>> {
        update::update(&self.api, patches)
    }
}
