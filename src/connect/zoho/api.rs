//! Zoho CRM's HTTP conventions (docs/connectors/zoho.md sections 1, 2, 6 and 7): an access
//! token from the refresh-token flow at the data centre's accounts server (`POST
//! {accounts}/oauth/v2/token`, form-encoded so no secret sits in a URL), kept until shortly
//! before its hour ends, asked for again once on a 401 that is not a missing scope, and never
//! more than ten times in ten minutes (Zoho's limit per refresh token); API calls to the
//! `api_domain` the token answer names (or `MAPCTL_ZOHO_URL`) with `Authorization:
//! Zoho-oauthtoken …`; error bodies `{"code", "details", "message", "status"}`; 204 for "no
//! content"; 429 with no documented `Retry-After` (then a growing backoff).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::connect::encode::form;
use crate::connect::limit::{RateLimiter, Window};
use crate::connect::meter::Meter;
use crate::connect::vendor::{Call, ReadRetry, VendorClient, VendorError, VendorRules, json_body};
use crate::net::{ClientOptions, Method, Request, Response};

/// The default accounts server (US data centre).
pub const DEFAULT_ACCOUNTS_URL: &str = "https://accounts.zoho.com";
/// The API version every path names.
pub const VERSION: &str = "v7";

/// Zoho's documented quota (zoho.md section 6): API credits per rolling 24 hours, by edition;
/// the default is the smallest edition's (Free: 5,000), each call counted as one credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Calls per rolling 24 hours.
    pub per_day: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { per_day: 5_000 }
    }
}

/// Reads Zoho's answers for explanations (Zoho documents no usage headers).
struct Rules;

impl VendorRules for Rules {
    fn vendor(&self) -> &'static str {
        "zoho"
    }

    fn label(&self) -> &'static str {
        "Zoho"
    }

    fn observe(&self, _response: &Response, _call: &Call<'_>) -> Option<Duration> {
        None
    }

    fn message(&self, body: &[u8]) -> Option<String> {
        let body: Value = serde_json::from_slice(body).ok()?;
        error_text(&body)
    }
}

/// `CODE: message (details)` of a Zoho error object (a body, or one record's result), or the
/// accounts server's `{"error": "..."}`.
pub fn error_text(body: &Value) -> Option<String> {
    let code = body.get("code").and_then(Value::as_str);
    let message = body.get("message").and_then(Value::as_str);
    let mut text = match (code, message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(text), None) | (None, Some(text)) => text.to_string(),
        (None, None) => body.get("error").and_then(Value::as_str)?.to_string(),
    };
    if let Some(details) = body
        .get("details")
        .filter(|d| d.as_object().is_some_and(|m| !m.is_empty()))
    {
        text.push_str(&format!(" ({details})"));
    }
    Some(text.chars().take(400).collect())
}

/// The OAuth client and its refresh token.
pub struct Credentials {
    /// `ZOHO_CLIENT_ID`.
    pub client_id: String,
    /// `ZOHO_CLIENT_SECRET`.
    pub client_secret: String,
    /// `ZOHO_REFRESH_TOKEN`.
    pub refresh_token: String,
}

struct Token {
    value: String,
    renew_at: Instant,
}

/// How the API host is chosen.
pub struct Hosts {
    /// The accounts server of the data centre (`MAPCTL_ZOHO_ACCOUNTS_URL`).
    pub accounts: String,
    /// The API domain when fixed (`MAPCTL_ZOHO_URL`); else the token answer's `api_domain`.
    pub api: Option<String>,
}

/// One Zoho CRM organisation.
pub struct Api {
    accounts: VendorClient,
    api: Mutex<Option<Arc<VendorClient>>>,
    fixed_api: bool,
    credentials: Credentials,
    token: Mutex<Option<Token>>,
    tokens: RateLimiter,
    credits: RateLimiter,
    options: ClientOptions,
    meter: Meter,
    retry: ReadRetry,
}

/// An answer of the CRM: its status and its JSON (`None` for 204 and empty bodies).
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: Option<Value>,
}

impl Api {
    /// A client for the organisation the refresh token belongs to (no request yet).
    pub fn new(
        hosts: Hosts,
        credentials: Credentials,
        limits: Limits,
        options: ClientOptions,
        meter: Meter,
        retry: ReadRetry,
    ) -> Result<Api, String> {
        let accounts = VendorClient::new(
            &hosts.accounts,
            options.clone(),
            meter.clone(),
            retry,
            Box::new(Rules),
        )?;
        let api = match &hosts.api {
            Some(base) => Some(Arc::new(VendorClient::new(
                base,
                options.clone(),
                meter.clone(),
                retry,
                Box::new(Rules),
            )?)),
            None => None,
        };
        Ok(Api {
            accounts,
            fixed_api: api.is_some(),
            api: Mutex::new(api),
            credentials,
            token: Mutex::new(None),
            tokens: RateLimiter::new(&[Window::new(10, Duration::from_secs(600))]),
            credits: RateLimiter::new(&[Window::new(
                limits.per_day,
                Duration::from_secs(24 * 3600),
            )]),
            options,
            meter,
            retry,
        })
    }

    /// The API's base URL (or the accounts server's, before the first token), for messages.
    pub fn base(&self) -> String {
        let api = self.api.lock().unwrap_or_else(|p| p.into_inner());
        api.as_ref()
            .map_or_else(|| self.accounts.base(), |client| client.base())
    }

    /// The access token (and the API client), asked for when there is none, it is about to
    /// expire, or `renew` says the last one was refused.
    fn token(&self, renew: bool) -> Result<(String, Arc<VendorClient>), VendorError> {
        let mut token = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(current) = token
            .as_ref()
            .filter(|t| !renew && t.renew_at > Instant::now())
        {
            return Ok((current.value.clone(), self.api_client()?));
        }
        let body = form(&[
            ("grant_type".into(), "refresh_token".into()),
            ("client_id".into(), self.credentials.client_id.clone()),
            (
                "client_secret".into(),
                self.credentials.client_secret.clone(),
            ),
            (
                "refresh_token".into(),
                self.credentials.refresh_token.clone(),
            ),
        ]);
        let request = self
            .accounts
            .request(Method::Post, "/oauth/v2/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        let limits = [&self.tokens];
        let call = Call {
            purpose: "token",
            deal: None,
            limits: &limits,
        };
        let response = self.accounts.read(&call, &request)?;
        let answer = json_body(&self.accounts, &request, &response).map_err(token_hint)?;
        let Some(value) = answer
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        else {
            let why = error_text(&answer).unwrap_or_else(|| "no access_token".into());
            return Err(token_hint(self.failure(&request, Some(200), why)));
        };
        let lifetime = answer
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        if !self.fixed_api {
            self.set_api_domain(&request, &answer)?;
        }
        *token = Some(Token {
            value: value.to_string(),
            renew_at: Instant::now() + Duration::from_secs(lifetime.saturating_sub(120).max(1)),
        });
        Ok((value.to_string(), self.api_client()?))
    }

    /// Points API calls at the token answer's `api_domain`: an https:// URL (http:// only when
    /// the accounts server itself is reached over http, as a loopback fake is).
    fn set_api_domain(&self, request: &Request, answer: &Value) -> Result<(), VendorError> {
        let Some(domain) = answer.get("api_domain").and_then(Value::as_str) else {
            return Err(self.failure(
                request,
                Some(200),
                "the token answer names no api_domain; set MAPCTL_ZOHO_URL to the data centre's API domain".into(),
            ));
        };
        let plain_ok = self.accounts.base().starts_with("http://");
        let lower = domain.to_ascii_lowercase();
        if !(lower.starts_with("https://") || (plain_ok && lower.starts_with("http://"))) {
            return Err(self.failure(
                request,
                Some(200),
                format!("the token answer's api_domain `{domain}` is not an https:// URL"),
            ));
        }
        let client = VendorClient::new(
            domain,
            self.options.clone(),
            self.meter.clone(),
            self.retry,
            Box::new(Rules),
        )
        .map_err(|message| self.failure(request, None, message))?;
        *self.api.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(client));
        Ok(())
    }

    fn api_client(&self) -> Result<Arc<VendorClient>, VendorError> {
        let api = self.api.lock().unwrap_or_else(|p| p.into_inner());
        api.clone().ok_or_else(|| VendorError {
            endpoint: "Zoho".into(),
            status: None,
            message: "no API domain is known yet".into(),
            maybe_sent: false,
            after: None,
        })
    }

    fn failure(&self, request: &Request, status: Option<u16>, message: String) -> VendorError {
        VendorError {
            endpoint: self.accounts.endpoint(request),
            status,
            message,
            maybe_sent: false,
            after: None,
        }
    }

    /// Sends a request that may be repeated (reads, searches, updates that set values) to
    /// `/crm/v7{path}` (with its query), with a JSON body. A 401 other than a missing scope
    /// gets one fresh token and one more try. Returns 2xx answers (204 without a body) and
    /// 404 (`body` None); anything else is an error naming Zoho's code and message.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        purpose: &'static str,
        deal: Option<&str>,
    ) -> Result<Answer, VendorError> {
        let mut renew = false;
        loop {
            let (token, client) = self.token(renew)?;
            let mut request = client
                .request(method, &format!("/crm/{VERSION}{path}"))
                .header("authorization", format!("Zoho-oauthtoken {token}"))
                .header("accept", "application/json");
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_string().into_bytes());
            }
            let limits = [&self.credits];
            let call = Call {
                purpose,
                deal,
                limits: &limits,
            };
            let response = client.read(&call, &request).map_err(api_hint)?;
            let scope = json_code(&response.body).as_deref() == Some("OAUTH_SCOPE_MISMATCH");
            if response.status == 401 && !renew && !scope {
                renew = true;
                continue;
            }
            if response.status == 404 {
                return Ok(Answer {
                    status: 404,
                    body: None,
                });
            }
            if response.status == 204 || (response.body.is_empty() && response.status < 300) {
                return Ok(Answer {
                    status: response.status,
                    body: None,
                });
            }
            let value = json_body(&client, &request, &response).map_err(api_hint)?;
            return Ok(Answer {
                status: response.status,
                body: Some(value),
            });
        }
    }
}

/// The `code` of an error body.
fn json_code(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("code")?
        .as_str()
        .map(str::to_string)
}

/// Adds what a refused refresh usually means.
fn token_hint(mut error: VendorError) -> VendorError {
    error.message.push_str(
        " (check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN, and that MAPCTL_ZOHO_ACCOUNTS_URL is the accounts server of the data centre that holds the organisation)",
    );
    error
}

/// Adds what a 401, 403 or 429 usually means.
fn api_hint(mut error: VendorError) -> VendorError {
    let hint = match error.status {
        Some(401) if error.message.contains("OAUTH_SCOPE_MISMATCH") => {
            " (the refresh token lacks a scope: see docs/connectors/zoho.md, Scopes)"
        }
        Some(401) => " (the access token was refused after a fresh one was asked for)",
        Some(403) => " (the Zoho user lacks a permission on Deals)",
        Some(429) => {
            " (Zoho's API credits for the rolling 24 hours, or its concurrency limit, are used up)"
        }
        _ => "",
    };
    error.message.push_str(hint);
    error
}
