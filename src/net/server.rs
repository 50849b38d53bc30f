//! The HTTP server for webhooks: hyper's HTTP/1 connections on a current-thread tokio runtime on
//! a thread of its own. Request bodies are read whole (up to a cap) before the handler runs; the
//! handler is ordinary blocking code, run on tokio's blocking pool, so it may write to SQLite and
//! wait for the disk. Over the concurrency bound the server answers 503 with `Retry-After`.
//! [`Server::stop`] stops accepting, lets requests in progress finish (within a grace period),
//! and returns when the runtime has stopped.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::oneshot;

use super::{NetError, Response};

/// Bounds the server enforces.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Requests handled at once (503 beyond).
    pub max_concurrent: usize,
    /// Longest wait for a request's head.
    pub header_timeout: Duration,
    /// Longest wait for a request's body (408 beyond).
    pub body_timeout: Duration,
    /// How long a graceful stop waits for requests in progress.
    pub grace: Duration,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            max_body_bytes: 1 << 20,
            max_concurrent: 16,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            grace: Duration::from_secs(30),
        }
    }
}

/// A request as the handler sees it: head and whole body.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Incoming {
    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The code that answers requests; it runs on a blocking thread.
pub type Handler = Arc<dyn Fn(Incoming) -> Response + Send + Sync>;

/// A running server.
pub struct Server {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    handler: Handler,
    options: ServerOptions,
    active: AtomicUsize,
}

impl Server {
    /// Binds `address` (port 0 picks a free port) and starts serving.
    pub fn start(
        address: &str,
        options: ServerOptions,
        handler: Handler,
    ) -> Result<Server, NetError> {
        let listener = std::net::TcpListener::bind(address)
            .map_err(|e| NetError::Connect(format!("cannot listen on `{address}`: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| NetError::Connect(format!("cannot listen on `{address}`: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| NetError::Connect(format!("cannot listen on `{address}`: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .max_blocking_threads(options.max_concurrent.max(1) + 1)
            .build()
            .map_err(|e| NetError::Invalid(format!("cannot start the HTTP runtime: {e}")))?;
        let (stop, stopped) = oneshot::channel();
        let shared = Arc::new(Shared {
            handler,
            options,
            active: AtomicUsize::new(0),
        });
        let thread = std::thread::Builder::new()
            .name("mapctl-http-server".into())
            .spawn(move || {
                let grace = shared.options.grace;
                runtime.block_on(accept_loop(listener, shared, stopped));
                runtime.shutdown_timeout(grace);
            })
            .map_err(|e| NetError::Invalid(format!("cannot start the HTTP thread: {e}")))?;
        Ok(Server {
            address: local,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Stops accepting, waits for requests in progress (up to the grace period), and returns.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
    }
}

enum Event {
    Stop,
    Accepted(std::io::Result<(tokio::net::TcpStream, SocketAddr)>),
}

/// Accepts connections until told to stop, then shuts the connections down gracefully.
async fn accept_loop(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let graceful = GracefulShutdown::new();
    let max_connections = shared.options.max_concurrent.max(1) * 4;
    loop {
        let event = std::future::poll_fn(|cx| {
            if Pin::new(&mut stopped).poll(cx).is_ready() {
                return Poll::Ready(Event::Stop);
            }
            listener.poll_accept(cx).map(Event::Accepted)
        })
        .await;
        let stream = match event {
            Event::Stop => break,
            Event::Accepted(Ok((stream, _))) => stream,
            Event::Accepted(Err(_)) => {
                // Out of file descriptors or similar: wait a little rather than spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        if graceful.count() >= max_connections {
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let service_state = Arc::clone(&shared);
        let service = service_fn(move |request| {
            let state = Arc::clone(&service_state);
            async move { Ok::<_, Infallible>(answer(&state, request).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(shared.options.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(shared.options.grace, graceful.shutdown()).await;
}

/// Decrements the active-request count when a request ends, however it ends.
struct ActiveGuard<'a>(&'a AtomicUsize);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Bounds the request, reads its body and runs the handler.
async fn answer(
    shared: &Shared,
    request: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let options = &shared.options;
    if shared.active.fetch_add(1, Ordering::SeqCst) >= options.max_concurrent {
        shared.active.fetch_sub(1, Ordering::SeqCst);
        return to_hyper(Response::new(503, "busy\n").with_header("retry-after", "1"));
    }
    let _guard = ActiveGuard(&shared.active);
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > options.max_body_bytes) {
        return to_hyper(too_large(options.max_body_bytes));
    }
    let limited = Limited::new(body, options.max_body_bytes).collect();
    let body = match tokio::time::timeout(options.body_timeout, limited).await {
        Err(_) => return to_hyper(Response::new(408, "request body too slow\n")),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            return to_hyper(too_large(options.max_body_bytes));
        }
        Ok(Err(_)) => return to_hyper(Response::new(400, "request body could not be read\n")),
        Ok(Ok(collected)) => collected.to_bytes().to_vec(),
    };
    let incoming = Incoming {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_string(), value)
            })
            .collect(),
        body,
    };
    let handler = Arc::clone(&shared.handler);
    match tokio::task::spawn_blocking(move || handler(incoming)).await {
        Ok(response) => to_hyper(response),
        Err(_) => to_hyper(Response::new(500, "internal error\n")),
    }
}

fn too_large(cap: usize) -> Response {
    Response::new(413, format!("request body larger than {cap} bytes\n"))
}

/// Our response as hyper's.
fn to_hyper(response: Response) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|_| {
            let mut fallback =
                hyper::Response::new(Full::new(Bytes::from_static(b"bad response\n")));
            *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}
