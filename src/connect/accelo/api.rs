//! Accelo's HTTP conventions (docs/connectors/accelo.md sections 2, 3, 5, 6): the OAuth client
//! credentials token (one per run, kept for its lifetime, never shown), the `{"meta",
//! "response"}` envelope, form-encoded writes, 0-based paging with `_page`/`_limit` (100 at
//! most, no total: a short page is the last), the 5,000-requests-an-hour limit with
//! `X-RateLimit-Remaining`/`-Reset`, and `meta.status` in errors.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::connect::encode::{base64, form, now_ms, percent_encode};
use crate::connect::limit::{RateLimiter, Window};
use crate::connect::meter::Meter;
use crate::connect::vendor::{Call, ReadRetry, VendorClient, VendorError, VendorRules, json_body};
use crate::net::{ClientOptions, Method, Request, Response};

/// Records per page (Accelo's maximum).
pub const PAGE: usize = 100;
/// Pages read at most from one list (a million records).
const MAX_PAGES: usize = 10_000;
/// The scopes a run needs: read everything, write companies and jobs.
pub const SCOPE: &str = "read(all),write(companies,jobs)";

/// Reads Accelo's answers for limits and explanations.
struct Rules {
    limiter: Arc<RateLimiter>,
}

impl VendorRules for Rules {
    fn vendor(&self) -> &'static str {
        "accelo"
    }

    fn label(&self) -> &'static str {
        "Accelo"
    }

    fn observe(&self, response: &Response, _call: &Call<'_>) -> Option<Duration> {
        let reset = response
            .header("x-ratelimit-reset")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(|at| Duration::from_millis(u64::try_from(at * 1000 - now_ms()).unwrap_or(0)));
        let remaining = response
            .header("x-ratelimit-remaining")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if remaining == Some(0) || response.status == 429 {
            // Until the window resets (a Unix timestamp), or a minute when not said.
            let wait = reset
                .unwrap_or(Duration::from_secs(60))
                .max(Duration::from_millis(200));
            self.limiter.pause(wait);
            return (response.status == 429).then_some(wait);
        }
        None
    }

    fn message(&self, body: &[u8]) -> Option<String> {
        let body: Value = serde_json::from_slice(body).ok()?;
        let status = body.pointer("/meta/status").and_then(Value::as_str);
        let message = body
            .pointer("/meta/message")
            .or_else(|| body.get("error_description"))
            .or_else(|| body.get("message"))
            .and_then(Value::as_str);
        let status = status.or_else(|| body.get("error").and_then(Value::as_str));
        match (status, message) {
            (Some(status), Some(message)) => Some(format!("{status}: {message}")),
            (Some(text), None) | (None, Some(text)) => Some(text.to_string()),
            (None, None) => None,
        }
    }
}

/// An Accelo error: the request's failure and the `meta.status` it carried.
#[derive(Debug, Clone)]
pub struct AcceloError {
    /// The failure, naming vendor, endpoint and status.
    pub error: VendorError,
    /// `meta.status` (`invalid_request`, `duplicate`, ...), when the body had one.
    pub meta: Option<String>,
}

impl std::fmt::Display for AcceloError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl From<VendorError> for AcceloError {
    fn from(error: VendorError) -> AcceloError {
        AcceloError { error, meta: None }
    }
}

struct Token {
    value: String,
    renew_at: Instant,
}

/// The credentials of a service application.
pub struct Credentials {
    /// `ACCELO_CLIENT_ID`.
    pub id: String,
    /// `ACCELO_CLIENT_SECRET`.
    pub secret: String,
}

/// One Accelo deployment.
pub struct Api {
    client: VendorClient,
    credentials: Credentials,
    limiter: Arc<RateLimiter>,
    token: Mutex<Option<Token>>,
}

impl Api {
    /// A client for the deployment at `base` (`https://{deployment}.api.accelo.com`).
    pub fn new(
        base: &str,
        credentials: Credentials,
        options: ClientOptions,
        meter: Meter,
        retry: ReadRetry,
    ) -> Result<Api, String> {
        let limiter = Arc::new(RateLimiter::new(&[Window::new(
            5000,
            Duration::from_secs(3600),
        )]));
        let rules = Rules {
            limiter: Arc::clone(&limiter),
        };
        let client = VendorClient::new(base, options, meter, retry, Box::new(rules))?;
        Ok(Api {
            client,
            credentials,
            limiter,
            token: Mutex::new(None),
        })
    }

    /// The deployment's base URL, for messages.
    pub fn base(&self) -> String {
        self.client.base()
    }

    /// The access token, asked for once and kept until shortly before it expires. `/oauth2`
    /// requests do not count against the hourly limit.
    fn token(&self, renew: bool) -> Result<String, AcceloError> {
        let mut token = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(current) = token
            .as_ref()
            .filter(|t| !renew && t.renew_at > Instant::now())
        {
            return Ok(current.value.clone());
        }
        let basic =
            base64(format!("{}:{}", self.credentials.id, self.credentials.secret).as_bytes());
        let body = form(&[
            ("grant_type".into(), "client_credentials".into()),
            ("scope".into(), SCOPE.into()),
        ]);
        let request = self
            .client
            .request(Method::Post, "/oauth2/v0/token")
            .header("authorization", format!("Basic {basic}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        let call = Call {
            purpose: "token",
            deal: None,
            limits: &[],
        };
        let response = self.client.read(&call, &request)?;
        let answer = json_body(&self.client, &request, &response).map_err(|mut e| {
            if matches!(e.status, Some(400 | 401)) {
                e.message.push_str(" (check ACCELO_CLIENT_ID, ACCELO_CLIENT_SECRET and ACCELO_DEPLOYMENT: a service application's credentials)");
            }
            e
        })?;
        let value = answer
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.malformed(&request, "the token answer has no access_token"))?
            .to_string();
        let lifetime = answer
            .get("expires_in")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            })
            .unwrap_or(2_592_000);
        let renew_at = Instant::now() + Duration::from_secs(lifetime.saturating_sub(60).max(1));
        *token = Some(Token {
            value: value.clone(),
            renew_at,
        });
        Ok(value)
    }

    fn malformed(&self, request: &Request, message: &str) -> AcceloError {
        AcceloError {
            error: VendorError {
                endpoint: self.client.endpoint(request),
                status: None,
                message: message.to_string(),
                maybe_sent: false,
                after: None,
            },
            meta: None,
        }
    }

    /// Sends a request to `/api/v0{path}` with the token: once (`idempotent` false) or with
    /// retries; a 401 (the token expired or was revoked) gets one fresh token and one more try.
    fn send(
        &self,
        build: &dyn Fn() -> Request,
        call: &Call<'_>,
        idempotent: bool,
    ) -> Result<Response, AcceloError> {
        let mut renew = false;
        loop {
            let token = self.token(renew)?;
            let request = build().header("authorization", format!("Bearer {token}"));
            let response = if idempotent {
                self.client.read(call, &request)?
            } else {
                self.client.send(call, &request)?
            };
            if response.status == 401 && !renew {
                renew = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// The envelope's `response` of a 2xx answer whose `meta.status` is `ok`; else the error.
    fn unwrap(&self, request: &Request, response: &Response) -> Result<Value, AcceloError> {
        let meta = serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|b| {
                b.pointer("/meta/status")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        let body = json_body(&self.client, request, response).map_err(|error| AcceloError {
            error,
            meta: meta.clone(),
        })?;
        if meta.as_deref().is_some_and(|m| m != "ok") {
            return Err(AcceloError {
                error: self.client.status_error(request, response, None),
                meta,
            });
        }
        Ok(body.get("response").cloned().unwrap_or(Value::Null))
    }

    /// `GET /api/v0{path}?{query}`, retried as reads are; the envelope's `response`.
    pub fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        purpose: &'static str,
        deal: Option<&str>,
    ) -> Result<Value, AcceloError> {
        let url = format!("/api/v0{path}{}", query_string(query));
        let build = || {
            self.client
                .request(Method::Get, &url)
                .header("accept", "application/json")
        };
        let limits = [self.limiter.as_ref()];
        let call = Call {
            purpose,
            deal,
            limits: &limits,
        };
        let response = self.send(&build, &call, true)?;
        self.unwrap(&build(), &response)
    }

    /// The records of the first `pages` pages of a list (0-based `_page`, `_limit` 100; a
    /// short page is the last).
    pub fn list(
        &self,
        path: &str,
        query: &[(&str, String)],
        purpose: &'static str,
        deal: Option<&str>,
        pages: Option<usize>,
    ) -> Result<Vec<Value>, AcceloError> {
        let mut records = Vec::new();
        for page in 0..pages.unwrap_or(MAX_PAGES).min(MAX_PAGES) {
            let mut paged: Vec<(&str, String)> = query.to_vec();
            paged.push(("_limit", PAGE.to_string()));
            paged.push(("_page", page.to_string()));
            let answer = self.get(path, &paged, purpose, deal)?;
            let items = answer.as_array().cloned().unwrap_or_default();
            let short = items.len() < PAGE;
            records.extend(items);
            if short {
                break;
            }
        }
        Ok(records)
    }

    /// `POST /api/v0{path}` with a form body: once (a create), or retried (`idempotent`: a
    /// write that sets a value). The envelope's `response`.
    pub fn post_form(
        &self,
        path: &str,
        pairs: &[(String, String)],
        purpose: &'static str,
        deal: Option<&str>,
        idempotent: bool,
    ) -> Result<Value, AcceloError> {
        let url = format!("/api/v0{path}");
        let body = form(pairs);
        let build = || {
            self.client
                .request(Method::Post, &url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(body.clone())
        };
        let limits = [self.limiter.as_ref()];
        let call = Call {
            purpose,
            deal,
            limits: &limits,
        };
        let response = self.send(&build, &call, idempotent)?;
        self.unwrap(&build(), &response)
    }
}

/// `?a=b&c=d`, percent-encoded (empty for no pairs).
fn query_string(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    format!("?{}", parts.join("&"))
}
