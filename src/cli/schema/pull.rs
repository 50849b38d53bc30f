//! `mapctl schema pull VENDOR -o FILE`: the vendor's metadata fetched over HTTPS with the
//! account's credentials from the environment (never from a flag or a file), through the
//! connectors' clients (`connect::pull`: limits, retries of reads, `Retry-After`, vendor error
//! bodies), built into a schema by the same importers as `schema import`, and written
//! atomically. The base URL is `MAPCTL_<VENDOR>_URL` when set (docs/schemas.md, "Pulling").

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde_json::Value;

use super::{Failure, read_input, write_output};
use crate::cli::{EXIT_CANNOT_RUN, EXIT_OK};
use crate::connect::meter::Meter;
use crate::connect::pull::{Response, pull};
use crate::connect::registry::{Settings, process_env};
use crate::connect::vendor::ReadRetry;
use crate::net::ClientOptions;
use crate::schema::import::{self, Input, accelo, copper, harvest, hubspot, zoho};

/// The vendors `schema pull` reaches.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum PullVendor {
    Hubspot,
    Zoho,
    Copper,
    Accelo,
    Harvest,
}

/// Arguments of `mapctl schema pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The vendor (its credentials from the environment: docs/connectors/<vendor>.md, Setup).
    #[arg(value_enum)]
    vendor: PullVendor,
    /// The object: `deals` or `companies` (HubSpot), `jobs` or `companies` (Accelo),
    /// `projects` or `clients` (Harvest).
    #[arg(long)]
    object: Option<String>,
    /// Accelo, Harvest: the write-side schema to add the reference data to (default: the
    /// shipped one).
    #[arg(long, value_name = "FILE")]
    base: Option<PathBuf>,
    /// The schema file to write (`-` for standard output); it appears only when complete.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// The longest answer time of one request, in ms.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    timeout_ms: u64,
    /// The wait after a first failed read, in ms (doubled after each further one, 6 tries).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    backoff_ms: u64,
}

impl PullVendor {
    fn name(self) -> &'static str {
        match self {
            PullVendor::Hubspot => "hubspot",
            PullVendor::Zoho => "zoho",
            PullVendor::Copper => "copper",
            PullVendor::Accelo => "accelo",
            PullVendor::Harvest => "harvest",
        }
    }

    fn objects(self) -> &'static [&'static str] {
        match self {
            PullVendor::Hubspot => &["deals", "companies"],
            PullVendor::Harvest => &["projects", "clients"],
            PullVendor::Accelo => &["jobs", "companies"],
            PullVendor::Zoho => &["deals"],
            PullVendor::Copper => &["opportunities"],
        }
    }
}

fn settings(args: &PullArgs, meter: &Meter) -> Settings {
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    Settings {
        meter: meter.clone(),
        client: ClientOptions {
            read_timeout: timeout,
            total_timeout: timeout.saturating_mul(2),
            connect_timeout: timeout.min(Duration::from_secs(10)),
            ..ClientOptions::default()
        },
        retry: ReadRetry {
            base: Duration::from_millis(args.backoff_ms),
            ..ReadRetry::default()
        },
        create_clients: false,
        client_key: crate::engine::client_key,
        env: process_env,
    }
}

/// Runs `mapctl schema pull`.
pub fn run(args: &PullArgs) -> u8 {
    let object = args
        .object
        .as_deref()
        .unwrap_or(args.vendor.objects()[0])
        .to_ascii_lowercase();
    if !args.vendor.objects().contains(&object.as_str()) {
        errln!(
            "error: `--object {object}`: {} has {}",
            args.vendor.name(),
            args.vendor.objects().join(", ")
        );
        return EXIT_CANNOT_RUN;
    }
    let meter = Meter::new();
    let responses = match pull(args.vendor.name(), &object, &settings(args, &meter)) {
        Ok(responses) => responses,
        Err(message) => {
            errln!("error: schema pull {}: {message}", args.vendor.name());
            return EXIT_CANNOT_RUN;
        }
    };
    let schema = match build(args, &object, &responses) {
        Ok(schema) => schema,
        Err(Failure::Read(message)) => {
            errln!("error: {message}");
            return EXIT_CANNOT_RUN;
        }
        Err(Failure::Import(error)) => {
            errln!("error: {error}");
            return EXIT_CANNOT_RUN;
        }
    };
    if let Err(message) = write_output(&args.output, &import::render(&schema)) {
        errln!("error: {message}");
        return EXIT_CANNOT_RUN;
    }
    let calls: u64 = meter.take().iter().map(|c| c.calls).sum();
    errln!(
        "pulled {} response(s) from {} in {calls} API call(s)",
        responses.len(),
        args.vendor.name()
    );
    EXIT_OK
}

/// The responses of `role`, each named by its call (import errors name the call).
fn inputs(responses: &[Response], role: &str) -> Vec<Input> {
    responses
        .iter()
        .filter(|r| r.role == role)
        .map(|r| Input {
            name: r.call.clone(),
            value: r.body.clone(),
        })
        .collect()
}

fn one(responses: &[Response], role: &str) -> Option<Input> {
    inputs(responses, role).into_iter().next()
}

fn missing(role: &str) -> Failure {
    Failure::Read(format!("the vendor's answers hold no {role} response"))
}

fn build(args: &PullArgs, object: &str, responses: &[Response]) -> Result<Value, Failure> {
    match args.vendor {
        PullVendor::Hubspot => {
            let properties = one(responses, "properties").ok_or_else(|| missing("properties"))?;
            let object = match object {
                "companies" => hubspot::Object::Companies,
                _ => hubspot::Object::Deals,
            };
            let pipelines = one(responses, "pipelines");
            Ok(hubspot::import(object, &properties, pipelines.as_ref())?)
        }
        PullVendor::Zoho => {
            let fields = one(responses, "fields").ok_or_else(|| missing("fields"))?;
            let layouts = one(responses, "layouts");
            let pipelines = one(responses, "pipelines");
            Ok(zoho::import(&fields, layouts.as_ref(), pipelines.as_ref())?)
        }
        PullVendor::Copper => {
            let fields = one(responses, "custom_fields").ok_or_else(|| missing("custom fields"))?;
            let pipelines = one(responses, "pipelines");
            Ok(copper::import(&fields, pipelines.as_ref())?)
        }
        PullVendor::Accelo => {
            let base = args.base.as_deref().map(read_input).transpose()?;
            let references = accelo::References {
                job_types: inputs(responses, "job_types"),
                statuses: inputs(responses, "statuses"),
                staff: inputs(responses, "staff"),
                profile_fields: inputs(responses, "profile_fields"),
                companies: inputs(responses, "companies"),
            };
            let object = match object {
                "companies" => accelo::Object::Companies,
                _ => accelo::Object::Jobs,
            };
            Ok(accelo::import(object, base.as_ref(), &references)?)
        }
        PullVendor::Harvest => {
            let base = args.base.as_deref().map(read_input).transpose()?;
            let object = match object {
                "clients" => harvest::Object::Clients,
                _ => harvest::Object::Projects,
            };
            Ok(harvest::import(
                object,
                base.as_ref(),
                &inputs(responses, "clients"),
            )?)
        }
    }
}
