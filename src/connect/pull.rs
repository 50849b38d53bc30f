//! `mapctl schema pull VENDOR`: the vendor's metadata responses fetched through the connectors'
//! own clients (the same headers, limits, retries of reads, `Retry-After` and error bodies as
//! `mapctl run`), the secrets from the environment and the host from `MAPCTL_<VENDOR>_URL`
//! (`credentials.rs`). What is fetched is what `mapctl schema import` reads from files
//! (docs/schemas.md): the connector hands the answers back as they came, and the command line
//! builds the schema from them with the importers (`schema::import`, a layer above this one).

use serde_json::Value;

use super::Needs;
use super::accelo::{AcceloOptions, AcceloTarget};
use super::copper::{CopperOptions, CopperSource};
use super::credentials as given;
use super::harvest::HarvestReader;
use super::hubspot::{HubSpotOptions, HubSpotSource};
use super::registry::Settings;
use super::vendor::VendorError;
use super::zoho::{ZohoOptions, ZohoSource};

/// Vendors whose metadata `schema pull` fetches.
pub const VENDORS: [&str; 5] = ["hubspot", "zoho", "copper", "accelo", "harvest"];

/// One metadata response, as the vendor answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// What it is to the importer: `properties`, `pipelines`, `fields`, `layouts`,
    /// `custom_fields`, `clients`.
    pub role: &'static str,
    /// The call, for messages: `HubSpot GET /crm/v3/properties/deals`.
    pub call: String,
    /// The answer's JSON.
    pub body: Value,
}

impl Response {
    /// A response of `role` from `call`.
    pub fn new(role: &'static str, call: String, body: Value) -> Response {
        Response { role, call, body }
    }
}

/// A call that must answer: 404 (or 204) is an error naming it.
pub fn required(call: &str, body: Option<Value>) -> Result<Value, VendorError> {
    body.ok_or_else(|| VendorError {
        endpoint: call.to_string(),
        status: Some(404),
        message: "the vendor answered that there is no such resource".into(),
        maybe_sent: false,
        after: None,
    })
}

/// Fetches the metadata of `vendor` (`object`: HubSpot's `deals` or `companies`; Accelo's
/// `companies` has no reference data to read).
pub fn pull(vendor: &str, object: &str, settings: &Settings) -> Result<Vec<Response>, String> {
    let failed = |e: VendorError| e.to_string();
    match vendor {
        "hubspot" => {
            let mut options = HubSpotOptions::new(
                &given::hubspot_url(settings),
                given::hubspot_token(settings)?,
                Needs::default(),
            );
            (options.client, options.meter, options.retry) = (
                settings.client.clone(),
                settings.meter.clone(),
                settings.retry,
            );
            HubSpotSource::new(options)?
                .metadata(object)
                .map_err(failed)
        }
        "copper" => {
            let credentials = given::copper(settings)?;
            let mut options =
                CopperOptions::new(&given::copper_url(settings), credentials, Needs::default());
            (options.client, options.meter, options.retry) = (
                settings.client.clone(),
                settings.meter.clone(),
                settings.retry,
            );
            CopperSource::new(options)?.metadata().map_err(failed)
        }
        "zoho" => {
            let (hosts, credentials) = given::zoho(settings)?;
            let mut options = ZohoOptions::new(hosts, credentials, Needs::default());
            (options.client, options.meter, options.retry) = (
                settings.client.clone(),
                settings.meter.clone(),
                settings.retry,
            );
            ZohoSource::new(options)?.metadata().map_err(failed)
        }
        "accelo" if object == "companies" => Ok(Vec::new()),
        "accelo" => {
            let target = AcceloTarget::new(AcceloOptions {
                base: given::accelo_url(settings)?,
                credentials: given::accelo(settings)?,
                create_clients: false,
                client_key: settings.client_key,
                client: settings.client.clone(),
                meter: settings.meter.clone(),
                retry: settings.retry,
            })?;
            target.metadata().map_err(failed)
        }
        "harvest" => {
            let reader = HarvestReader::new(
                &given::harvest_url(settings),
                given::harvest(settings)?,
                settings.client.clone(),
                settings.retry,
            )?;
            let pages = reader.client_pages().map_err(failed)?;
            Ok(pages
                .into_iter()
                .map(|page| Response::new("clients", "Harvest GET /v2/clients".into(), page))
                .collect())
        }
        other => Err(format!(
            "`{other}` has no metadata to pull (vendors: {})",
            VENDORS.join(", ")
        )),
    }
}
