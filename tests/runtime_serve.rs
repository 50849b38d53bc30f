//! `mapctl serve`: signed webhooks, durability before 202, duplicates, health and metrics, a
//! graceful stop, and kill -9 right after acknowledgements.

#[path = "runtime_support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use hmac::{KeyInit, Mac};
use mapctl::net::{Client, ClientOptions, Method, Request, Response};
use support::fake_target::{FakeTarget, Options};
use support::{Kind, deal, mapctl, status};

const SECRET: &str = "test-webhook-secret";

struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `mapctl serve` on a free loopback port and waits (boundedly) for its address.
fn serve(ledger: &Path, target: &str) -> Served {
    let mut child = mapctl()
        .args([
            "serve",
            &support::mapping().display().to_string(),
            "--to",
            target,
        ])
        .args(["--listen", "127.0.0.1:0", "--ledger"])
        .arg(ledger)
        .args([
            "--backoff-ms",
            "5",
            "--max-backoff-ms",
            "40",
            "--timeout-ms",
            "250",
        ])
        .args(["--max-attempts", "100000"])
        .env("MAPCTL_WEBHOOK_SECRET", SECRET)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().expect("a first line").expect("readable");
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in `{first}`"))
        .to_string();
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Served { child, base }
}

fn signature(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn post(client: &Client, base: &str, body: &[u8], signature: Option<&str>) -> Response {
    let mut request = Request::new(Method::Post, format!("{base}/deals")).body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("X-Mapctl-Signature", signature);
    }
    client.send(&request).expect("serve answers")
}

/// Waits (at most 10 s) until the fake holds `n` projects.
fn wait_for_projects(fake: &FakeTarget, n: usize) {
    for _ in 0..1000 {
        if fake.projects().len() >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} projects, expected {n}", fake.projects().len());
}

#[test]
fn a_bad_signature_is_401_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options::default());
    let ledger = dir.path().join("ledger.db");
    let served = serve(&ledger, &fake.url());
    let client = Client::new(ClientOptions::default()).unwrap();
    let body = deal(1, Kind::Won).to_string().into_bytes();
    assert_eq!(post(&client, &served.base, &body, None).status, 401);
    let forged = signature(b"another body");
    assert_eq!(
        post(&client, &served.base, &body, Some(&forged)).status,
        401
    );
    assert_eq!(
        post(&client, &served.base, &body, Some("sha256=zz")).status,
        401
    );
    assert_eq!(status(&ledger)["total"], 0);
    assert!(fake.projects().is_empty());
}

#[test]
fn the_same_event_twice_is_one_project_and_metrics_count_it() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options::default());
    let ledger = dir.path().join("ledger.db");
    let served = serve(&ledger, &fake.url());
    let client = Client::new(ClientOptions::default()).unwrap();
    let body = deal(1, Kind::Won).to_string().into_bytes();
    let signed = signature(&body);
    for _ in 0..2 {
        let answer = post(&client, &served.base, &body, Some(&signed));
        assert_eq!(
            answer.status,
            202,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
    }
    wait_for_projects(&fake, 1);
    let rejected = deal(2, Kind::Incomplete).to_string().into_bytes();
    let answer = post(
        &client,
        &served.base,
        &rejected,
        Some(&signature(&rejected)),
    );
    assert_eq!(answer.status, 202);
    let told: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(told["state"], "rejected");
    let health = client
        .send(&Request::new(
            Method::Get,
            format!("{}/healthz", served.base),
        ))
        .unwrap();
    assert_eq!(health.status, 200);
    for _ in 0..500 {
        if status(&ledger)["counts"]["delivered"] == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let metrics = client
        .send(&Request::new(
            Method::Get,
            format!("{}/metrics", served.base),
        ))
        .unwrap();
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(
        text.contains("mapctl_deals{state=\"delivered\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("mapctl_deals{state=\"rejected\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("mapctl_webhook_requests_total{status=\"202\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("mapctl_target_latency_seconds_count"),
        "{text}"
    );
    assert_eq!(fake.projects().len(), 1);
}

#[test]
fn every_acknowledged_event_survives_a_kill_and_is_delivered_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    // A target that is down: nothing is delivered before the kill, so only the ledger holds
    // what was acknowledged.
    let fake = FakeTarget::start(Options {
        fault_rate: 1.0,
        faults: vec![support::fake_target::Fault::Unavailable],
        ..Options::default()
    });
    let ledger = dir.path().join("ledger.db");
    let client = Client::new(ClientOptions::default()).unwrap();
    let mut acknowledged = Vec::new();
    for round in 0..3 {
        let mut served = serve(&ledger, &fake.url());
        for n in 0..5 {
            let id = round * 10 + n;
            let body = deal(id, Kind::Won).to_string().into_bytes();
            let answer = post(&client, &served.base, &body, Some(&signature(&body)));
            assert_eq!(answer.status, 202);
            acknowledged.push(format!("d{id}"));
        }
        served.child.kill().unwrap();
        served.child.wait().unwrap();
        let status = status(&ledger);
        assert_eq!(status["total"].as_u64(), Some(acknowledged.len() as u64));
    }
    fake.set_fault_rate(0.0);
    let served = serve(&ledger, &fake.url());
    wait_for_projects(&fake, acknowledged.len());
    drop(served);
    let mut delivered: Vec<String> = fake.projects_by_deal().keys().cloned().collect();
    delivered.sort();
    acknowledged.sort();
    assert_eq!(delivered, acknowledged);
    assert!(fake.projects_by_deal().values().all(|n| *n == 1));
}

#[test]
fn oversized_bodies_are_refused_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options::default());
    let ledger = dir.path().join("ledger.db");
    let mut served = serve(&ledger, &fake.url());
    let client = Client::new(ClientOptions::default()).unwrap();
    let huge = vec![b' '; (1 << 20) + 1];
    assert_eq!(
        post(&client, &served.base, &huge, Some(&signature(&huge))).status,
        413
    );
    let pid = served.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut exit = None;
    for _ in 0..1000 {
        if let Some(code) = served.child.try_wait().unwrap() {
            exit = Some(code);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        exit.and_then(|e| e.code()),
        Some(0),
        "serve did not stop on SIGTERM"
    );
}

#[test]
fn serve_refuses_to_start_without_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let output = mapctl()
        .args([
            "serve",
            &support::mapping().display().to_string(),
            "--to",
            "-",
        ])
        .args(["--listen", "127.0.0.1:0", "--ledger"])
        .arg(dir.path().join("ledger.db"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("MAPCTL_WEBHOOK_SECRET"));
}
