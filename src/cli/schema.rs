//! `mapctl schema import VENDOR ...`, `mapctl schema pull VENDOR` and `mapctl schema diff OLD
//! NEW`: schemas built from the vendors' own metadata, saved to files or fetched (`pull.rs`),
//! and what changed between two versions of one (`diff.rs`).
//!
//! `import` reads the metadata responses saved to files (one `curl` line each, in
//! `docs/schemas.md`), builds the schema (`schema::import`) and writes it atomically: the
//! output file appears only when complete. A response that cannot be read or has the wrong
//! shape stops the command with exit code 2, naming the file and the JSON pointer.

mod diff;
mod pull;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::{EXIT_CANNOT_RUN, EXIT_OK};
use crate::io::atomic::AtomicFile;
use crate::io::files::read_utf8_file;
use crate::schema::import::{self, ImportError, Input, accelo, copper, harvest, hubspot, zoho};
use crate::schema::load::MAX_FILE_BYTES;

/// Arguments of `mapctl schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    command: SchemaCommand,
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Build a schema from a vendor's metadata responses saved to files.
    Import(ImportArgs),
    /// What changed between two versions of a schema, and the mapping lines each change breaks
    /// or affects (exit 1 when a change breaks a mapping).
    Diff(diff::DiffArgs),
    /// Fetch a vendor's metadata over HTTPS (credentials from the environment) and build the
    /// schema as `import` does.
    Pull(pull::PullArgs),
}

/// Arguments of `mapctl schema import`.
#[derive(Debug, Args)]
struct ImportArgs {
    #[command(subcommand)]
    vendor: Vendor,
}

#[derive(Debug, Subcommand)]
enum Vendor {
    /// HubSpot deals or companies: GET /crm/v3/properties/{object} (and GET
    /// /crm/v3/pipelines/deals for deals).
    Hubspot(HubspotArgs),
    /// Zoho CRM Deals: GET /crm/v7/settings/fields?module=Deals (and the layouts and pipelines).
    Zoho(ZohoArgs),
    /// Copper opportunities: GET /custom_field_definitions (and GET /pipelines).
    Copper(CopperArgs),
    /// Accelo jobs or companies: the shipped create-request schema (or --base) plus the
    /// account's job types, statuses, staff, profile fields and companies.
    Accelo(AcceloArgs),
    /// Harvest projects or clients: the shipped create-request schema (or --base) plus the
    /// account's clients.
    Harvest(HarvestArgs),
}

/// Where the schema goes.
#[derive(Debug, Args)]
struct Output {
    /// The schema file to write (`-` for standard output); it appears only when complete.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum HubspotObject {
    Deals,
    Companies,
}

#[derive(Debug, Args)]
struct HubspotArgs {
    /// The response of GET /crm/v3/properties/{object}.
    #[arg(long, value_name = "FILE")]
    properties: PathBuf,
    /// The response of GET /crm/v3/pipelines/deals (deals only).
    #[arg(long, value_name = "FILE")]
    pipelines: Option<PathBuf>,
    /// The object the properties describe.
    #[arg(long, value_enum, default_value = "deals")]
    object: HubspotObject,
    #[command(flatten)]
    out: Output,
}

#[derive(Debug, Args)]
struct ZohoArgs {
    /// The response of GET /crm/v7/settings/fields?module=Deals.
    #[arg(long, value_name = "FILE")]
    fields: PathBuf,
    /// The response of GET /crm/v7/settings/layouts?module=Deals.
    #[arg(long, value_name = "FILE")]
    layouts: Option<PathBuf>,
    /// The response of GET /crm/v7/settings/pipeline?layout_id=... .
    #[arg(long, value_name = "FILE")]
    pipelines: Option<PathBuf>,
    #[command(flatten)]
    out: Output,
}

#[derive(Debug, Args)]
struct CopperArgs {
    /// The response of GET /developer_api/v1/custom_field_definitions.
    #[arg(long, value_name = "FILE")]
    custom_fields: PathBuf,
    /// The response of GET /developer_api/v1/pipelines.
    #[arg(long, value_name = "FILE")]
    pipelines: Option<PathBuf>,
    #[command(flatten)]
    out: Output,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AcceloObject {
    Jobs,
    Companies,
}

#[derive(Debug, Args)]
struct AcceloArgs {
    /// The object whose create request the schema describes.
    #[arg(long, value_enum, default_value = "jobs")]
    object: AcceloObject,
    /// The write-side schema to add the reference data to (default: the shipped one); a schema
    /// imported before can be its own base, its reference data is replaced.
    #[arg(long, value_name = "FILE")]
    base: Option<PathBuf>,
    /// A page of GET /api/v0/jobs/types (once per page).
    #[arg(long, value_name = "FILE")]
    job_types: Vec<PathBuf>,
    /// A page of GET /api/v0/jobs/statuses (once per page).
    #[arg(long, value_name = "FILE")]
    statuses: Vec<PathBuf>,
    /// A page of GET /api/v0/staff (once per page).
    #[arg(long, value_name = "FILE")]
    staff: Vec<PathBuf>,
    /// A page of GET /api/v0/jobs/profiles/fields (once per page).
    #[arg(long, value_name = "FILE")]
    profile_fields: Vec<PathBuf>,
    /// A page of GET /api/v0/companies (once per page).
    #[arg(long, value_name = "FILE")]
    companies: Vec<PathBuf>,
    #[command(flatten)]
    out: Output,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum HarvestObject {
    Projects,
    Clients,
}

#[derive(Debug, Args)]
struct HarvestArgs {
    /// The object whose create request the schema describes.
    #[arg(long, value_enum, default_value = "projects")]
    object: HarvestObject,
    /// The write-side schema to add the clients to (default: the shipped one).
    #[arg(long, value_name = "FILE")]
    base: Option<PathBuf>,
    /// A page of GET /v2/clients (once per page).
    #[arg(long, value_name = "FILE")]
    clients: Vec<PathBuf>,
    #[command(flatten)]
    out: Output,
}

/// Runs `mapctl schema ...`.
pub fn run(args: &SchemaArgs) -> u8 {
    match &args.command {
        SchemaCommand::Import(import) => run_import(&import.vendor),
        SchemaCommand::Diff(diff) => diff::run(diff),
        SchemaCommand::Pull(args) => pull::run(args),
    }
}

/// Why an import stopped: a file that cannot be read, or a response that cannot be imported.
enum Failure {
    Read(String),
    Import(ImportError),
}

impl From<ImportError> for Failure {
    fn from(error: ImportError) -> Failure {
        Failure::Import(error)
    }
}

fn run_import(vendor: &Vendor) -> u8 {
    let (built, output) = match vendor {
        Vendor::Hubspot(args) => (import_hubspot(args), &args.out.output),
        Vendor::Zoho(args) => (import_zoho(args), &args.out.output),
        Vendor::Copper(args) => (import_copper(args), &args.out.output),
        Vendor::Accelo(args) => (import_accelo(args), &args.out.output),
        Vendor::Harvest(args) => (import_harvest(args), &args.out.output),
    };
    let schema = match built {
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
    match write_output(output, &import::render(&schema)) {
        Ok(()) => EXIT_OK,
        Err(message) => {
            errln!("error: {message}");
            EXIT_CANNOT_RUN
        }
    }
}

fn import_hubspot(args: &HubspotArgs) -> Result<serde_json::Value, Failure> {
    let properties = read_input(&args.properties)?;
    let pipelines = args.pipelines.as_deref().map(read_input).transpose()?;
    let object = match args.object {
        HubspotObject::Deals => hubspot::Object::Deals,
        HubspotObject::Companies => hubspot::Object::Companies,
    };
    Ok(hubspot::import(object, &properties, pipelines.as_ref())?)
}

fn import_zoho(args: &ZohoArgs) -> Result<serde_json::Value, Failure> {
    let fields = read_input(&args.fields)?;
    let layouts = args.layouts.as_deref().map(read_input).transpose()?;
    let pipelines = args.pipelines.as_deref().map(read_input).transpose()?;
    Ok(zoho::import(&fields, layouts.as_ref(), pipelines.as_ref())?)
}

fn import_copper(args: &CopperArgs) -> Result<serde_json::Value, Failure> {
    let definitions = read_input(&args.custom_fields)?;
    let pipelines = args.pipelines.as_deref().map(read_input).transpose()?;
    Ok(copper::import(&definitions, pipelines.as_ref())?)
}

fn import_accelo(args: &AcceloArgs) -> Result<serde_json::Value, Failure> {
    let base = args.base.as_deref().map(read_input).transpose()?;
    let references = accelo::References {
        job_types: read_all(&args.job_types)?,
        statuses: read_all(&args.statuses)?,
        staff: read_all(&args.staff)?,
        profile_fields: read_all(&args.profile_fields)?,
        companies: read_all(&args.companies)?,
    };
    let object = match args.object {
        AcceloObject::Jobs => accelo::Object::Jobs,
        AcceloObject::Companies => accelo::Object::Companies,
    };
    Ok(accelo::import(object, base.as_ref(), &references)?)
}

fn import_harvest(args: &HarvestArgs) -> Result<serde_json::Value, Failure> {
    let base = args.base.as_deref().map(read_input).transpose()?;
    let clients = read_all(&args.clients)?;
    let object = match args.object {
        HarvestObject::Projects => harvest::Object::Projects,
        HarvestObject::Clients => harvest::Object::Clients,
    };
    Ok(harvest::import(object, base.as_ref(), &clients)?)
}

/// Reads and parses one response file (named in errors as the user wrote it).
fn read_input(path: &Path) -> Result<Input, Failure> {
    let text = read_utf8_file(path, MAX_FILE_BYTES)
        .map_err(|reason| Failure::Read(format!("cannot read `{}`: {reason}", path.display())))?;
    Ok(Input::parse(&path.display().to_string(), &text)?)
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<Input>, Failure> {
    paths.iter().map(|p| read_input(p)).collect()
}

/// Writes `text` to `path` atomically (`-`: standard output).
fn write_output(path: &Path, text: &str) -> Result<(), String> {
    if path == Path::new("-") {
        out!("{text}");
        return Ok(());
    }
    let failed = |e: std::io::Error| {
        format!(
            "cannot write `{}`: {}",
            path.display(),
            crate::io::files::io_reason(&e)
        )
    };
    let mut file = AtomicFile::create(path).map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)?;
    file.commit().map_err(failed)
}
