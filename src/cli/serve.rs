//! `mapctl serve MAPPING --to TARGET --listen ADDR`: receives deals by webhook and delivers them
//! with the same state machine as `mapctl run`.
//!
//! `POST /` (any path but the two below) takes a deal or a bundle as the body, signed with
//! `X-Mapctl-Signature: sha256=<hex HMAC-SHA256 of the body>` under `MAPCTL_WEBHOOK_SECRET`
//! (compared in constant time). A bad or missing signature is answered 401 and nothing is
//! stored. A signed event is mapped and recorded in the ledger, and answered 202 only after that
//! transaction is on disk; the same event sent twice is one deal, hence one project. Delivery
//! runs in the background. `GET /healthz` answers 200 while the ledger answers; `GET /metrics`
//! gives Prometheus text (deals by state, requests by outcome, target latency, webhooks by
//! answer). SIGTERM or Ctrl-C stops accepting, finishes requests and deliveries in progress,
//! and exits 0.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use clap::Args;
use hmac::{KeyInit, Mac};
use serde_json::json;

use super::ledger_args::{LedgerArgs, TargetArgs};
use super::{EXIT_CANNOT_RUN, EXIT_OK};
use crate::deliver::{self, Control, observe::observe};
use crate::engine::{ClientDirectory, Deal, Mapping};
use crate::ledger::{Ledger, State, sha256_hex};
use crate::net::{Handler, Incoming, Response, Server, ServerOptions};

/// The environment variable holding the webhook secret.
pub const WEBHOOK_SECRET: &str = "MAPCTL_WEBHOOK_SECRET";

/// Arguments of `mapctl serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The mapping and its ledger.
    #[command(flatten)]
    pub ledger: LedgerArgs,
    /// The target and delivery options.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The address to listen on (`127.0.0.1:8080`; port 0 picks a free one, printed).
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// The PSA's existing clients, for mappings with `match client`.
    #[arg(long)]
    pub clients: Option<std::path::PathBuf>,
    /// Join a related source record from a file: `--ref company=companies.ndjson`.
    #[arg(long = "ref", value_name = "NAME=FILE")]
    pub refs: Vec<String>,
    /// Largest webhook body accepted, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Webhook requests handled at once (503 beyond).
    #[arg(long, default_value_t = 16)]
    pub max_requests: usize,
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// What the webhook handler shares.
struct Webhook {
    mapping: Mapping,
    clients: Mutex<Option<ClientDirectory>>,
    ledger: Mutex<Ledger>,
    secret: Vec<u8>,
    wake: Mutex<mpsc::Sender<()>>,
    answers: Mutex<BTreeMap<u16, u64>>,
}

/// Runs `mapctl serve`.
pub fn run(args: &ServeArgs) -> u8 {
    match serve(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_CANNOT_RUN
        }
    }
}

fn serve(args: &ServeArgs) -> Result<u8, String> {
    let secret = std::env::var(WEBHOOK_SECRET)
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            format!("set {WEBHOOK_SECRET}: webhooks are only accepted with a valid signature")
        })?;
    let stop = super::run::watch_stop();
    let target = args.target.open()?;
    let mapping =
        super::loading::load_mapping(&args.ledger.mapping, &args.refs, target.creates_clients())?;
    let clients = match (&args.clients, mapping.matches_clients()) {
        (Some(path), _) => Some(super::loading::load_clients(path)?),
        (None, true) => {
            return Err(
                "the mapping matches clients (`match client`); pass `--clients FILE`".into(),
            );
        }
        (None, false) => None,
    };
    let mut ledger = args.ledger.open()?;
    let _lock = ledger.lock().map_err(|e| e.to_string())?;
    ledger.recover().map_err(|e| e.to_string())?;
    let (wake_tx, wake_rx) = mpsc::channel();
    let webhook = Arc::new(Webhook {
        mapping,
        clients: Mutex::new(clients),
        ledger: Mutex::new(args.ledger.open()?),
        secret: secret.into_bytes(),
        wake: Mutex::new(wake_tx),
        answers: Mutex::new(BTreeMap::new()),
    });
    let handler_state = Arc::clone(&webhook);
    let handler: Handler = Arc::new(move |request| handler_state.answer(&request));
    let options = ServerOptions {
        max_body_bytes: args.max_body_bytes,
        max_concurrent: args.max_requests.max(1),
        ..ServerOptions::default()
    };
    let server = Server::start(&args.listen, options, handler).map_err(|e| e.to_string())?;
    eprintln!(
        "mapctl serve: listening on http://{} (mapping {}, delivering to {})",
        server.local_addr(),
        ledger.mapping(),
        target.describe()
    );
    let control = Control {
        stop,
        wake: Some(&wake_rx),
        progress: &mut |_| {},
        observe: &mut |_| {},
    };
    let delivered = deliver::deliver(&mut ledger, &target, &args.target.policy(), control);
    server.stop();
    let tally = delivered.map_err(|e| e.to_string())?;
    eprintln!(
        "mapctl serve: stopped; {} delivered, {} retrying, {} failed, {} refused while serving",
        tally.delivered, tally.retries, tally.failed, tally.rejected
    );
    Ok(EXIT_OK)
}

impl Webhook {
    fn answer(&self, request: &Incoming) -> Response {
        let response = match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/healthz") => self.health(),
            ("GET", "/metrics") => self.metrics(),
            ("POST", _) => self.receive(request),
            _ => Response::new(405, "POST a deal, or GET /healthz or /metrics\n")
                .with_header("allow", "GET, POST"),
        };
        if let Ok(mut answers) = self.answers.lock() {
            *answers.entry(response.status).or_default() += 1;
        }
        response
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn health(&self) -> Response {
        match self.ledger().summary() {
            Ok(_) => Response::new(200, "ok\n"),
            Err(error) => Response::new(503, format!("ledger unavailable: {error}\n")),
        }
    }

    /// Verifies, maps and durably records one event; answers 202 only after the commit.
    fn receive(&self, request: &Incoming) -> Response {
        if !self.signed(request) {
            return json_response(
                401,
                json!({"error": "missing or bad X-Mapctl-Signature (sha256=<hex HMAC-SHA256 of the body>)"}),
            );
        }
        let applied = {
            let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            self.mapping
                .apply(Deal::Text(&request.body), clients.as_mut())
        };
        let origin = format!("webhook:{}", &sha256_hex(&request.body)[..16]);
        let observed = observe(applied, &origin, None);
        let deal_id = observed.deal_id.clone();
        let mut ledger = self.ledger();
        if let Err(error) = ledger.ingest(std::slice::from_ref(&observed)) {
            return json_response(503, json!({"error": format!("not recorded: {error}")}))
                .with_header("retry-after", "5");
        }
        let state = ledger
            .deal(&deal_id)
            .ok()
            .flatten()
            .map_or(State::Pending, |row| row.state);
        drop(ledger);
        if let Ok(wake) = self.wake.lock() {
            let _ = wake.send(());
        }
        json_response(202, json!({"deal_id": deal_id, "state": state.as_str()}))
    }

    fn signed(&self, request: &Incoming) -> bool {
        let Some(signature) = request
            .header("x-mapctl-signature")
            .and_then(|v| v.trim().strip_prefix("sha256="))
            .and_then(hex_decode)
        else {
            return false;
        };
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.secret) else {
            return false;
        };
        mac.update(&request.body);
        mac.verify_slice(&signature).is_ok()
    }

    fn metrics(&self) -> Response {
        let summary = match self.ledger().summary() {
            Ok(summary) => summary,
            Err(error) => return Response::new(503, format!("ledger unavailable: {error}\n")),
        };
        let mut text = String::new();
        text.push_str("# HELP mapctl_deals Deals in the ledger, by state.\n");
        text.push_str("# TYPE mapctl_deals gauge\n");
        for state in State::ALL {
            let n = summary.counts.get(&state).copied().unwrap_or(0);
            let _ = writeln!(text, "mapctl_deals{{state=\"{}\"}} {n}", state.as_str());
        }
        text.push_str(
            "# HELP mapctl_attempts_total Requests to the target, by kind and outcome.\n",
        );
        text.push_str("# TYPE mapctl_attempts_total counter\n");
        for ((kind, outcome), n) in &summary.attempts {
            let _ = writeln!(
                text,
                "mapctl_attempts_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        text.push_str("# HELP mapctl_target_latency_seconds Time the target took per request.\n");
        text.push_str("# TYPE mapctl_target_latency_seconds summary\n");
        let (total_ms, count) = summary.latency;
        let _ = writeln!(
            text,
            "mapctl_target_latency_seconds_sum {}",
            total_ms as f64 / 1000.0
        );
        let _ = writeln!(text, "mapctl_target_latency_seconds_count {count}");
        text.push_str("# HELP mapctl_webhook_requests_total Webhook requests, by answer.\n");
        text.push_str("# TYPE mapctl_webhook_requests_total counter\n");
        if let Ok(answers) = self.answers.lock() {
            for (status, n) in answers.iter() {
                let _ = writeln!(
                    text,
                    "mapctl_webhook_requests_total{{status=\"{status}\"}} {n}"
                );
            }
        }
        Response::new(200, text).with_header("content-type", "text/plain; version=0.0.4")
    }
}

fn json_response(status: u16, body: serde_json::Value) -> Response {
    let mut text = body.to_string();
    text.push('\n');
    Response::new(status, text).with_header("content-type", "application/json")
}

/// Lower- or upper-case hex to bytes.
fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_decodes_both_cases_and_refuses_odd_or_bad_text() {
        assert_eq!(super::hex_decode("0aFf"), Some(vec![10, 255]));
        assert_eq!(super::hex_decode("abc"), None);
        assert_eq!(super::hex_decode("zz"), None);
    }
}
