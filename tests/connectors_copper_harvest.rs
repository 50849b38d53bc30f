//! Copper -> `mapctl run` (the real binary) -> Harvest, end to end against loopback fakes of both
//! vendors (tests/connector_fakes/copper_fake.rs, harvest_fake.rs) and the shipped
//! mappings/copper_to_harvest.map: a company spelled differently in the two systems (reused),
//! one new company named twice in Copper (created once), an opportunity won with an empty value
//! (rejected, listed by `status`, delivered after the Copper record is fixed and `retry` runs),
//! an ambiguous and an archived client (rejected for a person), the project status written back
//! to Copper's custom field, the API calls per deal counted and reported, and kill -9 mid-run
//! under faults and 429s with `Retry-After`: one project per won opportunity.

#[path = "runtime_support/mod.rs"]
mod support;

#[path = "connector_fakes/copper_fake.rs"]
mod copper_fake;
#[path = "connector_fakes/harvest_fake.rs"]
mod harvest_fake;

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use copper_fake::CopperFake;
use harvest_fake::HarvestFake;
use serde_json::{Value, json};
use support::loopback::{Fault, Faults};
use support::pair::calls_of;
use support::{mapctl, text};

const COPPER_TOKEN: &str = "cu-key-7d1e0f9a2b3c-test";
const COPPER_EMAIL: &str = "integration@ourfirm.example";
const HARVEST_TOKEN: &str = "2045137.pt.harvest-test-token-9f8e";
const HARVEST_ACCOUNT: &str = "1121398";
const CONTACT: &str = "ops@ourfirm.example";

fn mapping() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mappings/copper_to_harvest.map"
    )
    .to_string()
}

/// Both fakes and a ledger in a temporary folder.
struct Pair {
    copper: CopperFake,
    harvest: HarvestFake,
    _dir: tempfile::TempDir,
    ledger: String,
}

impl Pair {
    fn new() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.db").display().to_string();
        let clients = [
            (8_410_221, "Acme Corporation", true),
            (8_410_225, "Globex", true),
            (8_410_230, "Globex, Inc.", true),
            (8_410_238, "Initrode Ltd", true),
            (8_410_250, "Umbrella Corporation", false),
        ];
        Pair {
            copper: CopperFake::start(COPPER_TOKEN, COPPER_EMAIL),
            harvest: HarvestFake::start(HARVEST_TOKEN, HARVEST_ACCOUNT, &clients),
            _dir: dir,
            ledger,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = mapctl();
        command
            .args(args)
            .env("COPPER_TOKEN", COPPER_TOKEN)
            .env("COPPER_USER_EMAIL", COPPER_EMAIL)
            .env("MAPCTL_COPPER_URL", self.copper.url())
            .env("HARVEST_TOKEN", HARVEST_TOKEN)
            .env("HARVEST_ACCOUNT_ID", HARVEST_ACCOUNT)
            .env("HARVEST_CONTACT", CONTACT)
            .env("MAPCTL_HARVEST_URL", self.harvest.url());
        command
    }

    fn run_args(&self, timeout_ms: &str) -> Vec<String> {
        let mapping = mapping();
        [
            "run",
            &mapping,
            "--from",
            "copper",
            "--to",
            "harvest",
            "--create-clients",
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

/// A won opportunity as the firm's Copper holds it (never-transfer fields included), from
/// mappings/samples/copper/deal_won.json.
fn won(id: i64, name: &str, company: &str, value: Option<i64>) -> Value {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mappings/samples/copper/deal_won.json"
    );
    let mut opportunity: Value = serde_json::from_slice(&std::fs::read(sample).unwrap()).unwrap();
    opportunity["id"] = json!(id);
    opportunity["name"] = json!(name);
    opportunity["company_name"] = json!(company);
    opportunity["monetary_value"] = json!(value);
    opportunity
}

fn project_of<'a>(projects: &'a [Value], code: &str) -> &'a Value {
    projects
        .iter()
        .find(|p| p["code"] == code)
        .unwrap_or_else(|| panic!("no project {code}: {projects:?}"))
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

fn assert_no_secret(outputs: &[&Output], ledger: &str) {
    let stored: Vec<u8> = ["", "-wal"]
        .iter()
        .flat_map(|s| std::fs::read(format!("{ledger}{s}")).unwrap_or_default())
        .collect();
    for secret in [COPPER_TOKEN, HARVEST_TOKEN] {
        for output in outputs {
            let all = text(output);
            assert!(!all.contains(secret), "{secret} printed: {all}");
        }
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} stored in the ledger"
        );
    }
}

#[test]
fn polling_delivers_each_won_opportunity_once_and_writes_its_status_back() {
    let pair = Pair::new();
    let copper = &pair.copper;
    copper.opportunity(won(
        27_000_451,
        "Acme - ERP rollout  phase 2",
        "ACME Corp.",
        Some(48_500),
    ));
    copper.opportunity(won(
        27_000_460,
        "Stark - armour programme",
        "Stark Industries",
        Some(250_000),
    ));
    copper.opportunity(won(
        27_000_461,
        "Stark - reactor audit",
        "STARK INDUSTRIES, INC.",
        Some(32_000),
    ));
    copper.opportunity(won(
        27_000_470,
        "Initrode - discovery",
        "Initrode Ltd.",
        None,
    ));
    copper.opportunity(won(27_000_480, "Globex - renewal", "Globex", Some(120_000)));
    copper.opportunity(won(
        27_000_485,
        "Umbrella - audit",
        "Umbrella Corp",
        Some(9_000),
    ));
    let mut open = won(27_000_490, "Open opportunity", "ACME Corp.", Some(5_000));
    open["status"] = json!("Open");
    copper.opportunity(open);

    let first = pair.run();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let expected: BTreeMap<String, usize> = ["FIX-27000451", "FIX-27000460", "FIX-27000461"]
        .iter()
        .map(|c| (c.to_string(), 1))
        .collect();
    assert_eq!(pair.harvest.projects_by_code(), expected);

    // The company spelled differently in Copper is Harvest's existing client; the new company
    // named twice (differently) became one client, used by both opportunities.
    let projects = pair.harvest.projects();
    let acme = project_of(&projects, "FIX-27000451");
    assert_eq!(acme["client"]["id"], 8_410_221);
    let stark: Vec<String> = pair
        .harvest
        .client_names()
        .into_iter()
        .filter(|n| n.to_lowercase().contains("stark"))
        .collect();
    assert_eq!(stark.len(), 1, "{stark:?}");
    assert_eq!(
        project_of(&projects, "FIX-27000460")["client"]["id"],
        project_of(&projects, "FIX-27000461")["client"]["id"]
    );

    // The create request: the documented fields and enums, the deal id in `code`, nothing the
    // mapping protects.
    assert_eq!(
        (&acme["bill_by"], &acme["budget_by"], &acme["is_billable"]),
        (&json!("none"), &json!("project_cost"), &json!(true))
    );
    assert_eq!(
        (&acme["fee"], &acme["cost_budget"]),
        (&json!(48_500), &json!(48_500))
    );
    assert_eq!(acme["name"], "Acme - ERP rollout phase 2");
    let all = serde_json::to_string(&projects).unwrap();
    for secret in ["Senior 210/h", "NET 60", "discount-approved"] {
        assert!(!all.contains(secret), "{secret} reached Harvest");
    }
    let agents = pair.harvest.state.lock().unwrap().agents.clone();
    assert!(
        agents
            .iter()
            .all(|a| a.starts_with("mapctl/") && a.contains(CONTACT)),
        "{agents:?}"
    );

    // The search asked for won opportunities, oldest change first, 200 a page.
    let search = pair.copper.state.lock().unwrap().searches[0].clone();
    assert_eq!(
        (
            &search["status_ids"],
            &search["sort_by"],
            &search["page_size"]
        ),
        (&json!([1]), &json!("date_modified"), &json!(200))
    );

    // Sync back: only custom field 6001, with the project's state as the mapping labels it.
    let updates = pair.copper.state.lock().unwrap().updates.clone();
    assert_eq!(updates.len(), 3, "{updates:?}");
    for (_, body) in &updates {
        assert_eq!(
            body,
            &json!({"custom_fields": [{"custom_field_definition_id": 6001, "value": "Active"}]})
        );
    }
    assert_eq!(copper.custom_field(27_000_451, 6001), "Active");
    assert_eq!(
        copper.custom_field(27_000_451, 5005),
        "PO-4471",
        "other custom fields kept"
    );

    // status: the empty value, the ambiguous and the archived client listed with their codes;
    // every API call counted, per delivered deal.
    let status = pair.status(None);
    let listed = problems(&status);
    assert_eq!(
        listed.get("27000470").map(String::as_str),
        Some("M504"),
        "{listed:?}"
    );
    assert_eq!(
        listed.get("27000480").map(String::as_str),
        Some("M508"),
        "{listed:?}"
    );
    let archived = pair.status(Some("27000485"));
    assert!(
        archived
            .to_string()
            .contains("is archived: reactivate it in Harvest"),
        "{archived}"
    );
    assert!(!listed.contains_key("27000490"), "{listed:?}");
    assert_eq!(status["sync"]["done"], 3);
    let requests = pair.copper.state.lock().unwrap().requests.len()
        + pair.harvest.state.lock().unwrap().requests.len();
    assert_eq!(
        status["api_calls"]["total"].as_u64(),
        Some(requests as u64),
        "{}",
        status["api_calls"]
    );
    eprintln!("measured: {}", status["api_calls"]);
    let own = |deal: &str| calls_of(&pair.status(Some(deal)));
    let two = BTreeMap::from([
        ("copper sync back".to_string(), 1),
        ("harvest create project".to_string(), 1),
    ]);
    assert_eq!(own("27000451"), two);
    let mut with_client = two.clone();
    with_client.insert("harvest create client".into(), 1);
    let (a, b) = (own("27000460"), own("27000461"));
    assert!(
        (a == with_client && b == two) || (a == two && b == with_client),
        "{a:?} {b:?}"
    );

    // Copper is fixed; `retry` queues the opportunity; the next run delivers it, and only it.
    pair.copper
        .edit(27_000_470, &json!({"monetary_value": 12_000}));
    let retry = mapctl()
        .args(["retry", &mapping(), "27000470", "--ledger", &pair.ledger])
        .output()
        .unwrap();
    assert_eq!(retry.status.code(), Some(0), "{}", text(&retry));
    let second = pair.run();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let codes = pair.harvest.projects_by_code();
    assert_eq!(codes.len(), 4, "{codes:?}");
    assert!(codes.values().all(|n| *n == 1), "{codes:?}");
    assert_eq!(codes.get("FIX-27000470"), Some(&1));
    assert_eq!(pair.status(Some("27000470"))["state"], "delivered");
    assert_eq!(copper.custom_field(27_000_470, 6001), "Active");

    // A run with nothing new creates nothing and writes nothing back.
    let creates = pair.harvest.count("POST", "/v2/projects");
    let updates = pair.copper.count("PUT", "/developer_api/v1/opportunities/");
    let third = pair.run();
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    assert_eq!(pair.harvest.count("POST", "/v2/projects"), creates);
    assert_eq!(
        pair.copper.count("PUT", "/developer_api/v1/opportunities/"),
        updates
    );
    assert_no_secret(&[&first, &second, &third], &pair.ledger);
}

#[test]
fn kill_9_mid_run_under_faults_and_429s_leaves_one_project_per_won_opportunity() {
    let pair = Pair::new();
    let companies = ["ACME Corp.", "Wayne Enterprises", "Wayne Enterprises, Inc."];
    let ids: Vec<i64> = (0..10).map(|n| 27_100_000 + n).collect();
    for (n, id) in ids.iter().enumerate() {
        let name = format!("Deal {n}");
        pair.copper
            .opportunity(won(*id, &name, companies[n % 3], Some(1_000 + n as i64)));
    }
    {
        let mut harvest = pair.harvest.state.lock().unwrap();
        harvest.faults = Faults::new(
            0.35,
            &[
                Fault::LostAfterCommit,
                Fault::SlowAfterCommit,
                Fault::ServerError,
                Fault::ResetBeforeWrite,
                Fault::TooMany,
            ],
            5,
        );
        harvest.budget = (20, Duration::from_secs(1));
        let mut copper = pair.copper.state.lock().unwrap();
        copper.search_429_every = Some(3);
        copper.retry_after = Some(1);
        copper.faults = Faults::new(0.1, &[Fault::ServerError, Fault::ResetBeforeWrite], 9);
    }
    let args = pair.run_args("300");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut kills = 0;
    for _ in 0..4 {
        let before = pair.harvest.count("POST", "/v2/projects");
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
            if pair.harvest.count("POST", "/v2/projects") >= before + 3
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
    let codes = pair.harvest.projects_by_code();
    assert_eq!(codes.len(), ids.len(), "{codes:?}\n{last}");
    assert!(
        codes.values().all(|n| *n == 1),
        "an opportunity became two projects: {codes:?}"
    );
    let wayne = pair
        .harvest
        .client_names()
        .iter()
        .filter(|n| n.to_lowercase().contains("wayne"))
        .count();
    assert_eq!(wayne, 1, "{:?}", pair.harvest.client_names());
    assert!(kills > 0, "the run was never interrupted");
    let (faults, throttled) = {
        let harvest = pair.harvest.state.lock().unwrap();
        (
            harvest.faults.injected.values().sum::<u64>(),
            harvest.throttled,
        )
    };
    assert!(
        faults > 0 && throttled > 0,
        "faults {faults}, 429s {throttled}"
    );
    assert!(pair.copper.state.lock().unwrap().throttled > 0);
    let status = pair.status(None);
    assert_eq!(status["counts"]["delivered"], 10, "{status}");
    assert_eq!(status["sync"]["done"], 10, "{status}");
}

/// The Copper source through the library: paged by `page_number` until a short page, oldest
/// change first, and a 429 without `Retry-After` (Copper documents none) waited out for the
/// configured pause before the same page is asked again; the cursor is the newest change.
#[test]
fn the_copper_search_pages_and_waits_out_a_429_without_retry_after() {
    use mapctl::connect::Source;
    use mapctl::connect::copper::{CopperOptions, CopperSource, Credentials};
    use mapctl::engine::{LoadOptions, Mapping};
    use mapctl::io::input::Payload;
    use std::ops::ControlFlow;

    let copper = CopperFake::start(COPPER_TOKEN, COPPER_EMAIL);
    for n in 0..5 {
        copper.opportunity(won(
            27_200_000 + n,
            &format!("Deal {n}"),
            "ACME Corp.",
            Some(10),
        ));
    }
    copper.state.lock().unwrap().throttle_next = 2;
    let mapping = Mapping::load(mapping().as_ref(), &LoadOptions::default()).unwrap();
    let credentials = Credentials {
        token: COPPER_TOKEN.into(),
        email: COPPER_EMAIL.into(),
    };
    let mut options = CopperOptions::new(
        &copper.url(),
        credentials,
        mapctl::deliver::needs::needs(&mapping),
    );
    options.page_size = 2;
    options.retry = support::pair::fast_retry();
    options.limits.throttle_wait = Duration::from_millis(20);
    let mut source = CopperSource::new(options).unwrap();
    let mut seen = Vec::new();
    let cursor = source
        .changed(None, &mut |item| {
            let Ok(Payload::Parsed(bundle)) = item.item.value else {
                panic!("a bundle: {}", item.origin)
            };
            seen.push(bundle["deal"]["id"].as_i64().unwrap());
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen, (0..5).map(|n| 27_200_000 + n).collect::<Vec<_>>());
    let state = copper.state.lock().unwrap();
    let pages: Vec<u64> = state
        .searches
        .iter()
        .filter_map(|s| s["page_number"].as_u64())
        .collect();
    assert_eq!(pages, [1, 2, 3], "{:?}", state.searches);
    assert_eq!(state.throttled, 2);
    assert_eq!(
        cursor,
        state.opportunities[4]["date_modified"]
            .as_i64()
            .map(|t| t.to_string())
    );
}

/// The Harvest target through the library: the client list followed page by page along
/// `links.next` (absolute URLs, only their path taken), so a client on the last page is
/// matched and never created again.
#[test]
fn harvest_clients_are_read_along_links_next() {
    use mapctl::connect::Target;
    use mapctl::connect::harvest::{Credentials, HarvestOptions, HarvestTarget, Limits};

    let clients: Vec<(u64, String, bool)> = (0..5)
        .map(|n| (8_500_000 + n, format!("Client {n}"), true))
        .collect();
    let borrowed: Vec<(u64, &str, bool)> = clients
        .iter()
        .map(|(i, n, a)| (*i, n.as_str(), *a))
        .collect();
    let harvest = HarvestFake::start(HARVEST_TOKEN, HARVEST_ACCOUNT, &borrowed);
    harvest.state.lock().unwrap().page_cap = 2;
    let target = HarvestTarget::new(HarvestOptions {
        base: harvest.url(),
        credentials: Credentials {
            token: HARVEST_TOKEN.into(),
            account_id: HARVEST_ACCOUNT.into(),
            contact: CONTACT.into(),
        },
        create_clients: true,
        client_key: mapctl::engine::client_key,
        client: mapctl::net::ClientOptions::default(),
        meter: mapctl::connect::meter::Meter::new(),
        retry: support::pair::fast_retry(),
        limits: Limits::default(),
    })
    .unwrap();
    let listed = target.clients().unwrap().unwrap();
    let names: Vec<&str> = listed.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(harvest.count("GET", "/v2/clients"), 3);
    let record =
        json!({"name": "Kick-off", "is_billable": true, "bill_by": "none", "budget_by": "none"});
    let record = record.to_string();
    let delivery = mapctl::connect::Delivery {
        deal_id: "27300001",
        idempotency_key: "k1",
        record: record.as_bytes(),
        client: Some(r#"{"match":"new","name":"CLIENT 0, Inc."}"#),
    };
    let created = target.create(&delivery).unwrap();
    assert_eq!(created.client_id.as_deref(), Some("8500000"));
    assert_eq!(harvest.count("POST", "/v2/clients"), 0);
    assert_eq!(harvest.projects_by_code().get("27300001"), Some(&1));
    assert_eq!(
        target.find(&delivery).unwrap(),
        [created.project_id.unwrap()]
    );
}
