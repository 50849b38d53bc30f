//! HubSpot -> `mapctl run` / `mapctl serve` (the real binary) -> Accelo, end to end against the
//! loopback fakes of both vendors (tests/runtime_support/hubspot_fake.rs, accelo_fake.rs): a
//! company spelled differently in the two systems (reused), one new company named twice in
//! HubSpot (created once), a deal won with an empty amount (rejected, listed by `status`,
//! delivered after the CRM is fixed and `retry` runs), an ambiguous company (rejected), the
//! status written back to HubSpot, the API calls per deal counted and reported, webhooks
//! (signed, re-sent, forged, stale), kill -9 mid-run under faults and rate limits; and, through
//! the library, the search cap, paging and 429s, and names resolved from Accelo's reference data.

#[path = "runtime_support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use mapctl::connect::accelo::{AcceloOptions, AcceloTarget, Credentials};
use mapctl::connect::encode::base64;
use mapctl::connect::hubspot::{HubSpotOptions, HubSpotSource};
use mapctl::connect::meter::Meter;
use mapctl::connect::vendor::ReadRetry;
use mapctl::connect::{Delivery, Source, Target, TargetError};
use mapctl::engine::{LoadOptions, Mapping};
use mapctl::io::input::Payload;
use mapctl::net::{Client, ClientOptions, Method, Request};
use serde_json::{Value, json};
use support::accelo_fake::AcceloFake;
use support::hubspot_fake::HubSpotFake;
use support::loopback::{Fault, Faults};
use support::{mapctl, text};

const TOKEN: &str = "pat-na1-4f7e1d2c-test-token";
const ACCELO_ID: &str = "svc-4411-client-id";
const ACCELO_SECRET: &str = "svc-secret-9f8e7d6c";
const HUBSPOT_SECRET: &str = "hubspot-app-client-secret-55";

fn mapping() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mappings/hubspot_to_accelo.map"
    )
    .to_string()
}

/// Both fakes and a ledger in a temporary folder.
struct Pair {
    hub: HubSpotFake,
    accelo: AcceloFake,
    _dir: tempfile::TempDir,
    ledger: PathBuf,
}

impl Pair {
    fn new() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.db");
        Pair {
            hub: HubSpotFake::start(TOKEN),
            accelo: AcceloFake::start(ACCELO_ID, ACCELO_SECRET),
            _dir: dir,
            ledger,
        }
    }

    /// `mapctl ARGS` with both vendors' settings in the environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = mapctl();
        command
            .args(args)
            .env("HUBSPOT_TOKEN", TOKEN)
            .env("MAPCTL_HUBSPOT_URL", self.hub.url())
            .env("ACCELO_CLIENT_ID", ACCELO_ID)
            .env("ACCELO_CLIENT_SECRET", ACCELO_SECRET)
            .env("ACCELO_DEPLOYMENT", "ourfirm")
            .env("MAPCTL_ACCELO_URL", self.accelo.url());
        command
    }

    fn run_args(&self, timeout_ms: &str) -> Vec<String> {
        let ledger = self.ledger.display().to_string();
        [
            "run",
            &mapping(),
            "--from",
            "hubspot",
            "--to",
            "accelo",
            "--create-clients",
            "--ledger",
            &ledger,
            "--backoff-ms",
            "5",
            "--max-backoff-ms",
            "40",
            "--timeout-ms",
            timeout_ms,
            "--max-attempts",
            "60",
            "--quiet",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn run(&self) -> Output {
        let args = self.run_args("3000");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.command(&args).output().expect("mapctl runs")
    }

    fn status(&self, deal: Option<&str>) -> Value {
        let ledger = self.ledger.display().to_string();
        let mut args = vec![
            "status",
            mapping_ref(),
            "--ledger",
            &ledger,
            "--format",
            "json",
        ];
        if let Some(deal) = deal {
            args.extend(["--deal", deal]);
        }
        let output = mapctl().args(&args).output().expect("status runs");
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("status is not JSON ({e}): {}", text(&output)))
    }
}

fn mapping_ref() -> &'static str {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mappings/hubspot_to_accelo.map"
    )
}

/// A won deal as the firm's HubSpot holds it (never-transfer properties included).
fn won(hub: &HubSpotFake, id: &str, name: &str, amount: Option<&str>, company: &str) {
    hub.deal(
        id,
        &[
            ("dealname", Some(name)),
            ("amount", amount),
            ("closedate", Some("2025-03-14T09:30:00.000Z")),
            ("dealstage", Some("closedwon")),
            ("pipeline", Some("default")),
            ("dealtype", Some("newbusiness")),
            ("hubspot_owner_id", Some("51234567")),
            ("contract_type", Some("fixed_fee")),
            ("service_line", Some("implementation")),
            ("description", Some("Phase 2 covers finance.")),
            (
                "billing_preferences",
                Some("Invoice monthly in arrears, PO 4471 required"),
            ),
            (
                "internal_rate_card",
                Some("Senior 210/h, Junior 120/h (discount 12%)"),
            ),
        ],
        &[(company, true)],
    );
}

fn form<'a>(job: &'a support::accelo_fake::Job, field: &str) -> Option<&'a str> {
    job.form.get(field).map(String::as_str)
}

fn job_of<'a>(jobs: &'a [support::accelo_fake::Job], deal: &str) -> &'a support::accelo_fake::Job {
    jobs.iter()
        .find(|j| form(j, "title").is_some_and(|t| t.ends_with(&format!("[HS-{deal}]"))))
        .unwrap_or_else(|| panic!("no job for deal {deal}"))
}

fn calls_of(status: &Value) -> BTreeMap<String, u64> {
    status["api_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                format!(
                    "{} {}",
                    c["vendor"].as_str().unwrap(),
                    c["purpose"].as_str().unwrap()
                ),
                c["calls"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn stark_companies(accelo: &AcceloFake) -> usize {
    accelo
        .companies()
        .iter()
        .filter(|(_, n)| n.to_lowercase().contains("stark"))
        .count()
}

#[test]
fn polling_delivers_each_won_deal_once_and_writes_its_status_back() {
    let pair = Pair::new();
    let hub = &pair.hub;
    hub.company("9001", "ACME corp.");
    hub.company("9010", "Stark Industries");
    hub.company("9011", "STARK INDUSTRIES, INC.");
    hub.company("9002", "GLOBEX");
    won(
        hub,
        "18000000027",
        "  Acme - ERP rollout   phase 2 ",
        Some("48500.00"),
        "9001",
    );
    won(
        hub,
        "18000000050",
        "Stark - armour programme",
        Some("250000.00"),
        "9010",
    );
    won(
        hub,
        "18000000051",
        "Stark - reactor audit",
        Some("32000.00"),
        "9011",
    );
    won(hub, "18000000044", "Initrode - discovery", None, "9001");
    won(
        hub,
        "18000000031",
        "Globex - renewal",
        Some("120000.00"),
        "9002",
    );
    hub.deal(
        "18000000060",
        &[
            ("dealname", Some("Open deal")),
            ("dealstage", Some("contractsent")),
        ],
        &[("9001", true)],
    );

    let first = pair.run();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let jobs = pair.accelo.jobs();
    let expected: BTreeMap<String, usize> = ["HS-18000000027", "HS-18000000050", "HS-18000000051"]
        .iter()
        .map(|m| (m.to_string(), 1))
        .collect();
    assert_eq!(pair.accelo.jobs_by_marker(), expected);

    // The company spelled differently in HubSpot is Accelo's existing one; the new company
    // named twice (differently) became one client, used by both deals.
    let acme = job_of(&jobs, "18000000027");
    assert_eq!(form(acme, "against_id"), Some("101"));
    assert_eq!(
        stark_companies(&pair.accelo),
        1,
        "{:?}",
        pair.accelo.companies()
    );
    let (stark_a, stark_b) = (job_of(&jobs, "18000000050"), job_of(&jobs, "18000000051"));
    assert_eq!(form(stark_a, "against_id"), form(stark_b, "against_id"));

    // The write-side fields, form-encoded; the standing resolved to a status id; firm
    // extensions not sent.
    assert_eq!(
        form(acme, "title"),
        Some("Acme - ERP rollout phase 2 [HS-18000000027]")
    );
    assert_eq!(
        (
            form(acme, "against_type"),
            form(acme, "type_id"),
            form(acme, "manager_id")
        ),
        (Some("company"), Some("4"), Some("12"))
    );
    assert_eq!(form(acme, "status_id"), Some("1"));
    assert_eq!(form(acme, "date_started"), Some("1741910400"));
    for field in [
        "budget",
        "standing",
        "job_type_name",
        "crm_deal_id",
        "description",
    ] {
        assert_eq!(
            form(acme, field),
            None,
            "{field} is not an Accelo create field"
        );
    }
    let values = pair.accelo.state.lock().unwrap().profile_values.clone();
    assert!(
        values.contains(&(acme.id.clone(), "27".into(), "HS-18000000027".into())),
        "{values:?}"
    );

    // Sync back: only the `sync back` properties, with the job's standing and id.
    let patches: BTreeMap<String, Value> = hub.patches().into_iter().collect();
    assert_eq!(patches.len(), 3, "{patches:?}");
    assert_eq!(
        patches["18000000027"],
        json!({"properties": {"project_status": "pending", "psa_project_id": acme.id}})
    );

    // Only what the mapping reads was asked of HubSpot: never-transfer data is not fetched.
    let searches = hub.state.lock().unwrap().searches.clone();
    let asked: Vec<&str> = searches[0]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        asked.contains(&"amount") && asked.contains(&"hs_lastmodifieddate"),
        "{asked:?}"
    );
    assert!(
        !asked.contains(&"billing_preferences") && !asked.contains(&"internal_rate_card"),
        "{asked:?}"
    );
    assert_eq!(
        searches[0]["filterGroups"][0]["filters"][0],
        json!({"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"})
    );

    // status: the empty amount and the ambiguous company listed with their codes; sync done;
    // every API call counted, per delivered deal.
    let status = pair.status(None);
    let problems: BTreeMap<String, String> = status["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["deal_id"].as_str().unwrap().to_string(),
                p["reasons"][0]["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        BTreeMap::from([
            ("18000000044".into(), "M504".into()),
            ("18000000031".into(), "M508".into())
        ])
    );
    assert_eq!(status["sync"]["done"], 3);
    let requests =
        hub.state.lock().unwrap().requests.len() + pair.accelo.state.lock().unwrap().requests.len();
    assert_eq!(
        status["api_calls"]["total"].as_u64(),
        Some(requests as u64),
        "{}",
        status["api_calls"]
    );
    assert_eq!(
        status["api_calls"]["own_per_delivered_deal"],
        json!(3.33),
        "{}",
        status["api_calls"]
    );
    let own = |deal: &str| calls_of(&pair.status(Some(deal)));
    let three = BTreeMap::from([
        ("accelo create job".to_string(), 1),
        ("accelo write deal id".to_string(), 1),
        ("hubspot sync back".to_string(), 1),
    ]);
    assert_eq!(own("18000000027"), three);
    // One of the two deals naming the new company created it (workers run side by side).
    let mut with_company = three.clone();
    with_company.insert("accelo create company".into(), 1);
    let (a, b) = (own("18000000050"), own("18000000051"));
    assert!(
        (a == with_company && b == three) || (a == three && b == with_company),
        "{a:?} {b:?}"
    );
    let shared: BTreeMap<String, u64> = status["api_calls"]["by_purpose"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["shared"].as_u64() > Some(0))
        .map(|p| {
            (
                format!(
                    "{} {}",
                    p["vendor"].as_str().unwrap(),
                    p["purpose"].as_str().unwrap()
                ),
                p["shared"].as_u64().unwrap(),
            )
        })
        .collect();
    eprintln!("measured: {}", status["api_calls"]);
    let human = mapctl()
        .args([
            "status",
            &mapping(),
            "--ledger",
            &pair.ledger.display().to_string(),
        ])
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&human.stdout));
    let one = |names: &[&str]| {
        names
            .iter()
            .map(|n| (n.to_string(), 1u64))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        shared,
        one(&[
            "hubspot search",
            "hubspot read associations",
            "hubspot read companies",
            "accelo token",
            "accelo list companies",
            "accelo read job statuses",
            "accelo read profile fields"
        ])
    );

    // The CRM is fixed; `retry` queues the deal; the next run delivers it, and only it.
    hub.edit("18000000044", &[("amount", Some("12000.00"))]);
    let ledger = pair.ledger.display().to_string();
    let retry = mapctl()
        .args(["retry", &mapping(), "18000000044", "--ledger", &ledger])
        .output()
        .unwrap();
    assert_eq!(retry.status.code(), Some(0), "{}", text(&retry));
    let second = pair.run();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let markers = pair.accelo.jobs_by_marker();
    assert_eq!(markers.len(), 4, "{markers:?}");
    assert!(markers.values().all(|n| *n == 1), "{markers:?}");
    assert_eq!(hub.patches().len(), 4);
    assert_eq!(pair.status(Some("18000000044"))["state"], "delivered");

    // A run with nothing new creates nothing and writes nothing back.
    let creates = pair.accelo.count("POST", "/api/v0/jobs");
    let third = pair.run();
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    assert_eq!(pair.accelo.count("POST", "/api/v0/jobs"), creates);
    assert_eq!(hub.patches().len(), 4);

    // No secret in any output or in the ledger.
    let ledger_bytes: Vec<u8> = ["", "-wal"]
        .iter()
        .flat_map(|s| std::fs::read(format!("{ledger}{s}")).unwrap_or_default())
        .collect();
    for output in [&first, &second, &third] {
        let all = text(output);
        for secret in [TOKEN, ACCELO_SECRET, "tok1"] {
            assert!(!all.contains(secret), "{secret} printed: {all}");
        }
    }
    for secret in [TOKEN, ACCELO_SECRET, ACCELO_ID] {
        assert!(
            !ledger_bytes
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} stored in the ledger"
        );
    }
}

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
    wait_until("the job and its sync back", || {
        pair.hub.patches().len() == 1
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

#[test]
fn kill_9_mid_run_under_faults_and_rate_limits_leaves_one_job_per_won_deal() {
    let pair = Pair::new();
    pair.hub.company("9001", "ACME corp.");
    pair.hub.company("9020", "Wayne Enterprises");
    pair.hub.company("9021", "Wayne Enterprises, Inc.");
    let ids: Vec<String> = (0..12).map(|n| format!("1900000{n:04}")).collect();
    for (n, id) in ids.iter().enumerate() {
        let company = ["9001", "9020", "9021"][n % 3];
        won(
            &pair.hub,
            id,
            &format!("Deal {n}"),
            Some("1000.00"),
            company,
        );
    }
    {
        let mut accelo = pair.accelo.state.lock().unwrap();
        accelo.faults = Faults::new(
            0.35,
            &[
                Fault::LostAfterCommit,
                Fault::SlowAfterCommit,
                Fault::ServerError,
                Fault::ResetBeforeWrite,
                Fault::TooMany,
            ],
            7,
        );
        accelo.budget = (25, Duration::from_secs(1));
        let mut hub = pair.hub.state.lock().unwrap();
        hub.faults = Faults::new(
            0.1,
            &[Fault::TooMany, Fault::ServerError, Fault::ResetBeforeWrite],
            11,
        );
        hub.search_429_every = Some(3);
    }
    let args = pair.run_args("300");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut kills = 0;
    for _ in 0..6 {
        let before = pair.accelo.count("POST", "/api/v0/jobs");
        let mut child = pair
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if pair.accelo.count("POST", "/api/v0/jobs") >= before + 3
                || started.elapsed() > Duration::from_secs(30)
            {
                let _ = child.kill();
                let _ = child.wait();
                kills += 1;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let mut last = None;
    for _ in 0..20 {
        let output = pair.command(&args).output().unwrap();
        let code = output.status.code();
        last = Some(text(&output));
        if code == Some(0) {
            break;
        }
    }
    let markers = pair.accelo.jobs_by_marker();
    assert_eq!(
        markers.len(),
        ids.len(),
        "{markers:?}\n{}",
        last.unwrap_or_default()
    );
    assert!(
        markers.values().all(|n| *n == 1),
        "a deal became two jobs: {markers:?}"
    );
    let wayne = pair
        .accelo
        .companies()
        .iter()
        .filter(|(_, n)| n.to_lowercase().contains("wayne"))
        .count();
    assert_eq!(wayne, 1, "{:?}", pair.accelo.companies());
    assert!(kills > 0, "the run was never interrupted");
    let (faults, throttled) = {
        let accelo = pair.accelo.state.lock().unwrap();
        (
            accelo.faults.injected.values().sum::<u64>(),
            accelo.throttled,
        )
    };
    assert!(
        faults > 0 && throttled > 0,
        "faults {faults}, 429s {throttled}"
    );
    let status = pair.status(None);
    assert_eq!(status["counts"]["delivered"], 12, "{status}");
    assert_eq!(status["sync"]["done"], 12, "{status}");
}

fn fast_retry() -> ReadRetry {
    ReadRetry {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(50),
        ..ReadRetry::default()
    }
}

#[test]
fn the_search_moves_its_cursor_at_the_cap_and_waits_out_429s() {
    let hub = HubSpotFake::start(TOKEN);
    hub.company("9001", "Acme Corporation");
    for n in 0..12 {
        won(
            &hub,
            &format!("1800{n:07}"),
            &format!("Deal {n}"),
            Some("10.00"),
            "9001",
        );
    }
    {
        let mut state = hub.state.lock().unwrap();
        state.cap = 5;
        state.search_429_every = Some(4);
    }
    let mapping = Mapping::load(Path::new(&mapping()), &LoadOptions::default()).unwrap();
    let mut options = HubSpotOptions::new(
        &hub.url(),
        TOKEN.into(),
        mapctl::deliver::needs::needs(&mapping),
    );
    (
        options.page_size,
        options.search_cap,
        options.retry,
        options.overlap,
    ) = (2, 5, fast_retry(), Duration::ZERO);
    let mut source = HubSpotSource::new(options).unwrap();
    let mut seen = BTreeSet::new();
    let cursor = source
        .changed(None, &mut |item| {
            let Ok(Payload::Parsed(bundle)) = item.item.value else {
                panic!("a bundle: {}", item.origin)
            };
            assert_eq!(bundle["company"]["properties"]["name"], "Acme Corporation");
            assert_eq!(
                bundle["deal"]["associations"]["companies"]["results"][0]["id"],
                "9001"
            );
            seen.insert(bundle["deal"]["id"].as_str().unwrap().to_string());
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen.len(), 12, "{seen:?}");
    let afters: Vec<usize> = hub
        .state
        .lock()
        .unwrap()
        .searches
        .iter()
        .filter_map(|s| s["after"].as_str())
        .map(|a| a.parse().unwrap())
        .collect();
    assert!(
        afters.iter().all(|a| *a < 5),
        "paged past the cap: {afters:?}"
    );
    assert!(
        hub.state
            .lock()
            .unwrap()
            .searches
            .iter()
            .any(Value::is_null),
        "a 429 was answered"
    );
    // From the saved cursor, only the deal at that instant is read again.
    let mut again = 0;
    source
        .changed(cursor.as_deref(), &mut |_| {
            again += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(again, 1);
}

fn delivery<'a>(deal: &'a str, record: &'a [u8]) -> Delivery<'a> {
    Delivery {
        deal_id: deal,
        idempotency_key: "mapctl-key",
        record,
        client: None,
    }
}

#[test]
fn names_resolve_to_accelo_ids_and_an_unknown_name_refuses_the_deal() {
    let accelo = AcceloFake::start(ACCELO_ID, ACCELO_SECRET);
    let target = AcceloTarget::new(AcceloOptions {
        base: accelo.url(),
        credentials: Credentials {
            id: ACCELO_ID.into(),
            secret: ACCELO_SECRET.into(),
        },
        create_clients: false,
        client_key: mapctl::engine::client_key,
        client: ClientOptions::default(),
        meter: Meter::new(),
        retry: fast_retry(),
    })
    .unwrap();
    let record = json!({"title": "Acme training", "against_type": "company", "against_id": 101, "type_title": "training",
        "manager_email": "MEI.LIN@ourfirm.example", "standing": "pending", "crm_deal_id": "HS-77"}).to_string().into_bytes();
    let created = target.create(&delivery("77", &record)).unwrap();
    let job = accelo.jobs().pop().unwrap();
    assert_eq!(created.project_id.as_deref(), Some(job.id.as_str()));
    assert_eq!(
        (
            form(&job, "type_id"),
            form(&job, "manager_id"),
            form(&job, "status_id")
        ),
        (Some("9"), Some("21"), Some("1"))
    );
    assert_eq!(form(&job, "title"), Some("Acme training [HS-77]"));
    assert_eq!(
        target.find(&delivery("77", &record)).unwrap(),
        vec![job.id.clone()]
    );
    assert_eq!(
        target.project(&job.id).unwrap().unwrap()["standing"],
        "pending"
    );
    assert_eq!(target.project("999999").unwrap(), None);
    let unknown = json!({"title": "T", "against_type": "company", "against_id": 101, "type_title": "Underwater basket weaving", "manager_id": 12}).to_string().into_bytes();
    match target.create(&delivery("78", &unknown)) {
        Err(TargetError::Rejected { message, .. }) => assert!(
            message.contains("no active Accelo job type") && message.contains("Implementation"),
            "{message}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        accelo.jobs().len(),
        1,
        "nothing was created for the refused deal"
    );
}
