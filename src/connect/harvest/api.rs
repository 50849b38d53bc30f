//! Harvest's HTTP conventions (docs/connectors/harvest.md sections 1, 2, 5, 6 and 7): the
//! personal access token as `Authorization: Bearer`, the account in `Harvest-Account-Id`, a
//! `User-Agent` naming mapctl and a contact (required: without it Harvest answers 400), JSON
//! bodies, lists paged by cursor (`links.next`, followed until `null`; only its path and query
//! are taken, so the token never goes to another host), 100 requests per 15 seconds, and 429
//! answers that say in `Retry-After` how long to wait.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::connect::limit::{RateLimiter, Window};
use crate::connect::meter::Meter;
use crate::connect::vendor::{
    Call, ReadRetry, VendorClient, VendorError, VendorRules, header_wait, json_body,
};
use crate::net::{ClientOptions, Method, Request, Response};

/// The default base URL (paths start at `/v2`).
pub const DEFAULT_URL: &str = "https://api.harvestapp.com";
/// Records per list page (Harvest's maximum).
pub const PER_PAGE: usize = 2000;
/// Pages followed at most in one list.
const MAX_PAGES: usize = 1000;

/// Harvest's documented limit for general requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests per 15 seconds (100).
    pub per_fifteen_seconds: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_fifteen_seconds: 100,
        }
    }
}

const FIFTEEN_SECONDS: Duration = Duration::from_secs(15);

/// Reads Harvest's answers for limits and explanations.
struct Rules {
    limiter: Arc<RateLimiter>,
}

impl VendorRules for Rules {
    fn vendor(&self) -> &'static str {
        "harvest"
    }

    fn label(&self) -> &'static str {
        "Harvest"
    }

    fn observe(&self, response: &Response, _call: &Call<'_>) -> Option<Duration> {
        if response.status != 429 {
            return None;
        }
        // Retry-After gives the seconds until the throttle lifts; without it, the window.
        let wait = header_wait(response).unwrap_or(FIFTEEN_SECONDS);
        self.limiter.pause(wait);
        Some(wait)
    }

    fn message(&self, body: &[u8]) -> Option<String> {
        let body: Value = serde_json::from_slice(body).ok()?;
        let text = ["message", "error_description", "error"]
            .iter()
            .find_map(|key| body.get(key).and_then(Value::as_str))?;
        Some(text.chars().take(400).collect())
    }
}

/// What identifies mapctl to one Harvest account.
pub struct Credentials {
    /// `HARVEST_TOKEN`: a personal access token.
    pub token: String,
    /// `HARVEST_ACCOUNT_ID`.
    pub account_id: String,
    /// `HARVEST_CONTACT`: an email or URL, for the `User-Agent` Harvest requires.
    pub contact: String,
}

/// One Harvest account.
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
        let limiter = Arc::new(RateLimiter::new(&[Window::new(
            limits.per_fifteen_seconds,
            FIFTEEN_SECONDS,
        )]));
        let rules = Rules {
            limiter: Arc::clone(&limiter),
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
        let agent = format!(
            "mapctl/{} ({})",
            env!("CARGO_PKG_VERSION"),
            self.credentials.contact
        );
        self.client
            .request(method, path)
            .header(
                "authorization",
                format!("Bearer {}", self.credentials.token),
            )
            .header("harvest-account-id", self.credentials.account_id.as_str())
            .header("user-agent", agent)
            .header("accept", "application/json")
    }

    /// `GET {path}` (with its query), retried as reads are; the 2xx answer's JSON, `None` for
    /// 404.
    pub fn get(
        &self,
        path: &str,
        purpose: &'static str,
        deal: Option<&str>,
    ) -> Result<Option<Value>, VendorError> {
        let request = self.request(Method::Get, path);
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

    /// Every record under `key` of a list (`/v2/clients`, `/v2/projects?client_id=…`), page
    /// after page by `links.next`.
    pub fn list(
        &self,
        path: &str,
        key: &str,
        purpose: &'static str,
        deal: Option<&str>,
    ) -> Result<Vec<Value>, VendorError> {
        let mut records = Vec::new();
        for (page_path, page) in self.pages(path, purpose, deal)? {
            let items = page.get(key).and_then(Value::as_array).ok_or_else(|| {
                self.malformed(&page_path, &format!("the answer has no `{key}` list"))
            })?;
            records.extend(items.iter().cloned());
        }
        Ok(records)
    }

    /// Every page of a list, each as Harvest answered it, with the path it was read from.
    pub fn pages(
        &self,
        path: &str,
        purpose: &'static str,
        deal: Option<&str>,
    ) -> Result<Vec<(String, Value)>, VendorError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{separator}per_page={PER_PAGE}"));
        let mut pages = Vec::new();
        for _ in 0..MAX_PAGES {
            let Some(page_path) = next.take() else { break };
            let page = self.get(&page_path, purpose, deal)?.unwrap_or(Value::Null);
            next = match page.pointer("/links/next") {
                Some(Value::String(url)) => Some(
                    next_path(url)
                        .ok_or_else(|| self.malformed(&page_path, "`links.next` is not a URL"))?,
                ),
                _ => None,
            };
            pages.push((page_path, page));
        }
        Ok(pages)
    }

    /// `POST {path}` with a JSON body, sent once (a create: retries are the runtime's). The
    /// answer whatever its status, or the failure to get one.
    pub fn post(
        &self,
        path: &str,
        body: &Value,
        purpose: &'static str,
        deal: Option<&str>,
    ) -> Result<(Request, Response), VendorError> {
        let request = self
            .request(Method::Post, path)
            .header("content-type", "application/json")
            .body(body.to_string().into_bytes());
        let limits = [self.limiter.as_ref()];
        let call = Call {
            purpose,
            deal,
            limits: &limits,
        };
        let response = self.client.send(&call, &request)?;
        Ok((request, response))
    }

    /// The error an answer with a status stands for (the body's `message`, with a hint).
    pub fn status_error(&self, request: &Request, response: &Response) -> VendorError {
        with_hint(
            self.client
                .status_error(request, response, header_wait(response)),
        )
    }

    /// The JSON of a 2xx answer.
    pub fn answer(&self, request: &Request, response: &Response) -> Result<Value, VendorError> {
        json_body(&self.client, request, response).map_err(with_hint)
    }

    fn malformed(&self, path: &str, message: &str) -> VendorError {
        VendorError {
            endpoint: self
                .client
                .endpoint(&self.client.request(Method::Get, path)),
            status: Some(200),
            message: message.to_string(),
            maybe_sent: false,
            after: None,
        }
    }
}

/// The path and query of a `links.next` URL (`https://api.harvestapp.com/v2/clients?cursor=…`),
/// when it is one under `/v2`.
pub fn next_path(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let start = rest.find('/')?;
    let path = &rest[start..];
    path.starts_with("/v2/").then(|| path.to_string())
}

/// Adds what a 400, 401 or 403 usually means.
fn with_hint(mut error: VendorError) -> VendorError {
    match error.status {
        Some(401) => error.message.push_str(
            " (check HARVEST_TOKEN and HARVEST_ACCOUNT_ID: the token is wrong or revoked, or does not reach that account)",
        ),
        Some(403) => error.message.push_str(
            " (the token's user must be an Administrator, or a Manager who manages projects)",
        ),
        _ => {}
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_keep_only_their_path_under_v2() {
        assert_eq!(
            next_path(
                "https://api.harvestapp.com/v2/clients?cursor=eyJ&per_page=2000&ref=next_cursor"
            )
            .as_deref(),
            Some("/v2/clients?cursor=eyJ&per_page=2000&ref=next_cursor")
        );
        assert_eq!(next_path("https://evil.example/steal"), None);
        assert_eq!(next_path("not a url"), None);
    }
}
