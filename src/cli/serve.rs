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
//!
//! With `--from CRM` (a source connector, `hubspot`) the webhooks are the CRM's own: signed as
//! the vendor documents (HubSpot: `X-HubSpot-Signature-v3` under `HUBSPOT_CLIENT_SECRET`, five
//! minutes at most), they only name deals that changed. Their ids are committed to the ledger's
//! inbox and answered 200 at once; a background reader fetches each deal from the CRM, maps and
//! records it, the deliverer delivers it, and sync back writes the project's status to the CRM.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use clap::Args;
use hmac::{KeyInit, Mac};
use serde_json::json;

use super::ledger_args::{LedgerArgs, TargetArgs, open_source};
use super::{EXIT_CANNOT_RUN, EXIT_OK};
use crate::connect::hubspot::webhook;
use crate::connect::meter::Meter;
use crate::connect::registry;
use crate::deliver::inbox::{Reader, read_queue};
use crate::deliver::{self, Control, observe::observe};
use crate::engine::{ClientDirectory, Deal, Mapping};
use crate::ledger::{Ledger, State, now_ms, sha256_hex};
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
    /// Take the CRM's own webhooks (a source connector: `hubspot`), fetching each deal they
    /// name; without it the webhook body is the deal.
    #[arg(long, value_name = "CRM")]
    pub from: Option<String>,
    /// The public URL the CRM calls, scheme and host (`https://hooks.example.com`): CRM
    /// signatures cover it (default: `https://` and the request's Host header).
    #[arg(long, value_name = "URL", requires = "from")]
    pub public_url: Option<String>,
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

/// Whose webhooks are taken.
enum Mode {
    /// mapctl's own: the body is the deal, signed with `X-Mapctl-Signature`.
    Deals,
    /// A CRM's: the body names changed deals, which are queued and fetched.
    Crm {
        /// The source connector (`hubspot`).
        name: String,
        /// The URL the CRM calls, scheme and host, when given.
        public_url: Option<String>,
    },
}

/// What the webhook handler shares.
struct Webhook {
    mapping: Arc<Mapping>,
    clients: Arc<Mutex<Option<ClientDirectory>>>,
    ledger: Mutex<Ledger>,
    secret: Vec<u8>,
    mode: Mode,
    wake: Mutex<mpsc::Sender<()>>,
    queued: Mutex<mpsc::Sender<()>>,
    answers: Mutex<BTreeMap<u16, u64>>,
}

/// Runs `mapctl serve`.
pub fn run(args: &ServeArgs) -> u8 {
    match serve(args) {
        Ok(code) => code,
        Err(message) => {
            errln!("error: {message}");
            EXIT_CANNOT_RUN
        }
    }
}

/// The webhook secret: `MAPCTL_WEBHOOK_SECRET`, or the CRM's (`HUBSPOT_CLIENT_SECRET`).
fn secret(from: Option<&str>) -> Result<Vec<u8>, String> {
    let variable = match from {
        None => WEBHOOK_SECRET,
        Some(name) => registry::webhook_secret(name).ok_or_else(|| {
            registry::planned(name).unwrap_or_else(|| {
                format!(
                    "`--from {name}`: not a source connector with webhooks ({})",
                    registry::SOURCES.join(", ")
                )
            })
        })?,
    };
    registry::process_env(variable)
        .map(String::into_bytes)
        .ok_or_else(|| format!("set {variable}: webhooks are only accepted with a valid signature"))
}

fn serve(args: &ServeArgs) -> Result<u8, String> {
    let secret = secret(args.from.as_deref())?;
    let stop = super::run::watch_stop();
    let meter = Meter::new();
    let target = args.target.open(&meter)?;
    let mapping = Arc::new(super::loading::load_mapping(
        &args.ledger.mapping,
        &args.refs,
        target.creates_clients(),
    )?);
    let clients =
        super::ledger_args::client_directory(args.clients.as_deref(), &mapping, target.as_ref())?;
    let clients = Arc::new(Mutex::new(clients));
    let mut ledger = args.ledger.open()?;
    let _lock = ledger.lock().map_err(|e| e.to_string())?;
    ledger.recover().map_err(|e| e.to_string())?;
    let (wake_tx, wake_rx) = mpsc::channel();
    let (queued_tx, queued_rx) = mpsc::channel();
    let policy = args.target.policy();
    let reader = match &args.from {
        Some(name) => Some(Reader {
            mapping: Arc::clone(&mapping),
            clients: Arc::clone(&clients),
            ledger: args.ledger.open()?,
            source: open_source(
                &[PathBuf::from(name)],
                &mapping,
                &args.target.settings(&meter),
            )?,
            source_name: name.clone(),
            target: Arc::clone(&target),
            meter: meter.clone(),
            wake: wake_tx.clone(),
            backoff: policy.backoff,
            max_attempts: policy.max_attempts,
        }),
        None => None,
    };
    let mode = match &args.from {
        Some(name) => Mode::Crm {
            name: name.clone(),
            public_url: args.public_url.clone(),
        },
        None => Mode::Deals,
    };
    let webhook = Arc::new(Webhook {
        mapping,
        clients,
        ledger: Mutex::new(args.ledger.open()?),
        secret,
        mode,
        wake: Mutex::new(wake_tx),
        queued: Mutex::new(queued_tx),
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
    errln!(
        "mapctl serve: listening on http://{} (mapping {}, delivering to {})",
        server.local_addr(),
        ledger.mapping(),
        target.describe()
    );
    let reading =
        reader.map(|reader| std::thread::spawn(move || read_queue(reader, &queued_rx, stop)));
    let control = Control {
        stop,
        wake: Some(&wake_rx),
        progress: &mut |_| {},
        observe: &mut |_| {},
        meter: Some(&meter),
    };
    let delivered = deliver::deliver(&mut ledger, &target, &policy, control);
    // The deliverer ends on a stop, or on a ledger failure: either way the reader stops too.
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    server.stop();
    let read = reading.map(|handle| {
        handle
            .join()
            .unwrap_or_else(|_| Err("the webhook reader panicked".into()))
    });
    let _ = deliver::record_calls(&mut ledger, &meter);
    let tally = delivered.map_err(|e| e.to_string())?;
    if let Some(Err(error)) = read {
        return Err(error);
    }
    errln!(
        "mapctl serve: stopped; {} delivered, {} retrying, {} failed, {} refused while serving",
        tally.delivered,
        tally.retries,
        tally.failed,
        tally.rejected
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
        if let Mode::Crm { name, public_url } = &self.mode {
            return self.receive_crm(request, name, public_url.as_deref());
        }
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

    /// A CRM's webhook: verified as the vendor documents, the deals it names queued in the
    /// ledger (committed), answered 200 at once; the background reader fetches them.
    fn receive_crm(&self, request: &Incoming, name: &str, public_url: Option<&str>) -> Response {
        let base = match public_url {
            Some(url) => url.to_string(),
            None => format!("https://{}", request.header("host").unwrap_or_default()),
        };
        let uri = webhook::request_uri(&base, &request.path, request.query.as_deref());
        let verdict = webhook::verify(
            &self.secret,
            &request.method,
            &uri,
            &request.body,
            request.header(webhook::TIMESTAMP),
            request.header(webhook::SIGNATURE),
            now_ms(),
        );
        if let Err(refusal) = verdict {
            return json_response(401, json!({"error": refusal.to_string()}));
        }
        let ids = match webhook::deal_ids(&request.body) {
            Ok(ids) => ids,
            Err(error) => return json_response(400, json!({"error": error})),
        };
        if let Err(error) = self.ledger().enqueue(name, &ids) {
            return json_response(503, json!({"error": format!("not recorded: {error}")}))
                .with_header("retry-after", "5");
        }
        if let Ok(queued) = self.queued.lock() {
            let _ = queued.send(());
        }
        json_response(200, json!({"queued": ids}))
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
        text.push_str("# HELP mapctl_inbox Deals a CRM webhook named that are not fetched yet.\n");
        text.push_str("# TYPE mapctl_inbox gauge\n");
        let _ = writeln!(text, "mapctl_inbox {}", summary.inbox);
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
