//! Where each vendor's secrets and hosts come from, for `run`, `serve` and `schema pull` alike:
//! secrets only from environment variables (a missing one is named with what it is, its value
//! never shown), the base URL from `MAPCTL_<VENDOR>_URL` when set, else the vendor's documented
//! host.

use super::accelo::{self, Credentials as AcceloCredentials};
use super::copper::{self, Credentials as CopperCredentials};
use super::harvest::{self, Credentials as HarvestCredentials};
use super::hubspot;
use super::registry::{Settings, url_variable};
use super::zoho::{self, Credentials as ZohoCredentials, Hosts};

fn required(settings: &Settings, variable: &str, why: &str) -> Result<String, String> {
    (settings.env)(variable).ok_or_else(|| format!("set {variable}: {why}"))
}

fn url_or(settings: &Settings, vendor: &str, default: &str) -> String {
    (settings.env)(&url_variable(vendor)).unwrap_or_else(|| default.to_string())
}

/// HubSpot's base URL.
pub fn hubspot_url(settings: &Settings) -> String {
    url_or(settings, "hubspot", hubspot::DEFAULT_URL)
}

/// `HUBSPOT_TOKEN`.
pub fn hubspot_token(settings: &Settings) -> Result<String, String> {
    required(
        settings,
        "HUBSPOT_TOKEN",
        "the HubSpot private-app token or service key (docs/connectors/hubspot.md, Setup)",
    )
}

/// Copper's base URL.
pub fn copper_url(settings: &Settings) -> String {
    url_or(settings, "copper", copper::DEFAULT_URL)
}

/// `COPPER_TOKEN` and `COPPER_USER_EMAIL`.
pub fn copper(settings: &Settings) -> Result<CopperCredentials, String> {
    Ok(CopperCredentials {
        token: required(
            settings,
            "COPPER_TOKEN",
            "a Copper API key (docs/connectors/copper.md, Setup)",
        )?,
        email: required(
            settings,
            "COPPER_USER_EMAIL",
            "the email address of the Copper user the API key belongs to",
        )?,
    })
}

/// Zoho's accounts server and API domain, and the OAuth client with its refresh token.
pub fn zoho(settings: &Settings) -> Result<(Hosts, ZohoCredentials), String> {
    let why = "the Zoho Self Client and its refresh token (docs/connectors/zoho.md, Setup)";
    let credentials = ZohoCredentials {
        client_id: required(settings, "ZOHO_CLIENT_ID", why)?,
        client_secret: required(settings, "ZOHO_CLIENT_SECRET", why)?,
        refresh_token: required(settings, "ZOHO_REFRESH_TOKEN", why)?,
    };
    let hosts = Hosts {
        accounts: (settings.env)("MAPCTL_ZOHO_ACCOUNTS_URL")
            .unwrap_or_else(|| zoho::DEFAULT_ACCOUNTS_URL.to_string()),
        api: (settings.env)(&url_variable("zoho")),
    };
    Ok((hosts, credentials))
}

/// `ACCELO_CLIENT_ID` and `ACCELO_CLIENT_SECRET`.
pub fn accelo(settings: &Settings) -> Result<AcceloCredentials, String> {
    let why = "the Accelo service application's credentials (docs/connectors/accelo.md, Setup)";
    Ok(AcceloCredentials {
        id: required(settings, "ACCELO_CLIENT_ID", why)?,
        secret: required(settings, "ACCELO_CLIENT_SECRET", why)?,
    })
}

/// Accelo's base URL: `MAPCTL_ACCELO_URL`, else the deployment's host.
pub fn accelo_url(settings: &Settings) -> Result<String, String> {
    match (settings.env)(&url_variable("accelo")) {
        Some(url) => Ok(url),
        None => Ok(accelo::default_url(&deployment(settings)?)),
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

/// Harvest's base URL.
pub fn harvest_url(settings: &Settings) -> String {
    url_or(settings, "harvest", harvest::DEFAULT_URL)
}

/// `HARVEST_TOKEN`, `HARVEST_ACCOUNT_ID` and `HARVEST_CONTACT`.
pub fn harvest(settings: &Settings) -> Result<HarvestCredentials, String> {
    let token = required(
        settings,
        "HARVEST_TOKEN",
        "a Harvest personal access token (docs/connectors/harvest.md, Setup)",
    )?;
    let account_id = required(
        settings,
        "HARVEST_ACCOUNT_ID",
        "the Harvest account id (shown beside the token at https://id.getharvest.com/developers)",
    )?;
    if !account_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "HARVEST_ACCOUNT_ID `{account_id}` is not an account id (digits only)"
        ));
    }
    let contact = required(
        settings,
        "HARVEST_CONTACT",
        "an email address or URL Harvest can reach you at: Harvest requires it in the User-Agent of every request",
    )?;
    if contact
        .chars()
        .any(|c| c.is_control() || c == '(' || c == ')')
    {
        return Err(
            "HARVEST_CONTACT must be one line without parentheses (an email address or URL)".into(),
        );
    }
    Ok(HarvestCredentials {
        token,
        account_id,
        contact: contact.trim().to_string(),
    })
}
