//! Copper's HTTP conventions (docs/connectors/copper.md sections 1, 2, 7 and 8): the four
//! headers every request carries (`X-PW-AccessToken`, `X-PW-Application: developer_api`,
//! `X-PW-UserEmail`, `Content-Type: application/json`), JSON bodies, paths under
//! `/developer_api/v1`, the limits (180 requests a minute, rolling; at most 3 a second, our
//! budget), and 429s that carry no documented `Retry-After` (then a fixed wait, 20 s by default).
//! Copper documents no error body; a `message` (or `error`) member is shown when there is one,
//! else the body's start.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::connect::limit::{RateLimiter, Window};
use crate::connect::meter::Meter;
use crate::connect::vendor::{
    Call, ReadRetry, VendorClient, VendorError, VendorRules, header_wait, json_body,
};
use crate::net::{ClientOptions, Method, Request, Response};

/// The default base URL (scheme and host; paths start at [`PREFIX`]).
pub const DEFAULT_URL: &str = "https://api.copper.com";
/// Where every path starts.
pub const PREFIX: &str = "/developer_api/v1";

/// Copper's documented limit (copper.md section 7), with our per-second budget and the wait
/// after a 429 that says nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests per rolling minute (180).
    pub per_minute: u32,
    /// Requests per second (3: the bulk limit, kept for every call).
    pub per_second: u32,
    /// The wait after a 429 without `Retry-After` (20 s).
    pub throttle_wait: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_minute: 180,
            per_second: 3,
            throttle_wait: Duration::from_secs(20),
        }
    }
}

/// Reads Copper's answers for limits and explanations.
struct Rules {
    limiter: Arc<RateLimiter>,
    throttle_wait: Duration,
}

impl VendorRules for Rules {
    fn vendor(&self) -> &'static str {
        "copper"
    }

    fn label(&self) -> &'static str {
        "Copper"
    }

    fn observe(&self, response: &Response, _call: &Call<'_>) -> Option<Duration> {
        if response.status != 429 {
            return None;
        }
        let wait = header_wait(response).unwrap_or(self.throttle_wait);
        self.limiter.pause(wait);
        Some(wait)
    }

    fn message(&self, body: &[u8]) -> Option<String> {
        let body: Value = serde_json::from_slice(body).ok()?;
        let text = ["message", "error", "error_message"]
            .iter()
            .find_map(|key| body.get(key).and_then(Value::as_str))?;
        Some(text.chars().take(400).collect())
    }
}

/// The credentials of one Copper user.
pub struct Credentials {
    /// `COPPER_TOKEN` (sent as `X-PW-AccessToken`).
    pub token: String,
    /// `COPPER_USER_EMAIL` (sent as `X-PW-UserEmail`).
    pub email: String,
}

/// One Copper account, as one user sees it.
pub struct Api {
    client: VendorClient,
    credentials: Credentials,
    limiter: Arc<RateLimiter>,
}

impl Api {
    /// A client for the account at `base`.
    pub fn new(
        base: &str,
        credentials: Credentials,
        limits: Limits,
        options: ClientOptions,
        meter: Meter,
        retry: ReadRetry,
    ) -> Result<Api, String> {
        let limiter = Arc::new(RateLimiter::new(&[
            Window::new(limits.per_minute, Duration::from_secs(60)),
            Window::new(limits.per_second, Duration::from_secs(1)),
        ]));
        let rules = Rules {
            limiter: Arc::clone(&limiter),
            throttle_wait: limits.throttle_wait,
        };
        let client = VendorClient::new(base, options, meter, retry, Box::new(rules))?;
        Ok(Api {
            client,
            credentials,
            limiter,
        })
    }

    /// The base URL, for messages.
    pub fn base(&self) -> String {
        self.client.base()
    }

    fn request(&self, method: Method, path: &str) -> Request {
        self.client
            .request(method, &format!("{PREFIX}{path}"))
            .header("x-pw-accesstoken", self.credentials.token.as_str())
            .header("x-pw-application", "developer_api")
            .header("x-pw-useremail", self.credentials.email.as_str())
            .header("content-type", "application/json")
            .header("accept", "application/json")
    }

    /// Sends a request that may be repeated (reads, searches, and PUTs that set values) to
    /// `/developer_api/v1{path}` with a JSON body, and returns the 2xx answer's JSON; 404 gives
    /// `None`.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        purpose: &'static str,
        deal: Option<&str>,
    ) -> Result<Option<Value>, VendorError> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.body(body.to_string().into_bytes());
        }
        let limits = [self.limiter.as_ref()];
        let call = Call {
            purpose,
            deal,
            limits: &limits,
        };
        let response = self.client.read(&call, &request).map_err(with_hint)?;
        if response.status == 404 {
            return Ok(None);
        }
        json_body(&self.client, &request, &response)
            .map(Some)
            .map_err(with_hint)
    }
}

/// Adds what a 401 or 403 usually means.
fn with_hint(mut error: VendorError) -> VendorError {
    match error.status {
        Some(401) => error.message.push_str(
            " (check COPPER_TOKEN and COPPER_USER_EMAIL: the key must belong to that user, and not be revoked)",
        ),
        Some(403) => error.message.push_str(
            " (the user lacks a permission: Copper's API respects team permissions; use an admin or integration user)",
        ),
        Some(429) => error.message.push_str(
            " (Copper allows 180 requests a minute; the limit was still reached after waiting)",
        ),
        _ => {}
    }
    error
}
