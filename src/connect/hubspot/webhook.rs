//! HubSpot webhooks (hubspot.md section 6): checking `X-HubSpot-Signature-v3` and reading the
//! deal ids out of the events.
//!
//! The signature is the base64 HMAC-SHA256, keyed with the app's client secret, of
//! `method + requestUri + body + timestamp`, where `requestUri` is the URL HubSpot called
//! with a closed list of percent-escapes decoded, and `timestamp` the
//! `X-HubSpot-Request-Timestamp` header as sent (Unix milliseconds); a request older than five
//! minutes, or dated more than five minutes ahead, is refused. The comparison takes constant
//! time. The raw body is signed (HubSpot's example re-serialises parsed JSON; bytes are what
//! was sent).

use hmac::{KeyInit, Mac};
use serde_json::Value;

use super::bundle::id_text;
use crate::connect::encode::base64;

/// The signature header.
pub const SIGNATURE: &str = "x-hubspot-signature-v3";
/// The timestamp header.
pub const TIMESTAMP: &str = "x-hubspot-request-timestamp";
/// The oldest (and newest) a signed request may be, in ms.
pub const WINDOW_MS: i64 = 5 * 60 * 1000;

/// The escapes HubSpot decodes in `requestUri` (no others).
const DECODED: [(&str, &str); 12] = [
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
];

/// Why a webhook request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A header is missing.
    Missing(&'static str),
    /// The timestamp is not a number, or outside the five-minute window.
    Stale,
    /// The signature does not match.
    Bad,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Missing(header) => write!(f, "no `{header}` header"),
            Refusal::Stale => write!(f, "`{TIMESTAMP}` is not within five minutes of now"),
            Refusal::Bad => write!(
                f,
                "`{SIGNATURE}` does not match the body (check HUBSPOT_CLIENT_SECRET and --public-url)"
            ),
        }
    }
}

/// The `requestUri` HubSpot signs: the public base URL (scheme and host HubSpot calls), the
/// path and the query, with the documented escapes decoded.
pub fn request_uri(public_base: &str, path: &str, query: Option<&str>) -> String {
    let mut uri = format!("{}{path}", public_base.trim_end_matches('/'));
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(query);
    }
    let mut decoded = String::with_capacity(uri.len());
    let mut rest = uri.as_str();
    while let Some(at) = rest.find('%') {
        decoded.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        match DECODED.iter().find(|(code, _)| *code == escape) {
            Some((_, plain)) => {
                decoded.push_str(plain);
                rest = &rest[at + 3..];
            }
            None => {
                decoded.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

/// The v3 signature of a request.
pub fn signature(secret: &[u8], method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    base64(&mac.finalize().into_bytes())
}

/// Checks a request's v3 signature and timestamp at `now_ms`.
pub fn verify(
    secret: &[u8],
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: Option<&str>,
    given: Option<&str>,
    now_ms: i64,
) -> Result<(), Refusal> {
    let timestamp = timestamp.ok_or(Refusal::Missing(TIMESTAMP))?.trim();
    let given = given.ok_or(Refusal::Missing(SIGNATURE))?.trim();
    let at: i64 = timestamp.parse().map_err(|_| Refusal::Stale)?;
    if (now_ms - at).abs() > WINDOW_MS {
        return Err(Refusal::Stale);
    }
    let expected = signature(secret, method, uri, body, timestamp);
    if !expected.is_empty() && constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::Bad)
    }
}

/// Equality of two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The deal ids of a webhook body (an array of events, or one event), once each, in order.
/// Events about other objects are ignored. The event type is read from `subscriptionType` or
/// `eventType` (HubSpot's pages use both).
pub fn deal_ids(body: &[u8]) -> Result<Vec<String>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let events = match value {
        Value::Array(events) => events,
        event @ Value::Object(_) => vec![event],
        _ => return Err("the body is not an array of events".into()),
    };
    let mut ids = Vec::new();
    for event in &events {
        let kind = event
            .get("subscriptionType")
            .or_else(|| event.get("eventType"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !kind.starts_with("deal.") {
            continue;
        }
        let id = event
            .get("objectId")
            .and_then(id_text)
            .ok_or_else(|| format!("a `{kind}` event has no objectId"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_escapes_and_only_they_are_decoded() {
        assert_eq!(
            request_uri(
                "https://hooks.example",
                "/hubspot%3Aa%2Fb%20c",
                Some("x=%40%41")
            ),
            "https://hooks.example/hubspot:a/b%20c?x=@%41"
        );
        assert_eq!(
            request_uri("https://h.example/", "/p", None),
            "https://h.example/p"
        );
    }

    #[test]
    fn a_signature_holds_only_for_its_body_its_uri_and_five_minutes() {
        let now = 1_741_944_662_004i64;
        let at = now.to_string();
        let uri = "https://hooks.example/hubspot";
        let good = signature(b"secret", "POST", uri, b"[]", &at);
        assert_eq!(
            verify(b"secret", "POST", uri, b"[]", Some(&at), Some(&good), now),
            Ok(())
        );
        assert_eq!(
            verify(b"secret", "POST", uri, b"[ ]", Some(&at), Some(&good), now),
            Err(Refusal::Bad)
        );
        assert_eq!(
            verify(b"other", "POST", uri, b"[]", Some(&at), Some(&good), now),
            Err(Refusal::Bad)
        );
        assert_eq!(
            verify(
                b"secret",
                "POST",
                "https://x.example/hubspot",
                b"[]",
                Some(&at),
                Some(&good),
                now
            ),
            Err(Refusal::Bad)
        );
        let late = now + WINDOW_MS + 1;
        assert_eq!(
            verify(b"secret", "POST", uri, b"[]", Some(&at), Some(&good), late),
            Err(Refusal::Stale)
        );
        assert_eq!(
            verify(b"secret", "POST", uri, b"[]", None, Some(&good), now),
            Err(Refusal::Missing(TIMESTAMP))
        );
    }

    #[test]
    fn deal_ids_come_from_deal_events_once_each() {
        let body =
            std::fs::read("mappings/samples/vendor-api/hubspot/webhook_deal_propertyChange.json")
                .unwrap();
        assert_eq!(deal_ids(&body).unwrap(), ["18000000027", "18000000031"]);
        let mixed = br#"[{"eventType":"contact.creation","objectId":1},{"eventType":"deal.creation","objectId":"7"},{"subscriptionType":"deal.propertyChange","objectId":7}]"#;
        assert_eq!(deal_ids(mixed).unwrap(), ["7"]);
        assert!(deal_ids(b"{").is_err());
    }
}
