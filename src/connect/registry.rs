//! Connector names, for `--from NAME` and `--to NAME`, and where each takes its settings:
//! secrets only from environment variables (never printed, logged or stored: they go into
//! request headers and nowhere else), and the base URL from `MAPCTL_<VENDOR>_URL` when set (a
//! loopback fake in tests, another data centre), else the vendor's documented host.
//!
//! | name | role | environment |
//! | --- | --- | --- |
//! | `hubspot` | source | `HUBSPOT_TOKEN`; `HUBSPOT_CLIENT_SECRET` for `serve`; `MAPCTL_HUBSPOT_URL` |
//! | `copper` | source | `COPPER_TOKEN`, `COPPER_USER_EMAIL`; `MAPCTL_COPPER_URL` |
//! | `zoho` | source | `ZOHO_CLIENT_ID`, `ZOHO_CLIENT_SECRET`, `ZOHO_REFRESH_TOKEN`; `MAPCTL_ZOHO_ACCOUNTS_URL`, `MAPCTL_ZOHO_URL` |
//! | `accelo` | target | `ACCELO_CLIENT_ID`, `ACCELO_CLIENT_SECRET`, `ACCELO_DEPLOYMENT`; `MAPCTL_ACCELO_URL` |
//! | `harvest` | target | `HARVEST_TOKEN`, `HARVEST_ACCOUNT_ID`, `HARVEST_CONTACT`; `MAPCTL_HARVEST_URL` |
//!
//! Adding a connector: a folder beside `hubspot/` or `accelo/`, a row here, a line in
//! [`open_source`] or [`open_target`], its credentials in `credentials.rs`, and its page in
//! docs/connectors/.

use std::sync::Arc;

use super::accelo::{AcceloOptions, AcceloTarget};
use super::copper::{CopperOptions, CopperSource};
use super::credentials as given;
use super::harvest::{HarvestOptions, HarvestTarget};
use super::hubspot::{HubSpotOptions, HubSpotSource};
use super::meter::Meter;
use super::vendor::ReadRetry;
use super::zoho::{ZohoOptions, ZohoSource};
use super::{Needs, Source, Target};
use crate::net::ClientOptions;

/// Source connectors, by name.
pub const SOURCES: [&str; 3] = ["hubspot", "copper", "zoho"];
/// Target connectors, by name.
pub const TARGETS: [&str; 2] = ["accelo", "harvest"];
/// Connectors with a page in docs/connectors/ but no code yet.
const PLANNED: [(&str, &str); 0] = [];

/// What every connector is opened with.
#[derive(Clone)]
pub struct Settings {
    /// Where API calls are counted.
    pub meter: Meter,
    /// Timeouts and limits of each request.
    pub client: ClientOptions,
    /// Retries of reads.
    pub retry: ReadRetry,
    /// Whether targets create clients no existing one matches (`--create-clients`).
    pub create_clients: bool,
    /// The engine's client-name key (targets match new clients as `match client` does).
    pub client_key: fn(&str) -> String,
    /// Reads an environment variable (the process's, or a test's).
    pub env: fn(&str) -> Option<String>,
}

/// The process environment, empty values as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether `name` is a source connector.
pub fn is_source(name: &str) -> bool {
    SOURCES.contains(&name)
}

/// Whether `name` is a target connector.
pub fn is_target(name: &str) -> bool {
    TARGETS.contains(&name)
}

/// For a connector name that is documented but not built yet, the message saying so.
pub fn planned(name: &str) -> Option<String> {
    PLANNED.iter().find(|(n, _)| *n == name).map(|(n, what)| {
        format!("`{n}`: the {what} is not built yet (its vendor facts are in docs/connectors/{n}.md); connectors available: sources {}, targets {}", SOURCES.join(", "), TARGETS.join(", "))
    })
}

/// The environment variable that overrides a vendor's base URL.
pub fn url_variable(vendor: &str) -> String {
    format!("MAPCTL_{}_URL", vendor.to_ascii_uppercase())
}

/// The environment variable holding a source's webhook signing secret.
pub fn webhook_secret(name: &str) -> Option<&'static str> {
    match name {
        "hubspot" => Some("HUBSPOT_CLIENT_SECRET"),
        _ => None,
    }
}

/// Opens the source connector `name` for a mapping that needs `needs`.
pub fn open_source(
    name: &str,
    needs: Needs,
    settings: &Settings,
) -> Result<Box<dyn Source>, String> {
    match name {
        "hubspot" => {
            let mut options = HubSpotOptions::new(
                &given::hubspot_url(settings),
                given::hubspot_token(settings)?,
                needs,
            );
            options.client = settings.client.clone();
            options.meter = settings.meter.clone();
            options.retry = settings.retry;
            Ok(Box::new(HubSpotSource::new(options)?))
        }
        "copper" => {
            let credentials = given::copper(settings)?;
            let mut options = CopperOptions::new(&given::copper_url(settings), credentials, needs);
            options.client = settings.client.clone();
            options.meter = settings.meter.clone();
            options.retry = settings.retry;
            Ok(Box::new(CopperSource::new(options)?))
        }
        "zoho" => {
            let (hosts, credentials) = given::zoho(settings)?;
            let mut options = ZohoOptions::new(hosts, credentials, needs);
            options.client = settings.client.clone();
            options.meter = settings.meter.clone();
            options.retry = settings.retry;
            Ok(Box::new(ZohoSource::new(options)?))
        }
        other => Err(planned(other).unwrap_or_else(|| {
            format!(
                "`{other}` is not a source connector ({})",
                SOURCES.join(", ")
            )
        })),
    }
}

/// Opens the target connector `name`.
pub fn open_target(name: &str, settings: &Settings) -> Result<Arc<dyn Target>, String> {
    match name {
        "accelo" => {
            let credentials = given::accelo(settings)?;
            let options = AcceloOptions {
                base: given::accelo_url(settings)?,
                credentials,
                create_clients: settings.create_clients,
                client_key: settings.client_key,
                client: settings.client.clone(),
                meter: settings.meter.clone(),
                retry: settings.retry,
            };
            Ok(Arc::new(AcceloTarget::new(options)?))
        }
        "harvest" => {
            let options = HarvestOptions {
                base: given::harvest_url(settings),
                credentials: given::harvest(settings)?,
                create_clients: settings.create_clients,
                client_key: settings.client_key,
                client: settings.client.clone(),
                meter: settings.meter.clone(),
                retry: settings.retry,
                limits: super::harvest::Limits::default(),
            };
            Ok(Arc::new(HarvestTarget::new(options)?))
        }
        other => Err(planned(other).unwrap_or_else(|| {
            format!(
                "`{other}` is not a target connector ({})",
                TARGETS.join(", ")
            )
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(env: fn(&str) -> Option<String>) -> Settings {
        Settings {
            meter: Meter::new(),
            client: ClientOptions::default(),
            retry: ReadRetry::default(),
            create_clients: false,
            client_key: |name| name.to_lowercase(),
            env,
        }
    }

    #[test]
    fn missing_secrets_are_named_and_never_shown() {
        let error = open_source("hubspot", Needs::default(), &settings(|_| None))
            .err()
            .unwrap();
        assert!(error.contains("HUBSPOT_TOKEN"), "{error}");
        let only_id = |name: &str| (name == "ACCELO_CLIENT_ID").then(|| "id-value".to_string());
        let error = open_target("accelo", &settings(only_id)).err().unwrap();
        assert!(
            error.contains("ACCELO_CLIENT_SECRET") && !error.contains("id-value"),
            "{error}"
        );
        let bad = |name: &str| match name {
            "ACCELO_DEPLOYMENT" => Some("evil.example/x".to_string()),
            "MAPCTL_ACCELO_URL" => None,
            _ => Some("s3cret".to_string()),
        };
        let error = open_target("accelo", &settings(bad)).err().unwrap();
        assert!(
            error.contains("not a deployment name") && !error.contains("s3cret"),
            "{error}"
        );
    }

    #[test]
    fn every_documented_connector_is_built() {
        assert!(planned("harvest").is_none());
        assert!(
            open_target("harvest", &settings(|_| None))
                .err()
                .unwrap()
                .contains("HARVEST_TOKEN")
        );
        assert!(is_source("zoho") && is_source("copper") && is_target("harvest"));
        assert!(is_source("hubspot") && is_target("accelo") && !is_source("accelo"));
    }
}
