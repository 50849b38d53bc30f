//! HubSpot -> `mapctl run` (the real binary) -> Accelo, end to end against the loopback fakes of
//! both vendors (tests/runtime_support/hubspot_fake.rs, accelo_fake.rs): a company spelled
//! differently in the two systems (reused), one new company named twice in HubSpot (created
//! once), a deal won with an empty amount (rejected, listed by `status`, delivered after the CRM
//! is fixed and `retry` runs), an ambiguous company (rejected), the status written back to
//! HubSpot, the API calls per deal counted and reported, a failed sync back retried, and kill -9
//! mid-run under faults and rate limits: one job per won deal.

#[path = "runtime_support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::loopback::{Fault, Faults};
use support::pair::{
    ACCELO_ID, ACCELO_SECRET, Pair, TOKEN, calls_of, form, job_of, mapping, stark_companies, won,
};
use support::{mapctl, text};

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

#[test]
fn a_failed_sync_back_is_reported_and_written_on_a_later_run() {
    let pair = Pair::new();
    pair.hub.company("9001", "Acme Corporation");
    won(
        &pair.hub,
        "18000000027",
        "Acme - ERP rollout",
        Some("48500.00"),
        "9001",
    );
    pair.hub.state.lock().unwrap().undefined = vec!["psa_project_id".into()];
    let first = pair.run();
    assert_eq!(
        first.status.code(),
        Some(1),
        "a failed sync back is a problem: {}",
        text(&first)
    );
    let status = pair.status(None);
    assert_eq!(status["counts"]["delivered"], 1);
    let failure = &status["sync_failures"][0];
    assert_eq!(failure["deal_id"], "18000000027");
    let error = failure["sync_error"].as_str().unwrap();
    assert!(
        error.contains("HubSpot PATCH /crm/v3/objects/deals/18000000027 answered 400")
            && error.contains("PROPERTY_DOESNT_EXIST"),
        "{error}"
    );
    // The property is created in HubSpot; the next run writes the patch, and creates nothing.
    pair.hub.state.lock().unwrap().undefined.clear();
    std::thread::sleep(Duration::from_millis(50));
    let second = pair.run();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(pair.status(Some("18000000027"))["sync_state"], "done");
    assert_eq!(pair.hub.patches().len(), 1);
    assert_eq!(pair.accelo.jobs().len(), 1);
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
