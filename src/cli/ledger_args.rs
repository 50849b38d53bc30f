//! What the runtime commands (`run`, `serve`, `status`, `retry`) share: the ledger's location,
//! the mapping's name, the target and delivery options, and opening sources and targets (files,
//! URLs, connector names).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::connect::file::{FileSource, FileTarget};
use crate::connect::http_target::{HttpTarget, HttpTargetOptions, Lookup};
use crate::connect::meter::Meter;
use crate::connect::registry::{self, Settings};
use crate::connect::vendor::ReadRetry;
use crate::connect::{Source, Target};
use crate::deliver::Policy;
use crate::deliver::backoff::Backoff;
use crate::engine::{ClientDirectory, Mapping};
use crate::io::input::InputLimits;
use crate::ledger::{self, Ledger};
use crate::net::ClientOptions;
use crate::source::FileId;
use crate::syntax::{Limits, ast};

/// The environment variable holding the generic HTTP target's `Authorization` header.
pub const TARGET_AUTHORIZATION: &str = "MAPCTL_TARGET_AUTHORIZATION";

/// Where the ledger is.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// The mapping file.
    pub mapping: PathBuf,
    /// The ledger database (default: `.mapctl/ledger.db` beside the mapping).
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
}

impl LedgerArgs {
    /// The ledger's path.
    pub fn ledger_path(&self) -> PathBuf {
        self.ledger
            .clone()
            .unwrap_or_else(|| ledger::default_path(&self.mapping))
    }

    /// Opens the ledger for the mapping (named by its `mapping NAME` line, read without
    /// checking the mapping, so that status works while a mapping is being fixed).
    pub fn open(&self) -> Result<Ledger, String> {
        let name = mapping_name(&self.mapping)?;
        let path = self.ledger_path();
        Ledger::open(&path, &name).map_err(|e| format!("`{}`: {e}", path.display()))
    }
}

/// The `mapping NAME` of a mapping file.
pub fn mapping_name(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let (file, _) = crate::syntax::parse(&text, FileId(0), &Limits::default());
    file.items
        .iter()
        .find_map(|item| match item {
            ast::Item::Header(name) => Some(name.name.clone()),
            _ => None,
        })
        .ok_or_else(|| format!("`{}` has no `mapping NAME` line", path.display()))
}

/// How to reach the target and pace deliveries.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Where projects go: a connector (`accelo`, `harvest`: docs/connectors/), an `http://` or
    /// `https://` URL (the generic HTTP target, see docs/runtime.md), a file the records are
    /// appended to, or `-` for stdout.
    #[arg(long, value_name = "TARGET")]
    pub to: String,
    /// Let a target connector create a client no existing one matches (`match client`); without
    /// it such deals are rejected (M511) for a person to create the client.
    #[arg(long)]
    pub create_clients: bool,
    /// JSON pointer to the project id in the target's answers.
    #[arg(long, value_name = "POINTER", default_value = "/id")]
    pub id_pointer: String,
    /// URL template to find a deal's project, with `{key}` and `{deal_id}` (default:
    /// `TARGET?idempotency_key={key}`).
    #[arg(long, value_name = "URL", conflicts_with = "no_lookup")]
    pub lookup_url: Option<String>,
    /// Never look projects up; exactly-once then rests on the target honouring
    /// `Idempotency-Key`.
    #[arg(long)]
    pub no_lookup: bool,
    /// An extra header for every request to the target (`Name: value`; repeatable).
    #[arg(long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Requests to the target at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Attempts per deal before it is `failed` (see `mapctl retry`).
    #[arg(long, default_value_t = 8)]
    pub max_attempts: u32,
    /// The wait after a first failed attempt, in ms (doubled after each further one).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub backoff_ms: u64,
    /// The longest wait between attempts, in ms.
    #[arg(long, value_name = "MS", default_value_t = 300_000)]
    pub max_backoff_ms: u64,
    /// The longest answer time of one request, in ms.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub timeout_ms: u64,
}

impl TargetArgs {
    /// The delivery policy.
    pub fn policy(&self) -> Policy {
        Policy {
            concurrency: self.concurrency.max(1),
            max_attempts: self.max_attempts.max(1),
            backoff: Backoff {
                base: Duration::from_millis(self.backoff_ms),
                cap: Duration::from_millis(self.max_backoff_ms.max(self.backoff_ms)),
                ..Backoff::default()
            },
        }
    }

    /// What connectors are opened with: timeouts, read retries paced like deliveries, the
    /// meter their API calls are counted in, the process environment.
    pub fn settings(&self, meter: &Meter) -> Settings {
        let timeout = Duration::from_millis(self.timeout_ms.max(1));
        let client = ClientOptions {
            read_timeout: timeout,
            total_timeout: timeout.saturating_mul(2),
            connect_timeout: timeout.min(Duration::from_secs(10)),
            ..ClientOptions::default()
        };
        let retry = ReadRetry {
            base: Duration::from_millis(self.backoff_ms),
            cap: Duration::from_millis(self.max_backoff_ms.max(self.backoff_ms))
                .min(Duration::from_secs(30)),
            ..ReadRetry::default()
        };
        Settings {
            meter: meter.clone(),
            client,
            retry,
            create_clients: self.create_clients,
            client_key: crate::engine::client_key,
            env: registry::process_env,
        }
    }

    /// Opens the target (API calls of a connector are counted in `meter`).
    pub fn open(&self, meter: &Meter) -> Result<Arc<dyn Target>, String> {
        if registry::is_target(&self.to) || registry::planned(&self.to).is_some() {
            return registry::open_target(&self.to, &self.settings(meter));
        }
        if registry::is_source(&self.to) {
            return Err(format!(
                "`--to {}`: {} is a source connector (`--from {}`)",
                self.to, self.to, self.to
            ));
        }
        let lower = self.to.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let mut options = HttpTargetOptions::new(&self.to);
            options.meter = meter.clone();
            options.authorization = std::env::var(TARGET_AUTHORIZATION)
                .ok()
                .filter(|v| !v.is_empty());
            options.id_pointer = self.id_pointer.clone();
            options.lookup = match (&self.lookup_url, self.no_lookup) {
                (_, true) => Lookup::Disabled,
                (Some(template), false) => Lookup::Template(template.clone()),
                (None, false) => Lookup::ByKey,
            };
            options.headers = self
                .headers
                .iter()
                .map(|h| {
                    h.split_once(':')
                        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                        .filter(|(n, _)| !n.is_empty())
                        .ok_or_else(|| format!("`--header {h}` must be `Name: value`"))
                })
                .collect::<Result<_, _>>()?;
            let timeout = Duration::from_millis(self.timeout_ms.max(1));
            options.client.read_timeout = timeout;
            options.client.total_timeout = timeout.saturating_mul(2);
            options.client.connect_timeout = timeout.min(Duration::from_secs(10));
            return Ok(Arc::new(HttpTarget::new(options)?));
        }
        if self.to.contains("://") {
            return Err(format!(
                "`--to {}`: only connectors ({}), http:// and https:// URLs, files and `-` are targets",
                self.to,
                registry::TARGETS.join(", ")
            ));
        }
        Ok(Arc::new(FileTarget::open(Path::new(&self.to))?))
    }
}

/// Opens the source: one connector name (`--from hubspot`), or deal files (and `-`). A file
/// named like a connector is read when written as a path (`./hubspot`).
pub fn open_source(
    from: &[PathBuf],
    mapping: &Mapping,
    settings: &Settings,
) -> Result<Box<dyn Source>, String> {
    let named: Vec<&str> = from
        .iter()
        .filter_map(|p| p.to_str())
        .filter(|p| registry::is_source(p) || registry::planned(p).is_some())
        .collect();
    match (named.as_slice(), from.len()) {
        ([], _) => Ok(Box::new(
            FileSource::new(from.to_vec(), InputLimits::default())
                .with_envelope(mapping.envelope()),
        )),
        ([name], 1) => registry::open_source(name, crate::deliver::needs::needs(mapping), settings),
        _ => Err(
            "`--from`: a connector is the only source of a run (or give deal files only)".into(),
        ),
    }
}

/// The PSA's clients for a mapping that matches clients: `--clients FILE` when given, else the
/// target's own list (a connector reads it once per run); `None` when the mapping matches none.
pub fn client_directory(
    path: Option<&Path>,
    mapping: &Mapping,
    target: &dyn Target,
) -> Result<Option<ClientDirectory>, String> {
    if let Some(path) = path {
        return super::loading::load_clients(path).map(Some);
    }
    if !mapping.matches_clients() {
        return Ok(None);
    }
    match target.clients() {
        Ok(Some(records)) => ClientDirectory::new(&records)
            .map(Some)
            .map_err(|e| format!("the clients of {}: {e}", target.describe())),
        Ok(None) => Err(
            "the mapping matches clients (`match client`); pass the PSA's existing clients with `--clients FILE` (use `[]` when there are none)"
                .to_string(),
        ),
        Err(error) => Err(format!("reading the clients of {}: {error}", target.describe())),
    }
}
