//! The generic HTTP target: a home-grown project system's JSON API (contract in
//! docs/runtime.md, "The generic HTTP target").
//!
//! - create: `POST URL` with the record as the body, `Content-Type: application/json`,
//!   `Idempotency-Key` (stable per mapping and deal) and `Authorization` when configured. A 2xx
//!   answer's JSON `id` (or `--id-pointer`) is the project's id. 409 means the project exists:
//!   its id from the body, else a lookup.
//! - lookup: `GET URL?idempotency_key=KEY` (or the `--lookup-url` template with `{key}` and
//!   `{deal_id}`): 200 with an object or an array of objects (their ids), 404 or `[]` for none.
//! - 429 and 503 honour `Retry-After` (seconds or an HTTP date) and slow every request down;
//!   other 5xx, 408, timeouts and dropped connections are retried; other 4xx reject the deal with
//!   the status and the response's message.
//! - Every request is counted (vendor `target`) in the run's meter, for `mapctl status`.

use std::time::Duration;

use serde_json::Value;

use super::encode::{percent_encode, without_credentials};
use super::meter::Meter;
use super::{Created, Delivery, Guarantee, Target, TargetError};
use crate::net::{Client, ClientOptions, Method, NetError, Request, Response};

/// How the target finds a project created for a deal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// `GET URL?idempotency_key=KEY`.
    ByKey,
    /// A URL template with `{key}` and `{deal_id}` (percent-encoded when filled in).
    Template(String),
    /// No lookup: exactly-once then rests on the target honouring `Idempotency-Key`.
    Disabled,
}

/// The generic HTTP target's settings.
#[derive(Debug, Clone)]
pub struct HttpTargetOptions {
    /// Where records are POSTed.
    pub url: String,
    /// The `Authorization` header's value (from `MAPCTL_TARGET_AUTHORIZATION`).
    pub authorization: Option<String>,
    /// JSON pointer to the project id in answers (default `/id`).
    pub id_pointer: String,
    /// How to find a project for a deal.
    pub lookup: Lookup,
    /// Extra headers sent with every request.
    pub headers: Vec<(String, String)>,
    /// Timeouts and limits.
    pub client: ClientOptions,
    /// Where requests are counted (vendor `target`: `create project`, `find project`).
    pub meter: Meter,
}

impl HttpTargetOptions {
    /// The default contract for `url`.
    pub fn new(url: &str) -> HttpTargetOptions {
        HttpTargetOptions {
            url: url.to_string(),
            authorization: None,
            id_pointer: "/id".to_string(),
            lookup: Lookup::ByKey,
            headers: Vec::new(),
            client: ClientOptions::default(),
            meter: Meter::new(),
        }
    }
}

/// The generic HTTP target.
pub struct HttpTarget {
    options: HttpTargetOptions,
    client: Client,
}

impl HttpTarget {
    /// Checks the settings and starts the HTTP client.
    pub fn new(options: HttpTargetOptions) -> Result<HttpTarget, String> {
        let lower = options.url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(format!(
                "`{}` is not an http:// or https:// URL",
                options.url
            ));
        }
        if !options.id_pointer.is_empty() && !options.id_pointer.starts_with('/') {
            return Err(format!(
                "`--id-pointer {}` must be a JSON pointer such as `/id` or `/data/id`",
                options.id_pointer
            ));
        }
        let client = Client::new(options.client.clone()).map_err(|e| e.to_string())?;
        Ok(HttpTarget { options, client })
    }

    fn request(&self, method: Method, url: String, delivery: &Delivery<'_>) -> Request {
        let mut request = Request::new(method, url)
            .header("accept", "application/json")
            .header("idempotency-key", delivery.idempotency_key);
        if let Some(authorization) = &self.options.authorization {
            request = request.header("authorization", authorization.as_str());
        }
        for (name, value) in &self.options.headers {
            request = request.header(name, value.as_str());
        }
        request
    }

    fn lookup_url(&self, delivery: &Delivery<'_>) -> Option<String> {
        match &self.options.lookup {
            Lookup::Disabled => None,
            Lookup::ByKey => {
                let separator = if self.options.url.contains('?') {
                    '&'
                } else {
                    '?'
                };
                Some(format!(
                    "{}{separator}idempotency_key={}",
                    self.options.url,
                    percent_encode(delivery.idempotency_key)
                ))
            }
            Lookup::Template(template) => Some(
                template
                    .replace("{key}", &percent_encode(delivery.idempotency_key))
                    .replace("{deal_id}", &percent_encode(delivery.deal_id)),
            ),
        }
    }

    /// Counts one request for the deal (`mapctl status` reports calls per delivered deal).
    fn count(&self, purpose: &str, delivery: &Delivery<'_>) {
        self.options
            .meter
            .count("target", purpose, Some(delivery.deal_id));
    }

    fn id_in(&self, value: &Value) -> Option<String> {
        match value.pointer(&self.options.id_pointer)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

impl Target for HttpTarget {
    fn describe(&self) -> String {
        without_credentials(&self.options.url)
    }

    fn guarantee(&self) -> Guarantee {
        Guarantee::ExactlyOnce
    }

    fn create(&self, delivery: &Delivery<'_>) -> Result<Created, TargetError> {
        let request = self
            .request(Method::Post, self.options.url.clone(), delivery)
            .header("content-type", "application/json")
            .body(delivery.record.to_vec());
        self.count("create project", delivery);
        let response = self.client.send(&request).map_err(network)?;
        let body: Option<Value> = serde_json::from_slice(&response.body).ok();
        match response.status {
            200..=299 => Ok(Created {
                project_id: body.as_ref().and_then(|b| self.id_in(b)),
                // The answer, when it is the project: what `sync back` reads.
                project: body
                    .as_ref()
                    .filter(|b| b.is_object())
                    .map(|_| response.body.clone()),
                ..Created::default()
            }),
            409 => match body.as_ref().and_then(|b| self.id_in(b)) {
                Some(id) => Ok(Created {
                    project_id: Some(id),
                    ..Created::default()
                }),
                None => Err(TargetError::Exists),
            },
            _ => Err(refusal(&response, body.as_ref())),
        }
    }

    fn find(&self, delivery: &Delivery<'_>) -> Result<Vec<String>, TargetError> {
        let Some(url) = self.lookup_url(delivery) else {
            return Ok(Vec::new());
        };
        self.count("find project", delivery);
        let response = self
            .client
            .send(&self.request(Method::Get, url, delivery))
            .map_err(network)?;
        if response.status == 404 {
            return Ok(Vec::new());
        }
        let body: Option<Value> = serde_json::from_slice(&response.body).ok();
        if !(200..=299).contains(&response.status) {
            return Err(refusal(&response, body.as_ref()));
        }
        Ok(match body {
            Some(Value::Array(items)) => items.iter().filter_map(|i| self.id_in(i)).collect(),
            Some(object @ Value::Object(_)) => self.id_in(&object).into_iter().collect(),
            _ => Vec::new(),
        })
    }
}

/// A request that got no answer: retried; looked up first when it may have arrived.
fn network(error: NetError) -> TargetError {
    match error {
        NetError::Invalid(message) => TargetError::Rejected {
            status: None,
            message,
        },
        other => TargetError::Retryable {
            status: None,
            maybe_written: other.maybe_sent(),
            message: other.to_string(),
            after: None,
            throttled: false,
        },
    }
}

/// What a non-2xx answer means for the deal.
fn refusal(response: &Response, body: Option<&Value>) -> TargetError {
    let status = response.status;
    let message = message_of(response, body);
    let after = response.header("retry-after").and_then(parse_retry_after);
    match status {
        429 => TargetError::Retryable {
            status: Some(status),
            message,
            after,
            maybe_written: false,
            throttled: true,
        },
        408 | 500..=599 => TargetError::Retryable {
            status: Some(status),
            message,
            throttled: status == 503 && after.is_some(),
            after,
            // A gateway may answer 5xx after the project system committed the write.
            maybe_written: true,
        },
        300..=399 => TargetError::Rejected {
            status: Some(status),
            message: format!(
                "redirected to {}; give the final URL",
                response.header("location").unwrap_or("another address")
            ),
        },
        _ => TargetError::Rejected {
            status: Some(status),
            message,
        },
    }
}

/// The response's explanation: a `message`, `error` or `detail` field, else the body's text.
fn message_of(response: &Response, body: Option<&Value>) -> String {
    let field = body.and_then(|b| {
        ["/message", "/error/message", "/error", "/detail", "/title"]
            .iter()
            .find_map(|p| b.pointer(p).and_then(Value::as_str))
    });
    let text = match field {
        Some(text) => text.to_string(),
        None => String::from_utf8_lossy(&response.body).trim().to_string(),
    };
    let text: String = text.chars().take(300).collect();
    if text.is_empty() {
        format!("the target answered {}", response.status)
    } else {
        text
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 section 10.2.3).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let wait = date.timestamp_millis() - now;
    Some(Duration::from_millis(u64::try_from(wait).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn credentials_never_appear_in_descriptions() {
        assert_eq!(
            without_credentials("https://u:secret@psa.example/api?x=1"),
            "https://psa.example/api?x=1"
        );
        assert_eq!(percent_encode("a b/é"), "a%20b%2F%C3%A9");
    }
}
