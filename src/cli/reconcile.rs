//! `mapctl reconcile MAPPING --deals DEALS --projects PROJECTS`: compare a CRM deal export with a
//! PSA project export through the mapping.
//!
//! Exit codes: 0 nothing to report, 1 findings (missing or drifted projects, duplicates, won deals
//! the mapping rejects), 2 could not run.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;

use super::loading::{load_clients, load_mapping};
use super::{EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS, ReportFormat};
use crate::engine::{ClientDirectory, Direction};
use crate::io::envelope;
use crate::io::files::{is_ndjson_name, open_input, read_records};
use crate::io::input::{self, InputLimits};
use crate::ops::compare;
use crate::ops::reconcile::{DealRef, Reconciler, Reconciliation};

/// Arguments of `mapctl reconcile`.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The mapping file.
    pub mapping: PathBuf,
    /// The CRM's deal export (JSON array, NDJSON or one document; several files allowed).
    #[arg(long, required = true, num_args = 1..)]
    pub deals: Vec<PathBuf>,
    /// The PSA's project export (JSON array or NDJSON).
    #[arg(long)]
    pub projects: PathBuf,
    /// Join a related source record from a file: `--ref company=companies.ndjson`.
    #[arg(long = "ref", value_name = "NAME=FILE")]
    pub refs: Vec<String>,
    /// The PSA's existing clients (`[{"id": .., "name": ..}]`): client ids are then compared too.
    #[arg(long)]
    pub clients: Option<PathBuf>,
    /// The project field that identifies the deal (default: the field the mapping writes the
    /// deal's `id` into).
    #[arg(long, value_name = "FIELD")]
    pub key: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
}

/// Runs `mapctl reconcile`.
pub fn run(args: &ReconcileArgs) -> u8 {
    match reconcile(args) {
        Ok(result) => {
            match args.format {
                ReportFormat::Json => match serde_json::to_string_pretty(&result) {
                    Ok(text) => outln!("{text}"),
                    Err(error) => {
                        errln!("error: {error}");
                        return EXIT_CANNOT_RUN;
                    }
                },
                ReportFormat::Human => print_human(&result),
            }
            if result.has_findings() {
                EXIT_PROBLEMS
            } else {
                EXIT_OK
            }
        }
        Err(message) => {
            errln!("error: {message}");
            EXIT_CANNOT_RUN
        }
    }
}

fn reconcile(args: &ReconcileArgs) -> Result<Reconciliation, String> {
    let mapping = load_mapping(&args.mapping, &args.refs, true)?;
    let key = compare::key_field(mapping.program(), args.key.as_deref())?;
    let mut clients = match &args.clients {
        Some(path) => load_clients(path)?,
        None => ClientDirectory::default(),
    };
    let projects = read_records(&args.projects)?;
    let mut reconciler = Reconciler::new(mapping.program(), key, projects);
    for path in &args.deals {
        read_deals(path, mapping.envelope(), |position, item| {
            let applied = mapping.apply_item(item, Some(&mut clients), Direction::Forward);
            let deal = DealRef {
                deal_id: applied.deal_id,
                position: format!("{} {}", path.display(), position),
            };
            reconciler.add(deal, applied.outcome);
        })?;
    }
    Ok(reconciler.finish())
}

/// Calls `each` with every deal of a file and its position.
fn read_deals(
    path: &Path,
    pointer: Option<&str>,
    mut each: impl FnMut(String, input::InputItem<'_>),
) -> Result<(), String> {
    let reader = open_input(path)?;
    let limits = InputLimits {
        ndjson: is_ndjson_name(path),
        ..InputLimits::default()
    };
    let mut index = 0;
    input::for_each_item(reader, limits, |_, item| {
        envelope::each_deal(pointer, &mut index, item, &mut |item| {
            each(input::describe_position(item.position), item);
            std::ops::ControlFlow::Continue(())
        })
    })
    .map(|_| ())
    .map_err(|e| format!("reading `{}` failed: {e}", path.display()))
}

fn print_human(result: &Reconciliation) {
    errln!(
        "{} deals read, {} won; {} projects; paired by {}",
        result.deals,
        result.won,
        result.projects,
        result.key
    );
    if !result.missing.is_empty() {
        errln!("\nWon deals without a project ({}):", result.missing.len());
        for missing in &result.missing {
            errln!(
                "  deal {} ({}): no project has {} = {}",
                deal_name(&missing.deal),
                missing.deal.position,
                result.key,
                missing.key
            );
        }
    }
    if !result.drifted.is_empty() {
        errln!(
            "\nProjects that drifted from their deal ({}):",
            result.drifted.len()
        );
        for drift in &result.drifted {
            let id = drift
                .project_id
                .as_ref()
                .map(|id| format!(" {id}"))
                .unwrap_or_default();
            errln!(
                "  deal {} -> project{id} (#{} in the export)",
                deal_name(&drift.deal),
                drift.project,
            );
            for change in &drift.changes {
                errln!(
                    "    {:<24} PSA has {:<16} the deal says {}",
                    change.field,
                    show(change.current.as_ref()),
                    change.planned
                );
            }
        }
    }
    if !result.unmappable.is_empty() {
        errln!(
            "\nWon deals the mapping rejects, so no project can be made yet ({}):",
            result.unmappable.len()
        );
        for deal in &result.unmappable {
            errln!(
                "  deal {} ({}): {}",
                deal_name(&deal.deal),
                deal.deal.position,
                deal.codes.join(", ")
            );
            for reason in &deal.reasons {
                errln!("    {reason}");
            }
        }
    }
    if !result.duplicate_projects.is_empty() {
        errln!("\nSeveral projects for one deal:");
        for duplicate in &result.duplicate_projects {
            let positions: Vec<String> = duplicate.projects.iter().map(usize::to_string).collect();
            errln!(
                "  {} = {}: projects {}",
                result.key,
                duplicate.key,
                positions.join(", ")
            );
        }
    }
    if !result.duplicate_clients.is_empty() {
        errln!("\nOne company, several clients:");
        for duplicate in &result.duplicate_clients {
            errln!("  \"{}\":", duplicate.company);
            for client in &duplicate.clients {
                errln!(
                    "    client {} ({}) used by deal(s) {}",
                    client.client_id,
                    client.names.join(", "),
                    client.deal_ids.join(", ")
                );
            }
        }
    }
    if result.unreadable > 0 {
        errln!(
            "\nDeals that could not be read, so were not compared ({}):",
            result.unreadable
        );
        for at in &result.unreadable_at {
            errln!("  {at}");
        }
    }
    if !result.not_in_export.is_empty() {
        errln!(
            "\nnot compared (no project in the export has them): {}",
            result.not_in_export.join(", ")
        );
    }
    if !result.psa_owned.is_empty() {
        errln!(
            "not compared (owned by the PSA: sync back reads them): {}",
            result.psa_owned.join(", ")
        );
    }
    if !result.has_findings() {
        errln!("\nno findings: every won deal has its project and every project matches its deal");
    }
}

fn deal_name(deal: &DealRef) -> &str {
    deal.deal_id.as_deref().unwrap_or("(no id)")
}

fn show(value: Option<&Value>) -> String {
    value.map_or("(absent)".to_string(), Value::to_string)
}
