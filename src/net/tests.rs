//! The client against the server, on loopback.

use std::sync::Arc;
use std::time::Duration;

use super::*;

fn echo_server(options: ServerOptions) -> Server {
    let handler: Handler = Arc::new(|request: Incoming| {
        if request.path == "/slow" {
            std::thread::sleep(Duration::from_millis(300));
        }
        if request.path == "/big" {
            return Response::new(200, vec![b'x'; 5000]);
        }
        let text = format!(
            "{} {} {:?} {}",
            request.method,
            request.path,
            request.query,
            String::from_utf8_lossy(&request.body)
        );
        Response::new(201, text).with_header("X-Seen", request.header("x-test").unwrap_or("-"))
    });
    Server::start("127.0.0.1:0", options, handler).expect("server starts")
}

fn url(server: &Server, path: &str) -> String {
    format!("http://{}{path}", server.local_addr())
}

#[test]
fn a_request_round_trips_with_method_path_query_headers_and_body() {
    let server = echo_server(ServerOptions::default());
    let client = Client::new(ClientOptions::default()).unwrap();
    let request = Request::new(Method::Post, url(&server, "/deals?x=1"))
        .header("X-Test", "yes")
        .body(b"{\"a\":1}".to_vec());
    let response = client.send(&request).unwrap();
    assert_eq!(response.status, 201);
    assert_eq!(response.header("x-seen"), Some("yes"));
    assert_eq!(
        String::from_utf8(response.body).unwrap(),
        "POST /deals Some(\"x=1\") {\"a\":1}"
    );
    // The pooled connection is reused for the next request.
    let again = client
        .send(&Request::new(Method::Get, url(&server, "/")))
        .unwrap();
    assert_eq!(again.status, 201);
    server.stop();
}

#[test]
fn oversized_bodies_are_refused_both_ways() {
    let server = echo_server(ServerOptions {
        max_body_bytes: 100,
        ..ServerOptions::default()
    });
    let client = Client::new(ClientOptions {
        max_response_bytes: 1000,
        ..ClientOptions::default()
    })
    .unwrap();
    let big = Request::new(Method::Post, url(&server, "/")).body(vec![b'a'; 101]);
    assert_eq!(client.send(&big).unwrap().status, 413);
    let error = client
        .send(&Request::new(Method::Get, url(&server, "/big")))
        .unwrap_err();
    assert_eq!(error, NetError::TooLarge(1000));
    assert!(error.maybe_sent());
}

#[test]
fn a_slow_answer_is_a_timeout_that_may_have_been_sent() {
    let server = echo_server(ServerOptions::default());
    let client = Client::new(ClientOptions {
        read_timeout: Duration::from_millis(50),
        ..ClientOptions::default()
    })
    .unwrap();
    let error = client
        .send(&Request::new(Method::Get, url(&server, "/slow")))
        .unwrap_err();
    assert!(matches!(error, NetError::Timeout(_)), "{error:?}");
    assert!(error.maybe_sent());
}

#[test]
fn a_refused_connection_was_not_sent() {
    // Bind then drop a listener: the port is (almost certainly) closed now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(ClientOptions::default()).unwrap();
    let error = client
        .send(&Request::new(
            Method::Get,
            format!("http://127.0.0.1:{port}/"),
        ))
        .unwrap_err();
    assert!(matches!(error, NetError::Connect(_)), "{error:?}");
    assert!(!error.maybe_sent());
}

#[test]
fn bad_urls_are_invalid_requests() {
    let client = Client::new(ClientOptions::default()).unwrap();
    for bad in ["ftp://127.0.0.1/", "not a url", "/relative"] {
        let error = client.send(&Request::new(Method::Get, bad)).unwrap_err();
        assert!(matches!(error, NetError::Invalid(_)), "{bad}: {error:?}");
    }
}

#[test]
fn requests_over_the_concurrency_bound_get_503() {
    use std::sync::Mutex;
    use std::sync::mpsc;
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let entered_tx = Mutex::new(entered_tx);
    let release_rx = Mutex::new(release_rx);
    let handler: Handler = Arc::new(move |request: Incoming| {
        if request.path == "/hold" {
            let _ = entered_tx.lock().unwrap().send(());
            let _ = release_rx
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(10));
        }
        Response::new(200, "ok")
    });
    let options = ServerOptions {
        max_concurrent: 1,
        ..ServerOptions::default()
    };
    let server = Server::start("127.0.0.1:0", options, handler).unwrap();
    let client = Client::new(ClientOptions::default()).unwrap();
    let held = {
        let client = client.clone();
        let request = Request::new(Method::Get, url(&server, "/hold"));
        std::thread::spawn(move || client.send(&request).map(|r| r.status))
    };
    entered.recv_timeout(Duration::from_secs(10)).unwrap();
    let busy = client
        .send(&Request::new(Method::Get, url(&server, "/")))
        .unwrap();
    assert_eq!(busy.status, 503);
    assert_eq!(busy.header("retry-after"), Some("1"));
    release.send(()).unwrap();
    assert_eq!(held.join().unwrap(), Ok(200));
}

#[test]
fn a_graceful_stop_finishes_the_request_in_progress() {
    use std::sync::Mutex;
    use std::sync::mpsc;
    let (entered_tx, entered) = mpsc::channel::<()>();
    let entered_tx = Mutex::new(entered_tx);
    let handler: Handler = Arc::new(move |_request: Incoming| {
        let _ = entered_tx.lock().unwrap().send(());
        std::thread::sleep(Duration::from_millis(200));
        Response::new(200, "finished")
    });
    let server = Server::start("127.0.0.1:0", ServerOptions::default(), handler).unwrap();
    let client = Client::new(ClientOptions::default()).unwrap();
    let request = Request::new(Method::Get, url(&server, "/"));
    let in_progress = std::thread::spawn(move || client.send(&request).map(|r| r.body));
    entered.recv_timeout(Duration::from_secs(10)).unwrap();
    server.stop();
    assert_eq!(in_progress.join().unwrap(), Ok(b"finished".to_vec()));
}
