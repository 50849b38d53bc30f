//! Connector names, for `--from NAME` and `--to NAME`, and where each takes its settings:
//! secrets only from environment variables (never printed, logged or stored: they go into
//! request headers and nowhere else), and the base URL from `MAPCTL_<VENDOR>_URL` when set (a
//! loopback fake in tests, another data centre), else the vendor's documented host.
//!
//! | name | role | environment |
//! | --- | --- | --- |
//! | `hubspot` | source | `HUBSPOT_TOKEN`; `HUBSPOT_CLIENT_SECRET` for `serve`; `MAPCTL_HUBSPOT_URL` |
//! | `accelo` | target | `ACCELO_CLIENT_ID`, `ACCELO_CLIENT_SECRET`, `ACCELO_DEPLOYMENT`; `MAPCTL_ACCELO_URL` |
//!
//! Adding a connector: a folder beside `hubspot/` or `accelo/`, a row here, a line in
//! [`open_source`] or [`open_target`], and its page in docs/connectors/.

use std::sync::Arc;

use super::accelo::{self, AcceloOptions, AcceloTarget, Credentials};
use super::hubspot::{self, HubSpotOptions, HubSpotSource};
use super::meter::Meter;
use super::vendor::ReadRetry;
use super::{Needs, Source, Target};
use crate::net::ClientOptions;

/// Source connectors, by name.
pub const SOURCES: [&str; 1] = ["hubspot"];
/// Target connectors, by name.
pub const TARGETS: [&str; 1] = ["accelo"];
/// Connectors with a page in docs/connectors/ but no code yet.
const PLANNED: [(&str, &str); 3] = [
    ("zoho", "Zoho CRM source"),
    ("copper", "Copper source"),
    ("harvest", "Harvest target"),
];

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

fn required(settings: &Settings, variable: &str, why: &str) -> Result<String, String> {
    (settings.env)(variable).ok_or_else(|| format!("set {variable}: {why}"))
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
            let token = required(
                settings,
                "HUBSPOT_TOKEN",
                "the HubSpot private-app token or service key (docs/connectors/hubspot.md, Setup)",
            )?;
            let base = (settings.env)(&url_variable("hubspot"))
                .unwrap_or_else(|| hubspot::DEFAULT_URL.to_string());
            let mut options = HubSpotOptions::new(&base, token, needs);
            options.client = settings.client.clone();
            options.meter = settings.meter.clone();
            options.retry = settings.retry;
            Ok(Box::new(HubSpotSource::new(options)?))
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
            let why =
                "the Accelo service application's credentials (docs/connectors/accelo.md, Setup)";
            let credentials = Credentials {
                id: required(settings, "ACCELO_CLIENT_ID", why)?,
                secret: required(settings, "ACCELO_CLIENT_SECRET", why)?,
            };
            let base = match (settings.env)(&url_variable("accelo")) {
                Some(url) => url,
                None => accelo::default_url(&deployment(settings)?),
            };
            let options = AcceloOptions {
                base,
                credentials,
                create_clients: settings.create_clients,
                client_key: settings.client_key,
                client: settings.client.clone(),
                meter: settings.meter.clone(),
                retry: settings.retry,
            };
            Ok(Arc::new(AcceloTarget::new(options)?))
        }
        other => Err(planned(other).unwrap_or_else(|| {
            format!(
                "`{other}` is not a target connector ({})",
                TARGETS.join(", ")
            )
        })),
    }
}

/// `ACCELO_DEPLOYMENT`, checked to be a host label (it becomes part of the URL).
fn deployment(settings: &Settings) -> Result<String, String> {
    let deployment = required(
        settings,
        "ACCELO_DEPLOYMENT",
        "the deployment's name, as in https://NAME.accelo.com",
    )?;
    let valid = deployment
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && deployment.len() <= 63;
    if valid {
        Ok(deployment.to_ascii_lowercase())
    } else {
        Err(format!(
            "ACCELO_DEPLOYMENT `{deployment}` is not a deployment name (letters, digits and `-`)"
        ))
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
    fn planned_connectors_say_so() {
        assert!(planned("harvest").unwrap().contains("not built yet"));
        assert!(
            open_target("harvest", &settings(|_| None))
                .err()
                .unwrap()
                .contains("harvest.md")
        );
        assert!(is_source("hubspot") && is_target("accelo") && !is_source("accelo"));
    }
}
