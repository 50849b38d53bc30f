//! The HubSpot source (`--from hubspot`; facts and sources in docs/connectors/hubspot.md).
//!
//! - Polling ([`Source::changed`]): the CRM search for deals at the trigger's stages modified
//!   since the ledger's cursor (minus five minutes, for HubSpot's indexing delay), the deals'
//!   companies by v4 association batch reads, the companies by batch reads, each deal handed on
//!   as a bundle; the cursor returned is the newest modification time read (`search.rs`,
//!   `bundle.rs`).
//! - By id ([`Source::fetch`], for webhooks and `mapctl retry`): one deal read with its
//!   associations, its company by batch read.
//! - Sync back ([`Source::patch`]): `PATCH /crm/v3/objects/deals/{id}` with only the properties
//!   the `sync back` rules give.
//! - Webhooks: `webhook.rs` checks `X-HubSpot-Signature-v3` and reads the events.
//!
//! Only the properties the mapping reads are asked for (and the stage and the modification
//! time), so never-transfer data is not even fetched. The private-app token (or service key)
//! comes from `HUBSPOT_TOKEN` and goes only into the `Authorization` header.

mod api;
mod bundle;
mod properties;
mod search;
pub mod webhook;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::time::Duration;

use serde_json::Value;

pub use api::Limits;

use self::api::Api;
use self::bundle::{
    Companies, associations, batch_read, bundle, chosen, id_text, listed_companies,
    with_associations,
};
use self::properties::{Wanted, all_properties, display, patch_body, property_of, wanted};
use self::search::{MODIFIED, Query, modified_ms};
use super::encode::percent_encode;
use super::meter::Meter;
use super::pull::{Response, required};
use super::vendor::{ReadRetry, VendorError};
use super::{Needs, Source, SourceError, SourceItem};
use crate::io::input::{InputItem, ItemError, Payload, Position};
use crate::net::{ClientOptions, Method};
use crate::value::path::PathStep;

/// The default base URL.
pub const DEFAULT_URL: &str = "https://api.hubapi.com";

/// How to reach HubSpot and what to read.
#[derive(Debug, Clone)]
pub struct HubSpotOptions {
    /// Scheme, host and port (`MAPCTL_HUBSPOT_URL`, default [`DEFAULT_URL`]).
    pub base: String,
    /// The private-app token or service key (`HUBSPOT_TOKEN`).
    pub token: String,
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
    /// Deals per search page (at most 200).
    pub page_size: usize,
    /// Results one search may page through (HubSpot: 10,000).
    pub search_cap: usize,
    /// How far before the cursor a poll starts (indexing delay).
    pub overlap: Duration,
}

impl HubSpotOptions {
    /// The documented defaults for `token` at `base`.
    pub fn new(base: &str, token: String, needs: Needs) -> HubSpotOptions {
        HubSpotOptions {
            base: base.to_string(),
            token,
            needs,
            client: ClientOptions::default(),
            meter: Meter::new(),
            retry: ReadRetry::default(),
            limits: Limits::default(),
            page_size: 200,
            search_cap: 10_000,
            overlap: Duration::from_secs(300),
        }
    }
}

/// The HubSpot source.
pub struct HubSpotSource {
    api: Api,
    needs: Needs,
    page_size: usize,
    search_cap: usize,
    overlap_ms: i64,
    deal_properties: Option<Vec<String>>,
    company_properties: Option<Vec<String>>,
}

impl HubSpotSource {
    /// Checks what the mapping asks of HubSpot and starts the client (no request yet).
    pub fn new(options: HubSpotOptions) -> Result<HubSpotSource, String> {
        if let Some(path) = options
            .needs
            .sync_paths
            .iter()
            .find(|p| property_of(p).is_none())
        {
            return Err(format!(
                "HubSpot: `sync back` writes `{}.{}`, but deals are written only through their properties (`{}.properties.NAME`)",
                options.needs.primary,
                display(path),
                options.needs.primary
            ));
        }
        let api = Api::new(
            &options.base,
            options.token,
            options.limits,
            options.client,
            options.meter,
            options.retry,
        )?;
        Ok(HubSpotSource {
            api,
            needs: options.needs,
            page_size: options.page_size.clamp(1, 200),
            search_cap: options.search_cap.max(1),
            overlap_ms: i64::try_from(options.overlap.as_millis()).unwrap_or(0),
            deal_properties: None,
            company_properties: None,
        })
    }

    fn reads_associations(&self) -> bool {
        self.needs.company.is_some()
            || self
                .needs
                .deal_paths
                .iter()
                .any(|p| p.first() == Some(&PathStep::Field("associations".into())))
    }

    fn stage_property(&self) -> Option<String> {
        self.needs
            .stage_path
            .as_deref()
            .and_then(property_of)
            .map(str::to_string)
    }

    /// The deal properties to ask for: those the mapping reads, the stage and the
    /// modification time (every property, listed once per run, when a rule reads them all).
    fn deal_properties(&mut self) -> Result<Vec<String>, VendorError> {
        if let Some(known) = &self.deal_properties {
            return Ok(known.clone());
        }
        let mut names = match wanted(&self.needs.deal_paths) {
            Wanted::Named(names) => names,
            Wanted::All => all_properties(&self.api, "deals")?,
        };
        names.insert(MODIFIED.to_string());
        names.extend(self.stage_property());
        let names: Vec<String> = names.into_iter().collect();
        self.deal_properties = Some(names.clone());
        Ok(names)
    }

    fn company_properties(&mut self) -> Result<Vec<String>, VendorError> {
        if let Some(known) = &self.company_properties {
            return Ok(known.clone());
        }
        let names: Vec<String> = match wanted(&self.needs.company_paths) {
            Wanted::Named(names) => names.into_iter().collect(),
            Wanted::All => all_properties(&self.api, "companies")?
                .into_iter()
                .collect(),
        };
        self.company_properties = Some(names.clone());
        Ok(names)
    }

    fn query(&mut self) -> Result<Query, VendorError> {
        Ok(Query {
            stage_property: self.stage_property(),
            stages: self.needs.stages.clone(),
            properties: self.deal_properties()?,
            page_size: self.page_size,
            cap: self.search_cap,
        })
    }

    /// The companies' records by id (none when the mapping has no company record).
    fn companies(
        &mut self,
        ids: &[String],
        for_deal: Option<&str>,
    ) -> Result<BTreeMap<String, Value>, VendorError> {
        if self.needs.company.is_none() || ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let properties = self.company_properties()?;
        batch_read(
            &self.api,
            "companies",
            ids,
            &properties,
            "read companies",
            for_deal,
        )
    }

    /// The bundle of one deal, or why it cannot be made.
    fn item(
        &self,
        deal: Value,
        companies: &Companies,
        records: &BTreeMap<String, Value>,
    ) -> Result<Value, String> {
        let deal = with_associations(deal, companies);
        let Some(key) = &self.needs.company else {
            return Ok(bundle(&self.needs.primary, deal, None));
        };
        let company = chosen(companies)?.and_then(|id| records.get(id).cloned());
        Ok(bundle(&self.needs.primary, deal, Some((key, company))))
    }

    /// Completes one search page (properties, associations, companies) and hands its deals on.
    fn deliver_page(
        &mut self,
        mut deals: Vec<Value>,
        lean: bool,
        each: &mut dyn FnMut(SourceItem<'_>) -> ControlFlow<()>,
        newest: &mut Option<i64>,
    ) -> Result<ControlFlow<()>, VendorError> {
        let ids: Vec<String> = deals
            .iter()
            .filter_map(|d| d.get("id").and_then(id_text))
            .collect();
        if lean {
            let properties = self.deal_properties()?;
            let full = batch_read(&self.api, "deals", &ids, &properties, "read deals", None)?;
            for deal in &mut deals {
                let full = deal
                    .get("id")
                    .and_then(id_text)
                    .and_then(|id| full.get(&id));
                if let (Some(map), Some(full)) = (deal.as_object_mut(), full) {
                    map.insert("properties".into(), full["properties"].clone());
                }
            }
        }
        let links = if self.reads_associations() {
            associations(&self.api, &ids, None)?
        } else {
            BTreeMap::new()
        };
        let wanted: BTreeSet<String> = links
            .values()
            .filter_map(|c| chosen(c).ok().flatten().map(str::to_string))
            .collect();
        let records = self.companies(&wanted.into_iter().collect::<Vec<_>>(), None)?;
        for (index, deal) in deals.into_iter().enumerate() {
            let id = deal.get("id").and_then(id_text).unwrap_or_default();
            let version = deal
                .pointer("/properties/hs_lastmodifieddate")
                .and_then(Value::as_str)
                .map(str::to_string);
            let modified = modified_ms(&deal);
            let no_companies = Companies::new();
            let value = match self.item(deal, links.get(&id).unwrap_or(&no_companies), &records) {
                Ok(bundle) => Ok(Payload::Parsed(bundle)),
                Err(message) => Err(ItemError::Ambiguous(format!(
                    "HubSpot deal {id}: {message}"
                ))),
            };
            let item = InputItem {
                position: Position::Index(index),
                value,
            };
            let flow = each(SourceItem {
                item,
                origin: format!("hubspot:deal/{id}"),
                version,
            });
            *newest = (*newest).max(modified);
            if flow.is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    /// Polls from `since` (ms); see the module comment. Returns the newest modification read.
    fn poll(
        &mut self,
        mut since: i64,
        each: &mut dyn FnMut(SourceItem<'_>) -> ControlFlow<()>,
        newest: &mut Option<i64>,
    ) -> Result<(), VendorError> {
        let query = self.query()?;
        loop {
            let mut after: Option<String> = None;
            let mut read = 0usize;
            let mut last = since;
            loop {
                let page = query.page(&self.api, since, after.as_deref())?;
                read += page.deals.len();
                last = page
                    .deals
                    .iter()
                    .filter_map(modified_ms)
                    .fold(last, i64::max);
                if self
                    .deliver_page(page.deals, page.lean, each, newest)?
                    .is_break()
                {
                    return Ok(());
                }
                match page.after {
                    None => return Ok(()),
                    Some(next) if query.past_cap(&next, read) => break,
                    Some(next) => after = Some(next),
                }
            }
            if last <= since {
                return Err(VendorError {
                    endpoint: format!("HubSpot POST {}", search::PATH),
                    status: None,
                    message: format!(
                        "more than {} deals were modified in the same millisecond; the search cannot page past them",
                        self.search_cap
                    ),
                    maybe_sent: false,
                    after: None,
                });
            }
            since = last;
        }
    }
}

impl HubSpotSource {
    /// The metadata `schema pull hubspot` reads (hubspot.md 4.6, 4.7): the object's properties
    /// (`GET /crm/v3/properties/{object}`) and, for deals, every deal pipeline with its stages
    /// (`GET /crm/v3/pipelines/deals`).
    pub fn metadata(&self, object: &str) -> Result<Vec<Response>, VendorError> {
        let mut responses = Vec::new();
        let path = format!("/crm/v3/properties/{}", percent_encode(object));
        let call = format!("HubSpot GET {path}");
        let body = self.api.call(
            Method::Get,
            &format!("{path}?archived=false"),
            None,
            "read properties",
            None,
        )?;
        responses.push(Response::new(
            "properties",
            call.clone(),
            required(&call, body)?,
        ));
        if object == "deals" {
            let call = "HubSpot GET /crm/v3/pipelines/deals".to_string();
            let body = self.api.call(
                Method::Get,
                "/crm/v3/pipelines/deals",
                None,
                "read pipelines",
                None,
            )?;
            responses.push(Response::new(
                "pipelines",
                call.clone(),
                required(&call, body)?,
            ));
        }
        Ok(responses)
    }
}

fn failed(error: VendorError) -> SourceError {
    SourceError::Failed(error.to_string())
}

impl Source for HubSpotSource {
    fn describe(&self) -> String {
        format!("HubSpot ({})", self.api.base())
    }

    fn cursor_name(&self) -> Option<&str> {
        Some("hubspot")
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
        let properties = self.deal_properties().map_err(failed)?;
        let names: Vec<String> = properties.iter().map(|p| percent_encode(p)).collect();
        let mut path = format!(
            "/crm/v3/objects/deals/{}?properties={}&archived=false",
            percent_encode(deal_id),
            names.join(",")
        );
        if self.reads_associations() {
            path.push_str("&associations=companies");
        }
        let Some(mut deal) = self
            .api
            .call(Method::Get, &path, None, "read deal", Some(deal_id))
            .map_err(failed)?
        else {
            return Ok(None);
        };
        let mut companies = listed_companies(&deal);
        if companies.len() > 1 {
            let ids = [deal_id.to_string()];
            companies = associations(&self.api, &ids, Some(deal_id))
                .map_err(failed)?
                .remove(deal_id)
                .unwrap_or_default();
        }
        if let Some(map) = deal.as_object_mut() {
            map.remove("associations");
        }
        let company: Vec<String> = chosen(&companies)
            .map_err(|m| SourceError::Failed(format!("HubSpot deal {deal_id}: {m}")))?
            .map(str::to_string)
            .into_iter()
            .collect();
        let records = self.companies(&company, Some(deal_id)).map_err(failed)?;
        let bundle = self
            .item(deal, &companies, &records)
            .map_err(SourceError::Failed)?;
        Ok(Some(bundle.to_string().into_bytes()))
    }

    fn patch(&mut self, deal_id: &str, fields: &Value) -> Result<(), SourceError> {
        let body = patch_body(fields).map_err(SourceError::Failed)?;
        let path = format!("/crm/v3/objects/deals/{}", percent_encode(deal_id));
        match self.api.call(
            Method::Patch,
            &path,
            Some(&body),
            "sync back",
            Some(deal_id),
        ) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(SourceError::Failed(format!(
                "HubSpot PATCH /crm/v3/objects/deals/{deal_id} answered 404: the deal no longer exists"
            ))),
            Err(error) => Err(failed(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(names: &[&str]) -> Vec<PathStep> {
        names
            .iter()
            .map(|n| PathStep::Field(n.to_string()))
            .collect()
    }

    #[test]
    fn sync_back_outside_properties_is_refused_at_start() {
        let mut needs = Needs {
            primary: "deal".into(),
            ..Needs::default()
        };
        needs.sync_paths = vec![field(&["stage"])];
        let error =
            HubSpotSource::new(HubSpotOptions::new("http://127.0.0.1:9", "t".into(), needs))
                .err()
                .unwrap();
        assert!(error.contains("deal.stage"), "{error}");
    }
}
