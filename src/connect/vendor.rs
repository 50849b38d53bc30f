//! What every vendor connector's requests go through: the vendor's rate limiters (shared by all
//! workers), the call count ([`Meter`]), the vendor's reading of its own answers (usage headers,
//! 429 bodies: [`VendorRules`]), retries of idempotent requests, and errors that name the
//! vendor, the endpoint (method and path, never the query or a credential) and the status.
//!
//! Writes go out once ([`VendorClient::send`]): whether to try again is the delivery runtime's
//! decision, made after it recorded the attempt. Reads, and writes that set a value (PATCH),
//! may be retried here ([`VendorClient::read`]): on 429, 408, 423, 477, 5xx (but 501) and lost
//! connections, waiting what the vendor asked for, or else a capped exponential backoff.

use std::time::Duration;

use serde_json::Value;

use super::limit::{RateLimiter, acquire};
use super::meter::Meter;
use crate::net::{Client, ClientOptions, Method, NetError, Request, Response};

/// One call's accounting: what it is for, the deal it serves (`None`: shared by a poll or a
/// run), and the limiters it must pass.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// Why the call is made (`search`, `create job`), for the count.
    pub purpose: &'static str,
    /// The deal the call is for, if it is for one.
    pub deal: Option<&'a str>,
    /// The rate limits the call counts against.
    pub limits: &'a [&'a RateLimiter],
}

/// How a vendor speaks about limits and errors.
pub trait VendorRules: Send + Sync {
    /// The vendor's name in counts (`hubspot`).
    fn vendor(&self) -> &'static str;
    /// The vendor's name in messages (`HubSpot`).
    fn label(&self) -> &'static str;
    /// Sees every answer: slows the call's limiters down as usage headers and 429 bodies ask,
    /// and returns how long to wait before this request may be sent again, when it says.
    fn observe(&self, response: &Response, call: &Call<'_>) -> Option<Duration>;
    /// The explanation an error body gives.
    fn message(&self, body: &[u8]) -> Option<String>;
}

/// Retries of idempotent requests.
#[derive(Debug, Clone, Copy)]
pub struct ReadRetry {
    /// Attempts in all (the first included).
    pub attempts: u32,
    /// The first backoff (doubled after each further failure).
    pub base: Duration,
    /// The longest backoff.
    pub cap: Duration,
    /// The longest wait the vendor may ask for; a longer one fails the request instead.
    pub max_wait: Duration,
}

impl Default for ReadRetry {
    fn default() -> ReadRetry {
        ReadRetry {
            attempts: 6,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_wait: Duration::from_secs(900),
        }
    }
}

/// A request that got no usable answer, described for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorError {
    /// `HubSpot POST /crm/v3/objects/deals/search`.
    pub endpoint: String,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
    /// Whether the request may have been acted on.
    pub maybe_sent: bool,
    /// How long the vendor asked to wait, when it did.
    pub after: Option<Duration>,
}

impl std::fmt::Display for VendorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} answered {status}: {}", self.endpoint, self.message),
            None => write!(f, "{}: {}", self.endpoint, self.message),
        }
    }
}

impl std::error::Error for VendorError {}

/// The HTTP client of one vendor account.
pub struct VendorClient {
    base: String,
    client: Client,
    meter: Meter,
    retry: ReadRetry,
    rules: Box<dyn VendorRules>,
}

impl VendorClient {
    /// A client for the vendor at `base` (scheme, host and port; paths are the vendor's).
    pub fn new(
        base: &str,
        options: ClientOptions,
        meter: Meter,
        retry: ReadRetry,
        rules: Box<dyn VendorRules>,
    ) -> Result<VendorClient, String> {
        let lower = base.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(format!(
                "{}: `{}` is not an http:// or https:// URL",
                rules.label(),
                super::encode::without_credentials(base)
            ));
        }
        let client = Client::new(options).map_err(|e| format!("{}: {e}", rules.label()))?;
        Ok(VendorClient {
            base: base.trim_end_matches('/').to_string(),
            client,
            meter,
            retry,
            rules,
        })
    }

    /// The vendor's base URL, without credentials.
    pub fn base(&self) -> String {
        super::encode::without_credentials(&self.base)
    }

    /// The vendor's name in messages.
    pub fn label(&self) -> &'static str {
        self.rules.label()
    }

    /// A request to `path` (with its query) under the base URL.
    pub fn request(&self, method: Method, path: &str) -> Request {
        Request::new(method, format!("{}{path}", self.base))
    }

    /// `HubSpot POST /crm/v3/objects/deals/search`: the vendor, the method and the path, no
    /// query (which could hold values a message should not repeat).
    pub fn endpoint(&self, request: &Request) -> String {
        let path = request
            .url
            .strip_prefix(&self.base)
            .unwrap_or(&request.url)
            .split('?')
            .next()
            .unwrap_or_default();
        format!("{} {} {path}", self.label(), request.method.as_str())
    }

    /// Sends a request once, after the call's limiters let it through, and counts it.
    pub fn send(&self, call: &Call<'_>, request: &Request) -> Result<Response, VendorError> {
        acquire(call.limits);
        self.meter
            .count(self.rules.vendor(), call.purpose, call.deal);
        match self.client.send(request) {
            Ok(response) => {
                self.rules.observe(&response, call);
                Ok(response)
            }
            Err(error) => Err(self.net_error(request, &error)),
        }
    }

    /// Sends an idempotent request, retrying what may succeed later (see the module comment).
    /// Returns the last answer that is not worth retrying (2xx, most 4xx), or the failure.
    pub fn read(&self, call: &Call<'_>, request: &Request) -> Result<Response, VendorError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            acquire(call.limits);
            self.meter
                .count(self.rules.vendor(), call.purpose, call.deal);
            let (wait, failure) = match self.client.send(request) {
                Ok(response) => {
                    let asked = self.rules.observe(&response, call);
                    if !retryable_status(response.status) {
                        return Ok(response);
                    }
                    let after = header_wait(&response).or(asked);
                    let failure = self.status_error(request, &response, after);
                    (after, failure)
                }
                Err(NetError::Invalid(message)) => {
                    return Err(self.error(request, None, message, false));
                }
                Err(error) => (None, self.net_error(request, &error)),
            };
            let wait = wait.unwrap_or_else(|| self.backoff(attempt));
            if attempt >= self.retry.attempts.max(1) || wait > self.retry.max_wait {
                return Err(failure);
            }
            std::thread::sleep(wait);
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);
        self.retry
            .base
            .saturating_mul(1u32 << doublings)
            .min(self.retry.cap)
    }

    /// An error for an answer with a status: the vendor's explanation, or the body's start.
    pub fn status_error(
        &self,
        request: &Request,
        response: &Response,
        after: Option<Duration>,
    ) -> VendorError {
        let message = self
            .rules
            .message(&response.body)
            .unwrap_or_else(|| body_excerpt(&response.body));
        let mut error = self.error(request, Some(response.status), message, false);
        error.after = after;
        error
    }

    fn net_error(&self, request: &Request, error: &NetError) -> VendorError {
        self.error(request, None, error.to_string(), error.maybe_sent())
    }

    fn error(
        &self,
        request: &Request,
        status: Option<u16>,
        message: String,
        maybe_sent: bool,
    ) -> VendorError {
        VendorError {
            endpoint: self.endpoint(request),
            status,
            message,
            maybe_sent,
            after: None,
        }
    }
}

/// Statuses an idempotent request is retried on.
fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 423 | 429 | 477 | 500 | 502..=504 | 520..=524)
}

/// `Retry-After` in seconds or as an HTTP date.
pub fn header_wait(response: &Response) -> Option<Duration> {
    response
        .header("retry-after")
        .and_then(super::http_target::parse_retry_after)
}

/// The start of a body, as text, for messages.
pub fn body_excerpt(body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body)
        .trim()
        .chars()
        .take(300)
        .collect();
    if text.is_empty() {
        "(no body)".to_string()
    } else {
        text
    }
}

/// Parses a 2xx JSON body, or says what came instead.
pub fn json_body(
    client: &VendorClient,
    request: &Request,
    response: &Response,
) -> Result<Value, VendorError> {
    if !(200..=299).contains(&response.status) {
        return Err(client.status_error(request, response, header_wait(response)));
    }
    serde_json::from_slice(&response.body).map_err(|e| VendorError {
        endpoint: client.endpoint(request),
        status: Some(response.status),
        message: format!(
            "the answer is not JSON ({e}): {}",
            body_excerpt(&response.body)
        ),
        maybe_sent: false,
        after: None,
    })
}
