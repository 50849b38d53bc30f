//! Zoho CRM -> `mapctl run` (the real binary) -> the firm's own project system through the
//! generic HTTP target, end to end against loopback fakes (tests/connector_fakes/zoho_fake.rs,
//! projects_fake.rs) and the shipped mappings/zoho_to_custom.map: the OAuth refresh at the
//! accounts server and API calls at the `api_domain` it names, a stage the search's `equals`
//! matches loosely (dropped), an account spelled differently (the existing client reused), an
//! ambiguous account (rejected), a deal won with an empty amount (rejected, listed by `status`,
//! delivered after the Zoho record is fixed and `retry` runs), the project status written back
//! in one update call, the API calls per deal reported, and kill -9 mid-run under faults and
//! 429s: one project per won deal, found again by deal id.

#[path = "runtime_support/mod.rs"]
mod support;

#[path = "connector_fakes/projects_fake.rs"]
mod projects_fake;
#[path = "connector_fakes/zoho_fake.rs"]
mod zoho_fake;

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use projects_fake::ProjectsFake;
use serde_json::{Value, json};
use support::loopback::{Fault, Faults};
use support::pair::calls_of;
use support::{mapctl, text};
use zoho_fake::ZohoFake;

const CLIENT_ID: &str = "1000.SELFCLIENT7QX2";
const CLIENT_SECRET: &str = "zoho-client-secret-5b9c1d";
const REFRESH: &str = "1000.refresh-token-8e7f6a5b";
const SYSTEM_TOKEN: &str = "projects-api-token-31d4";

fn mapping() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/mappings/zoho_to_custom.map").to_string()
}

fn clients() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mappings/samples/zoho/clients.json"
    )
    .to_string()
}

/// Both fakes and a ledger in a temporary folder.
struct Pair {
    zoho: ZohoFake,
    system: ProjectsFake,
    _dir: tempfile::TempDir,
    ledger: String,
}

impl Pair {
    fn new() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.db").display().to_string();
        let known = [
            ("cl_1042", "Acme Corporation"),
            ("cl_1057", "Globex"),
            ("cl_1063", "Globex, Inc."),
            ("cl_1071", "Initrode Limited"),
            ("cl_1088", "Stark Industries"),
        ];
        Pair {
            zoho: ZohoFake::start(CLIENT_ID, CLIENT_SECRET, REFRESH),
            system: ProjectsFake::start(SYSTEM_TOKEN, &known),
            _dir: dir,
            ledger,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = mapctl();
        command
            .args(args)
            .env("ZOHO_CLIENT_ID", CLIENT_ID)
            .env("ZOHO_CLIENT_SECRET", CLIENT_SECRET)
            .env("ZOHO_REFRESH_TOKEN", REFRESH)
            .env("MAPCTL_ZOHO_ACCOUNTS_URL", self.zoho.url())
            .env_remove("MAPCTL_ZOHO_URL")
            .env(
                "MAPCTL_TARGET_AUTHORIZATION",
                format!("Bearer {SYSTEM_TOKEN}"),
            );
        command
    }

    fn run_args(&self, timeout_ms: &str) -> Vec<String> {
        let (mapping, clients, url, lookup) = (
            mapping(),
            clients(),
            self.system.url(),
            self.system.lookup(),
        );
        [
            "run",
            &mapping,
            "--from",
            "zoho",
            "--to",
            &url,
            "--lookup-url",
            &lookup,
            "--clients",
            &clients,
            "--ledger",
            &self.ledger,
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
        let mapping = mapping();
        let mut args = vec![
            "status",
            &mapping,
            "--ledger",
            &self.ledger,
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

/// A won deal as the firm's Zoho holds it (never-transfer fields included), from
/// mappings/samples/zoho/deal_won.json.
fn won(id: &str, name: &str, account: &str, amount: Option<i64>) -> Value {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mappings/samples/zoho/deal_won.json"
    );
    let mut deal: Value = serde_json::from_slice(&std::fs::read(sample).unwrap()).unwrap();
    deal["id"] = json!(id);
    deal["Deal_Name"] = json!(name);
    deal["Account_Name"] =
        json!({"name": account, "id": format!("57257670003{}", &id[id.len() - 5..])});
    deal["Amount"] = json!(amount);
    deal
}

fn problems(status: &Value) -> BTreeMap<String, String> {
    status["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["deal_id"].as_str().unwrap().to_string(),
                p["reasons"][0]["code"]
                    .as_str()
                    .unwrap_or("(none)")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn polling_delivers_each_won_deal_once_and_writes_its_status_back() {
    let pair = Pair::new();
    let zoho = &pair.zoho;
    zoho.deal(won(
        "5725767000000524157",
        "ACME - ERP rollout  phase 2",
        "ACME Corp.",
        Some(48_500),
    ));
    zoho.deal(won(
        "5725767000000524160",
        "Stark - armour programme",
        "STARK INDUSTRIES, INC.",
        Some(250_000),
    ));
    zoho.deal(won(
        "5725767000000524170",
        "Initrode - discovery",
        "Initrode Ltd",
        None,
    ));
    zoho.deal(won(
        "5725767000000524180",
        "Globex - renewal",
        "Globex",
        Some(120_000),
    ));
    let mut partner = won(
        "5725767000000524190",
        "Partner deal",
        "ACME Corp.",
        Some(9_000),
    );
    partner["Stage"] = json!("Closed Won - Partner");
    zoho.deal(partner);
    let mut open = won(
        "5725767000000524195",
        "Open deal",
        "ACME Corp.",
        Some(5_000),
    );
    open["Stage"] = json!("Negotiation/Review");
    zoho.deal(open);

    let first = pair.run();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let expected: BTreeMap<String, usize> = ["5725767000000524157", "5725767000000524160"]
        .iter()
        .map(|d| (d.to_string(), 1))
        .collect();
    assert_eq!(pair.system.projects_by_deal(), expected);

    // Accounts spelled differently in Zoho are the system's existing clients.
    let projects = pair.system.projects();
    let by_deal = |deal: &str| {
        projects
            .iter()
            .find(|p| p["source"]["deal_id"] == deal)
            .unwrap_or_else(|| panic!("no project for {deal}"))
    };
    let acme = by_deal("5725767000000524157");
    assert_eq!(acme["client"]["existing_id"], "cl_1042");
    assert_eq!(
        by_deal("5725767000000524160")["client"]["existing_id"],
        "cl_1088"
    );
    assert_eq!(
        pair.system.state.lock().unwrap().clients.len(),
        5,
        "no client created"
    );
    assert_eq!(acme["template"], "fixed-large");
    assert_eq!(acme["budget"], json!({"amount": 48_500, "currency": "USD"}));
    let all = serde_json::to_string(&projects).unwrap();
    for secret in ["Senior 210/h", "NET 60", "finder's fee"] {
        assert!(!all.contains(secret), "{secret} reached the project system");
    }

    // The search: the trigger stage and the cursor, only the fields the mapping reads.
    let (criteria, fields) = {
        let state = zoho.state.lock().unwrap();
        (
            state.criteria[0].clone(),
            state.fields[0].clone().unwrap_or_default(),
        )
    };
    assert!(
        criteria.starts_with("((Stage:equals:Closed Won)and(Modified_Time:greater_equal:"),
        "{criteria}"
    );
    let fields: Vec<&str> = fields.split(',').collect();
    assert!(
        fields.contains(&"Amount") && fields.contains(&"Modified_Time"),
        "{fields:?}"
    );
    for protected in ["Internal_Rate_Card", "Billing_Preferences", "Lead_Source"] {
        assert!(
            !fields.contains(&protected),
            "{protected} asked for: {fields:?}"
        );
    }

    // Sync back: one update call for both deals, only Project_Status.
    let updates = zoho.state.lock().unwrap().updates.clone();
    assert_eq!(updates.len(), 1, "{updates:?}");
    let mut records = updates[0]["data"].as_array().unwrap().clone();
    records.sort_by_key(|r| r["id"].as_str().unwrap().to_string());
    assert_eq!(
        records,
        vec![
            json!({"id": "5725767000000524157", "Project_Status": "Planned"}),
            json!({"id": "5725767000000524160", "Project_Status": "Planned"}),
        ]
    );
    assert_eq!(
        zoho.field("5725767000000524157", "Project_Status"),
        "Planned"
    );

    // status: the empty amount and the ambiguous account listed; the loosely matched stage
    // never reached the ledger; every API call counted.
    let status = pair.status(None);
    let listed = problems(&status);
    assert_eq!(
        listed,
        BTreeMap::from([
            ("5725767000000524170".into(), "M504".into()),
            ("5725767000000524180".into(), "M508".into()),
        ])
    );
    assert_eq!(status["counts"]["delivered"], 2, "{status}");
    assert_eq!(status["sync"]["done"], 2);
    let requests = zoho.state.lock().unwrap().requests.len()
        + pair.system.state.lock().unwrap().requests.len();
    assert_eq!(
        status["api_calls"]["total"].as_u64(),
        Some(requests as u64),
        "{}",
        status["api_calls"]
    );
    eprintln!("measured: {}", status["api_calls"]);
    assert_eq!(
        calls_of(&pair.status(Some("5725767000000524157"))),
        BTreeMap::from([("target create project".to_string(), 1)])
    );

    // Zoho is fixed; `retry` queues the deal; the next run delivers it, and only it.
    zoho.edit("5725767000000524170", &json!({"Amount": 12_000}));
    let retry = mapctl()
        .args([
            "retry",
            &mapping(),
            "5725767000000524170",
            "--ledger",
            &pair.ledger,
        ])
        .output()
        .unwrap();
    assert_eq!(retry.status.code(), Some(0), "{}", text(&retry));
    let second = pair.run();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let deals = pair.system.projects_by_deal();
    assert_eq!(deals.len(), 3, "{deals:?}");
    assert!(deals.values().all(|n| *n == 1), "{deals:?}");
    assert_eq!(
        pair.status(Some("5725767000000524170"))["state"],
        "delivered"
    );
    assert_eq!(
        zoho.field("5725767000000524170", "Project_Status"),
        "Planned"
    );

    // A run with nothing new creates nothing and writes nothing back.
    let creates = pair.system.count("POST", "/api/projects");
    let updates = zoho.count("PUT", "/crm/v7/Deals");
    let third = pair.run();
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    assert_eq!(pair.system.count("POST", "/api/projects"), creates);
    assert_eq!(zoho.count("PUT", "/crm/v7/Deals"), updates);

    // No secret, and no access token, in any output or in the ledger.
    let stored: Vec<u8> = ["", "-wal"]
        .iter()
        .flat_map(|s| std::fs::read(format!("{}{s}", pair.ledger)).unwrap_or_default())
        .collect();
    for secret in [CLIENT_SECRET, REFRESH, SYSTEM_TOKEN, "1000.access"] {
        for output in [&first, &second, &third] {
            assert!(!text(output).contains(secret), "{secret} printed");
        }
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} stored in the ledger"
        );
    }
}

#[test]
fn a_failed_sync_back_is_reported_per_deal_and_written_on_a_later_run() {
    let pair = Pair::new();
    pair.zoho.deal(won(
        "5725767000000524157",
        "ACME - ERP",
        "ACME Corp.",
        Some(48_500),
    ));
    pair.zoho.state.lock().unwrap().undefined = vec!["Project_Status".into()];
    let first = pair.run();
    assert_eq!(
        first.status.code(),
        Some(1),
        "a failed sync back is a problem: {}",
        text(&first)
    );
    let status = pair.status(None);
    let error = status["sync_failures"][0]["sync_error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("INVALID_DATA") && error.contains("Project_Status"),
        "{status}"
    );
    pair.zoho.state.lock().unwrap().undefined.clear();
    std::thread::sleep(Duration::from_millis(50));
    let second = pair.run();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(
        pair.status(Some("5725767000000524157"))["sync_state"],
        "done"
    );
    assert_eq!(pair.system.projects().len(), 1);
}

#[test]
fn kill_9_mid_run_under_faults_and_429s_leaves_one_project_per_won_deal() {
    let pair = Pair::new();
    let accounts = ["ACME Corp.", "Stark Industries", "Initrode Limited"];
    let ids: Vec<String> = (0..10).map(|n| format!("57257670000009{n:05}")).collect();
    for (n, id) in ids.iter().enumerate() {
        pair.zoho.deal(won(
            id,
            &format!("Deal {n}"),
            accounts[n % 3],
            Some(1_000 + n as i64),
        ));
    }
    pair.system.state.lock().unwrap().faults = Faults::new(
        0.35,
        &[
            Fault::LostAfterCommit,
            Fault::SlowAfterCommit,
            Fault::ServerError,
            Fault::ResetBeforeWrite,
            Fault::TooMany,
        ],
        3,
    );
    pair.zoho.state.lock().unwrap().search_429_every = Some(2);
    let args = pair.run_args("300");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut kills = 0;
    for _ in 0..4 {
        let before = pair.system.count("POST", "/api/projects");
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
            if pair.system.count("POST", "/api/projects") >= before + 3
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
    let mut last = String::new();
    for _ in 0..20 {
        let output = pair.command(&args).output().unwrap();
        last = text(&output);
        if output.status.code() == Some(0) {
            break;
        }
    }
    let deals = pair.system.projects_by_deal();
    assert_eq!(deals.len(), ids.len(), "{deals:?}\n{last}");
    assert!(
        deals.values().all(|n| *n == 1),
        "a deal became two projects: {deals:?}"
    );
    assert!(kills > 0, "the run was never interrupted");
    assert!(pair.zoho.state.lock().unwrap().throttled > 0);
    assert!(
        pair.system
            .state
            .lock()
            .unwrap()
            .faults
            .injected
            .values()
            .sum::<u64>()
            > 0
    );
    let status = pair.status(None);
    assert_eq!(status["counts"]["delivered"], 10, "{status}");
    assert_eq!(status["sync"]["done"], 10, "{status}");
}

fn zoho_source(zoho: &ZohoFake, secret: &str) -> Result<mapctl::connect::zoho::ZohoSource, String> {
    use mapctl::connect::zoho::{Credentials, Hosts, ZohoOptions, ZohoSource};
    use mapctl::engine::{LoadOptions, Mapping};
    let mapping = Mapping::load(mapping().as_ref(), &LoadOptions::default()).unwrap();
    let hosts = Hosts {
        accounts: zoho.url(),
        api: None,
    };
    let credentials = Credentials {
        client_id: CLIENT_ID.into(),
        client_secret: secret.into(),
        refresh_token: REFRESH.into(),
    };
    let mut options = ZohoOptions::new(hosts, credentials, mapctl::deliver::needs::needs(&mapping));
    options.retry = support::pair::fast_retry();
    options.overlap = Duration::ZERO;
    options.per_page = 2;
    options.max_pages = 2;
    ZohoSource::new(options)
}

/// The Zoho source through the library: a window holding more than one search returns (two
/// pages of two here; 2,000 records at Zoho) is split by `Modified_Time:between` until each
/// half fits, every deal handed on once; an access token Zoho no longer accepts is renewed
/// once; the cursor is the newest `Modified_Time` read, in Unix ms.
#[test]
fn the_zoho_search_splits_full_windows_and_renews_a_refused_token() {
    use mapctl::connect::Source;
    use mapctl::io::input::Payload;
    use std::ops::ControlFlow;

    let zoho = ZohoFake::start(CLIENT_ID, CLIENT_SECRET, REFRESH);
    let ids: Vec<String> = (0..9).map(|n| format!("57257670000008{n:05}")).collect();
    for id in &ids {
        zoho.deal(won(id, "Deal", "ACME Corp.", Some(10)));
    }
    let mut source = zoho_source(&zoho, CLIENT_SECRET).unwrap();
    let mut seen = Vec::new();
    let cursor = source
        .changed(None, &mut |item| {
            let Ok(Payload::Parsed(bundle)) = item.item.value else {
                panic!("a bundle: {}", item.origin)
            };
            seen.push(bundle["deal"]["id"].as_str().unwrap().to_string());
            ControlFlow::Continue(())
        })
        .unwrap();
    seen.sort();
    assert_eq!(seen, ids);
    let criteria = zoho.state.lock().unwrap().criteria.clone();
    assert!(
        criteria
            .iter()
            .any(|c| c.contains("Modified_Time:between:")),
        "{criteria:?}"
    );
    let newest = zoho.field(&ids[8], "Modified_Time");
    let newest = chrono::DateTime::parse_from_rfc3339(newest.as_str().unwrap()).unwrap();
    assert_eq!(cursor, Some(newest.timestamp_millis().to_string()));

    zoho.expire_tokens();
    let fetched = source.fetch(&ids[3]).unwrap().expect("the deal");
    let bundle: Value = serde_json::from_slice(&fetched).unwrap();
    assert_eq!(bundle["deal"]["id"], ids[3].as_str());
    assert_eq!(zoho.state.lock().unwrap().issued, 2, "one renewal");
    assert!(source.fetch("5725767000000000000").unwrap().is_none());
}

/// Wrong OAuth credentials fail the first call with the accounts server's answer and the
/// variables to check, and never show a secret.
#[test]
fn refused_zoho_credentials_are_named_without_their_values() {
    use mapctl::connect::Source;
    let zoho = ZohoFake::start(CLIENT_ID, CLIENT_SECRET, REFRESH);
    let mut source = zoho_source(&zoho, "wrong-secret-value").unwrap();
    let error = source
        .changed(None, &mut |_| std::ops::ControlFlow::Continue(()))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("invalid_client") && error.contains("ZOHO_CLIENT_SECRET"),
        "{error}"
    );
    for secret in ["wrong-secret-value", REFRESH] {
        assert!(!error.contains(secret), "{error}");
    }
}
