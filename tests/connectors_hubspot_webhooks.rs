//! `mapctl serve --from hubspot --to accelo` (the real binary): HubSpot's signed webhooks name a
//! deal; a forged or stale one is refused, the same event sent twice is one job, the deal is
//! fetched from the HubSpot fake, delivered to the Accelo fake and its status written back.

#[path = "runtime_support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use mapctl::connect::encode::base64;
use mapctl::net::{Client, ClientOptions, Method, Request};
use serde_json::json;
use support::pair::{HUBSPOT_SECRET, Pair, calls_of, mapping, won};

/// `mapctl serve --from hubspot` on a free loopback port.
struct Served {
    child: std::process::Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(pair: &Pair) -> Served {
    let ledger = pair.ledger.display().to_string();
    let args = [
        "serve",
        &mapping(),
        "--from",
        "hubspot",
        "--public-url",
        "https://hooks.example.test",
        "--to",
        "accelo",
        "--listen",
        "127.0.0.1:0",
        "--ledger",
        &ledger,
        "--backoff-ms",
        "5",
        "--max-backoff-ms",
        "40",
        "--timeout-ms",
        "3000",
    ];
    let mut child = pair
        .command(&args)
        .env("HUBSPOT_CLIENT_SECRET", HUBSPOT_SECRET)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = lines.next().expect("a first line").expect("readable");
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in `{first}`"))
        .to_string();
    std::thread::spawn(move || for _ in lines {});
    Served { child, base }
}

/// The v3 signature, computed here from HubSpot's documented recipe.
fn sign(uri: &str, body: &[u8], timestamp: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(HUBSPOT_SECRET.as_bytes()).unwrap();
    mac.update(format!("POST{uri}").as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    base64(&mac.finalize().into_bytes())
}

fn post(client: &Client, base: &str, body: &[u8], timestamp: i64, signature: &str) -> u16 {
    let request = Request::new(Method::Post, format!("{base}/hubspot"))
        .header("content-type", "application/json")
        .header("X-HubSpot-Request-Timestamp", timestamp.to_string())
        .header("X-HubSpot-Signature-v3", signature)
        .body(body.to_vec());
    client.send(&request).expect("serve answers").status
}

/// Waits (at most 30 s) for `done`.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_signed_webhook_resent_is_one_job_and_forged_or_stale_ones_are_refused() {
    let pair = Pair::new();
    pair.hub.company("9001", "Acme Corporation");
    won(
        &pair.hub,
        "18000000027",
        "Acme - ERP rollout phase 2",
        Some("48500.00"),
        "9001",
    );
    let served = serve(&pair);
    let client = Client::new(ClientOptions::default()).unwrap();
    let now = mapctl::ledger::now_ms();
    let body = json!([{"eventId": 3816279340u64, "subscriptionId": 2310598, "portalId": 62515, "appId": 1160452, "occurredAt": now,
        "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 18000000027u64, "propertyName": "dealstage",
        "propertyValue": "closedwon", "changeSource": "CRM_UI"}]).to_string().into_bytes();
    let uri = "https://hooks.example.test/hubspot";
    let good = sign(uri, &body, &now.to_string());
    assert_eq!(
        post(
            &client,
            &served.base,
            &body,
            now,
            "bm90IHRoZSBzaWduYXR1cmU="
        ),
        401
    );
    let stale = now - 6 * 60 * 1000;
    assert_eq!(
        post(
            &client,
            &served.base,
            &body,
            stale,
            &sign(uri, &body, &stale.to_string())
        ),
        401
    );
    assert_eq!(post(&client, &served.base, &body, now, &good), 200);
    assert_eq!(
        post(&client, &served.base, &body, now, &good),
        200,
        "HubSpot re-sends events"
    );
    // The fake sees the PATCH before the server records its answer in the ledger: wait for both.
    wait_until("the job and its sync back", || {
        pair.hub.patches().len() == 1
            && pair.status(Some("18000000027"))["sync_state"].as_str() == Some("done")
    });
    wait_until("the re-sent event to be read", || {
        pair.status(None)["inbox"] == 0
    });
    assert_eq!(
        pair.accelo.jobs_by_marker(),
        BTreeMap::from([("HS-18000000027".to_string(), 1)])
    );
    let status = pair.status(Some("18000000027"));
    assert_eq!(
        (status["state"].as_str(), status["sync_state"].as_str()),
        (Some("delivered"), Some("done"))
    );
    let calls = calls_of(&status);
    assert!(
        calls.get("hubspot read deal").is_some_and(|n| *n >= 1),
        "{calls:?}"
    );
    drop(served);
}
