//! The HTTP client: one pooled hyper client (HTTP/1, rustls) driven by a current-thread tokio
//! runtime on its own thread. [`Client::send`] may be called from any number of threads at once;
//! each call hands the request to the runtime and blocks until its answer or error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as Pool;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{mpsc, oneshot};

use super::{NetError, Request, Response, chain};

/// Limits every request of a client obeys.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for the response head, and for each piece of its body.
    pub read_timeout: Duration,
    /// Longest time for the whole exchange.
    pub total_timeout: Duration,
    /// Largest response body accepted.
    pub max_response_bytes: usize,
    /// Idle connections kept per host for reuse.
    pub max_idle_per_host: usize,
    /// The `User-Agent` header sent unless a request sets its own.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(60),
            max_response_bytes: 8 << 20,
            max_idle_per_host: 16,
            user_agent: concat!("mapctl/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

type Reply = oneshot::Sender<Result<Response, NetError>>;
type Hyper = Pool<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A blocking HTTP client; clones share one connection pool and one runtime thread.
#[derive(Clone)]
pub struct Client {
    jobs: mpsc::UnboundedSender<(Request, Reply)>,
}

impl Client {
    /// Starts a client (its runtime thread and connection pool).
    pub fn new(options: ClientOptions) -> Result<Client, NetError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| NetError::Invalid(format!("cannot start the HTTP runtime: {e}")))?;
        let connector = connector(&options)?;
        let (jobs, mut queue) = mpsc::unbounded_channel::<(Request, Reply)>();
        std::thread::Builder::new()
            .name("mapctl-http-client".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let pool: Hyper = Pool::builder(TokioExecutor::new())
                        .pool_max_idle_per_host(options.max_idle_per_host)
                        .pool_idle_timeout(Duration::from_secs(30))
                        .build(connector);
                    let options = Arc::new(options);
                    while let Some((request, reply)) = queue.recv().await {
                        let pool = pool.clone();
                        let options = Arc::clone(&options);
                        tokio::spawn(async move {
                            let _ = reply.send(perform(&pool, &options, request).await);
                        });
                    }
                });
            })
            .map_err(|e| NetError::Invalid(format!("cannot start the HTTP thread: {e}")))?;
        Ok(Client { jobs })
    }

    /// Sends a request and waits for its complete response (any status) or an error.
    pub fn send(&self, request: &Request) -> Result<Response, NetError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((request.clone(), reply))
            .map_err(|_| NetError::Closed)?;
        answer.blocking_recv().map_err(|_| NetError::Closed)?
    }
}

/// HTTP and HTTPS connections: rustls with ring and the webpki-roots anchors.
fn connector(options: &ClientOptions) -> Result<HttpsConnector<HttpConnector>, NetError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(options.connect_timeout));
    // ring, not aws-lc (a C and assembly build we chose not to carry; see ARCHITECTURE.md).
    // rustls 0.23.48 deprecates ring's provider only for lacking post-quantum key exchange.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(provider)
        .map_err(|e| NetError::Invalid(format!("TLS setup failed: {e}")))?;
    Ok(builder.https_or_http().enable_http1().wrap_connector(http))
}

/// One exchange under the client's timeouts and body cap.
async fn perform(
    pool: &Hyper,
    options: &ClientOptions,
    request: Request,
) -> Result<Response, NetError> {
    let started = Instant::now();
    let outgoing = build(request, options)?;
    let head_wait = options.read_timeout.min(options.total_timeout);
    let head = tokio::time::timeout(head_wait, pool.request(outgoing))
        .await
        .map_err(|_| NetError::Timeout(head_wait))?
        .map_err(|e| {
            if e.is_connect() {
                NetError::Connect(chain(&e))
            } else {
                NetError::Transport(chain(&e))
            }
        })?;
    let (parts, body) = head.into_parts();
    let remaining = options.total_timeout.saturating_sub(started.elapsed());
    let body = tokio::time::timeout(remaining, read_body(body, options))
        .await
        .map_err(|_| NetError::Timeout(options.total_timeout))??;
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect();
    Ok(Response {
        status: parts.status.as_u16(),
        headers,
        body,
    })
}

/// Reads a response body, each piece within the read timeout, up to the cap.
async fn read_body(
    mut body: hyper::body::Incoming,
    options: &ClientOptions,
) -> Result<Vec<u8>, NetError> {
    let mut data = Vec::new();
    loop {
        let frame = tokio::time::timeout(options.read_timeout, body.frame())
            .await
            .map_err(|_| NetError::Timeout(options.read_timeout))?;
        let Some(frame) = frame else {
            return Ok(data);
        };
        let frame = frame.map_err(|e| NetError::Transport(chain(&e)))?;
        if let Ok(bytes) = frame.into_data() {
            if data.len() + bytes.len() > options.max_response_bytes {
                return Err(NetError::TooLarge(options.max_response_bytes));
            }
            data.extend_from_slice(&bytes);
        }
    }
}

/// The hyper request for one of ours.
fn build(
    request: Request,
    options: &ClientOptions,
) -> Result<hyper::Request<Full<Bytes>>, NetError> {
    let uri: hyper::Uri = request
        .url
        .parse()
        .map_err(|e| NetError::Invalid(format!("`{}` is not a URL: {e}", request.url)))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => {}
        _ => {
            return Err(NetError::Invalid(format!(
                "`{}` is not an http:// or https:// URL",
                request.url
            )));
        }
    }
    let mut builder = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(uri);
    let has_agent = request
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("user-agent"));
    if !has_agent {
        builder = builder.header("user-agent", options.user_agent.as_str());
    }
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(request.body)))
        .map_err(|e| NetError::Invalid(format!("bad header: {e}")))
}
