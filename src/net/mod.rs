//! HTTP for the handoff runtime, behind a small blocking API: [`Client::send`] for requests to
//! CRMs and PSAs, [`Server`] for the webhook listener.
//!
//! This is the only module that names the HTTP, TLS and async crates (hyper, hyper-util,
//! hyper-rustls, rustls, tokio); `tests/guarantees.rs` fails if any other file does. Each client
//! and each server runs one current-thread tokio runtime on a thread of its own; callers on any
//! thread hand it work and block on the answer, so the rest of mapctl stays synchronous code.
//! TLS is rustls with the ring provider and the webpki-roots trust anchors compiled in: nothing
//! is read from the system, and no OpenSSL is linked.
//!
//! Every request has a connect, a read and a total timeout, and every response body a size cap;
//! the server bounds body size, header time and concurrent requests. Errors say whether the
//! request may have reached the peer ([`NetError::maybe_sent`]): the delivery state machine
//! needs that to know when a write may have happened.

mod client;
mod server;
#[cfg(test)]
mod tests;

pub use client::{Client, ClientOptions};
pub use server::{Handler, Incoming, Server, ServerOptions};

use std::time::Duration;

/// An HTTP method the runtime uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// An absolute `http://` or `https://` URL.
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
}

impl Request {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Request {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Vec<u8>) -> Request {
        self.body = body;
        self
    }
}

/// A response received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, at most the client's `max_response_bytes`.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a status and a body and no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// The URL or a header is not valid; nothing was sent.
    Invalid(String),
    /// No connection could be made (refused, unreachable, DNS, TLS handshake, connect
    /// timeout); nothing was sent.
    Connect(String),
    /// No complete answer within a timeout; the request may have been received.
    Timeout(Duration),
    /// The connection failed after the request started; it may have been received.
    Transport(String),
    /// The response body exceeded the cap; the request was received.
    TooLarge(usize),
    /// The client's runtime thread is gone (a bug, or the process is ending).
    Closed,
}

impl NetError {
    /// Whether the peer may have received (and acted on) the request.
    pub fn maybe_sent(&self) -> bool {
        matches!(
            self,
            NetError::Timeout(_) | NetError::Transport(_) | NetError::TooLarge(_)
        )
    }
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::Invalid(m) => write!(f, "invalid request: {m}"),
            NetError::Connect(m) => write!(f, "cannot connect: {m}"),
            NetError::Timeout(d) => write!(f, "no answer within {} ms", d.as_millis()),
            NetError::Transport(m) => write!(f, "connection failed: {m}"),
            NetError::TooLarge(cap) => write!(f, "response body larger than {cap} bytes"),
            NetError::Closed => write!(f, "the HTTP client has stopped"),
        }
    }
}

impl std::error::Error for NetError {}

/// Describes an error and its sources in one line, without repeating what a cause already said.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}
