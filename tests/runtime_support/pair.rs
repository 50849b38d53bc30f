//! What the connector tests share: the vendors' test credentials, both fakes with a ledger in a
//! scratch folder, `mapctl` with the vendors' environment, won deals as the firm's HubSpot
//! holds them, and readers of the fakes' jobs and of `status`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use mapctl::connect::vendor::ReadRetry;
use serde_json::Value;

use super::accelo_fake::{AcceloFake, Job};
use super::hubspot_fake::HubSpotFake;
use super::{mapctl, text};

pub const TOKEN: &str = "pat-na1-4f7e1d2c-test-token";
pub const ACCELO_ID: &str = "svc-4411-client-id";
pub const ACCELO_SECRET: &str = "svc-secret-9f8e7d6c";
pub const HUBSPOT_SECRET: &str = "hubspot-app-client-secret-55";

pub fn mapping() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mappings/hubspot_to_accelo.map"
    )
    .to_string()
}

/// Both fakes and a ledger in a temporary folder.
pub struct Pair {
    /// The HubSpot fake.
    pub hub: HubSpotFake,
    /// The Accelo fake.
    pub accelo: AcceloFake,
    _dir: tempfile::TempDir,
    /// The ledger.
    pub ledger: PathBuf,
}

impl Pair {
    pub fn new() -> Pair {
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
    pub fn command(&self, args: &[&str]) -> Command {
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

    pub fn run_args(&self, timeout_ms: &str) -> Vec<String> {
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

    pub fn run(&self) -> Output {
        let args = self.run_args("3000");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.command(&args).output().expect("mapctl runs")
    }

    pub fn status(&self, deal: Option<&str>) -> Value {
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

pub fn mapping_ref() -> &'static str {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mappings/hubspot_to_accelo.map"
    )
}

/// A won deal as the firm's HubSpot holds it (never-transfer properties included).
pub fn won(hub: &HubSpotFake, id: &str, name: &str, amount: Option<&str>, company: &str) {
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

pub fn form<'a>(job: &'a Job, field: &str) -> Option<&'a str> {
    job.form.get(field).map(String::as_str)
}

pub fn job_of<'a>(jobs: &'a [Job], deal: &str) -> &'a Job {
    jobs.iter()
        .find(|j| form(j, "title").is_some_and(|t| t.ends_with(&format!("[HS-{deal}]"))))
        .unwrap_or_else(|| panic!("no job for deal {deal}"))
}

pub fn calls_of(status: &Value) -> BTreeMap<String, u64> {
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

pub fn stark_companies(accelo: &AcceloFake) -> usize {
    accelo
        .companies()
        .iter()
        .filter(|(_, n)| n.to_lowercase().contains("stark"))
        .count()
}

/// Read retries for tests: short waits.
pub fn fast_retry() -> ReadRetry {
    ReadRetry {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(50),
        ..ReadRetry::default()
    }
}
