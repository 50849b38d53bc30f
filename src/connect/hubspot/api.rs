//! HubSpot's HTTP conventions (docs/connectors/hubspot.md, sections 2, 7 and 8): the bearer
//! token, the rate limits (per private app per 10 s, per account per day, search per second),
//! usage headers, the 429 body's `policyName`, and error bodies (`message`, `category`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::connect::limit::{RateLimiter, Window};
use crate::connect::meter::Meter;
use crate::connect::vendor::{Call, ReadRetry, VendorClient, VendorError, VendorRules, json_body};
use crate::net::{ClientOptions, Method, Request, Response};

/// HubSpot's documented limits for a private app (hubspot.md section 7): the lowest tier's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests per 10 s (Free/Starter 100; Professional/Enterprise 190; a usage header
    /// raises it to the account's real value).
    pub per_ten_seconds: u32,
    /// Requests per day per account (Free/Starter 250,000).
    pub per_day: u32,
    /// Search requests per second.
    pub searches_per_second: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_ten_seconds: 100,
            per_day: 250_000,
            searches_per_second: 5,
        }
    }
}

const TEN_SECONDS: Duration = Duration::from_secs(10);

/// Reads HubSpot's answers for limits and explanations.
struct Rules {
    general: Arc<RateLimiter>,
    search: Arc<RateLimiter>,
}

impl VendorRules for Rules {
    fn vendor(&self) -> &'static str {
        "hubspot"
    }

    fn label(&self) -> &'static str {
        "HubSpot"
    }

    fn observe(&self, response: &Response, call: &Call<'_>) -> Option<Duration> {
        let number = |name: &str| {
            response
                .header(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let interval =
            number("x-hubspot-ratelimit-interval-milliseconds").map(Duration::from_millis);
        if let (Some(max), Some(TEN_SECONDS)) = (number("x-hubspot-ratelimit-max"), interval) {
            self.general
                .set_max(TEN_SECONDS, u32::try_from(max).unwrap_or(u32::MAX));
        }
        let window = interval.unwrap_or(TEN_SECONDS);
        if number("x-hubspot-ratelimit-remaining") == Some(0) {
            self.general.pause(window);
        }
        match response.status {
            429 => Some(self.throttled(response, call, window)),
            // "Locked" while HubSpot syncs a large volume: the lock lasts 2 s.
            423 => Some(Duration::from_secs(2)),
            _ => None,
        }
    }

    fn message(&self, body: &[u8]) -> Option<String> {
        let body: Value = serde_json::from_slice(body).ok()?;
        let message = body.get("message").and_then(Value::as_str)?;
        let mut text = match body.get("category").and_then(Value::as_str) {
            Some(category) => format!("{category}: {message}"),
            None => message.to_string(),
        };
        if let Some(scopes) = body
            .pointer("/context/missingScopes")
            .and_then(Value::as_array)
        {
            let names: Vec<&str> = scopes.iter().filter_map(Value::as_str).collect();
            text.push_str(&format!(
                " (the token lacks the scopes {})",
                names.join(", ")
            ));
        }
        Some(text.chars().take(400).collect())
    }
}

impl Rules {
    /// A 429: the daily quota ends the run's requests (it resets at midnight, account time);
    /// the ten-secondly one waits out its window; search, which sends no usage headers, waits
    /// a second. `Retry-After`, when present, is honoured by the caller first.
    fn throttled(&self, response: &Response, call: &Call<'_>, window: Duration) -> Duration {
        let policy = serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|b| {
                b.get("policyName")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        match policy.as_deref() {
            Some("DAILY") => Duration::from_secs(24 * 3600),
            _ if call.purpose == "search"
                && response.header("x-hubspot-ratelimit-max").is_none() =>
            {
                self.search.pause(Duration::from_secs(1));
                Duration::from_secs(1)
            }
            _ => {
                self.general.pause(window);
                window
            }
        }
    }
}

/// The HubSpot account: its client, token and limiters.
pub struct Api {
    client: VendorClient,
    token: String,
    general: Arc<RateLimiter>,
    search: Arc<RateLimiter>,
}

impl Api {
    /// A client for the account the private-app token (or service key) belongs to.
    pub fn new(
        base: &str,
        token: String,
        limits: Limits,
        options: ClientOptions,
        meter: Meter,
        retry: ReadRetry,
    ) -> Result<Api, String> {
        let general = Arc::new(RateLimiter::new(&[
            Window::new(limits.per_ten_seconds, TEN_SECONDS),
            Window::new(limits.per_day, Duration::from_secs(24 * 3600)),
        ]));
        let search = Arc::new(RateLimiter::new(&[Window::new(
            limits.searches_per_second,
            Duration::from_secs(1),
        )]));
        let rules = Rules {
            general: Arc::clone(&general),
            search: Arc::clone(&search),
        };
        let client = VendorClient::new(base, options, meter, retry, Box::new(rules))?;
        Ok(Api {
            client,
            token,
            general,
            search,
        })
    }

    /// The base URL, for messages.
    pub fn base(&self) -> String {
        self.client.base()
    }

    fn request(&self, method: Method, path: &str) -> Request {
        self.client
            .request(method, path)
            .header("authorization", format!("Bearer {}", self.token))
            .header("accept", "application/json")
    }

    /// Sends an idempotent request (reads, searches, and PATCHes that set values) with a JSON
    /// body and returns the 2xx answer's JSON; 404 gives `None`.
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
            request = request
                .header("content-type", "application/json")
                .body(body.to_string().into_bytes());
        }
        let search = purpose == "search";
        let limits: Vec<&RateLimiter> = if search {
            vec![&self.general, &self.search]
        } else {
            vec![&self.general]
        };
        let call = Call {
            purpose,
            deal,
            limits: &limits,
        };
        let response = self.client.read(&call, &request)?;
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
            " (check HUBSPOT_TOKEN: it is wrong, expired or revoked; a new token is needed)",
        ),
        Some(403) => error
            .message
            .push_str(" (the token lacks a scope: see docs/connectors/hubspot.md, Scopes)"),
        _ => {}
    }
    error
}
