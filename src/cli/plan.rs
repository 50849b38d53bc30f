//! `mapctl apply --plan --existing PROJECTS`: what apply would change in the PSA, field by field,
//! for each deal, without writing anything.
//!
//! Exit codes: 0 every deal planned (changes or not), 1 some deal rejected, 2 could not run.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::apply::ApplyArgs;
use super::loading::{load_clients, load_mapping};
use super::{EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS, ReportFormat};
use crate::check::Program;
use crate::check::program::WriteKind;
use crate::engine::{Applied, ClientDirectory, ClientOutcome, Direction, Mapping, Outcome};
use crate::io::envelope;
use crate::io::files::{is_ndjson_name, open_input, read_records};
use crate::io::input::{self, InputLimits};
use crate::ops::compare::{self, Change, ExportFields, KeyField, ProjectIndex};

/// What planning needs besides the engine.
struct Planner {
    key: KeyField,
    owned: Vec<Vec<String>>,
    index: ProjectIndex,
    /// The fields some project of the export carries (others are not compared, as in
    /// `reconcile`).
    export_fields: ExportFields,
    format: ReportFormat,
    /// How many deals ended in each action.
    counts: std::collections::BTreeMap<&'static str, usize>,
}

/// Runs `apply --plan`.
pub fn run(args: &ApplyArgs) -> u8 {
    match plan(args) {
        Ok(rejected) if rejected > 0 => EXIT_PROBLEMS,
        Ok(_) => EXIT_OK,
        Err(message) => {
            errln!("error: {message}");
            EXIT_CANNOT_RUN
        }
    }
}

fn plan(args: &ApplyArgs) -> Result<usize, String> {
    let existing = args
        .existing
        .as_ref()
        .ok_or("--plan compares with the PSA's records: pass them with --existing PROJECTS")?;
    let mapping = load_mapping(&args.mapping, &args.refs, true)?;
    let mut clients = match &args.clients {
        Some(path) => Some(load_clients(path)?),
        None if mapping.matches_clients() => Some(ClientDirectory::default()),
        None => None,
    };
    let key = compare::key_field(mapping.program(), args.key.as_deref())?;
    let projects = read_records(existing)?;
    let mut planner = Planner {
        owned: compare::psa_owned(mapping.program()),
        export_fields: ExportFields::new(&projects),
        index: ProjectIndex::new(projects, &key),
        key,
        format: args.format,
        counts: std::collections::BTreeMap::new(),
    };
    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    if args.inputs.is_empty()
        && let Some(message) = super::hints::terminal_stdin("apply --plan")
    {
        return Err(message);
    }
    for path in &inputs {
        let reader = open_input(path)?;
        let limits = InputLimits {
            ndjson: is_ndjson_name(path),
            max_line_bytes: args.max_line_bytes,
            ..InputLimits::default()
        };
        let name = path.display().to_string();
        let mut index = 0;
        input::for_each_item(reader, limits, |_, item| {
            envelope::each_deal(mapping.envelope(), &mut index, item, &mut |item| {
                let position = input::describe_position(item.position);
                let applied = mapping.apply_item(item, clients.as_mut(), Direction::Forward);
                let entry = planner.entry(&mapping, &format!("{name} {position}"), applied);
                planner.print(&entry);
                std::ops::ControlFlow::Continue(())
            })
        })
        .map_err(|e| format!("reading `{name}` failed: {e}"))?;
    }
    let counts: Vec<String> = ["create", "update", "none", "skip", "reject"]
        .iter()
        .map(|action| {
            let n = planner.counts.get(action).copied().unwrap_or(0);
            let label = match *action {
                "none" => "unchanged",
                "skip" => "skipped",
                "reject" => "rejected",
                other => other,
            };
            format!("{label} {n}")
        })
        .collect();
    errln!("mapctl plan: {}; nothing was written", counts.join(", "));
    Ok(planner.counts.get("reject").copied().unwrap_or(0))
}

impl Planner {
    /// The plan for one deal, as JSON (the human form is rendered from it).
    fn entry(&mut self, mapping: &Mapping, position: &str, applied: Applied) -> Value {
        let Applied { deal_id, outcome } = applied;
        let mut entry = json!({"deal_id": deal_id, "input": position});
        match outcome {
            Outcome::Written {
                record,
                template,
                client,
                branches,
            } => {
                let record = record.into_value();
                self.describe_written(&mut entry, mapping.program(), &record, &branches);
                entry["template"] = template.unwrap_or(Value::Null);
                entry["client"] = client.as_ref().map_or(Value::Null, ClientOutcome::to_json);
            }
            Outcome::Skipped(reason) => {
                entry["action"] = json!("skip");
                entry["reasons"] = json!([format!("{}: {}", reason.code, reason.message)]);
            }
            Outcome::Rejected { phase, reasons } => {
                entry["action"] = json!("reject");
                entry["phase"] = json!(phase.as_str());
                entry["reasons"] = reasons
                    .iter()
                    .map(|r| json!(format!("{}: {}", r.code, r.message)))
                    .collect();
            }
        }
        let action = match entry["action"].as_str() {
            Some("create") => "create",
            Some("update") => "update",
            Some("none") => "none",
            Some("skip") => "skip",
            _ => "reject",
        };
        *self.counts.entry(action).or_default() += 1;
        entry
    }

    fn describe_written(
        &self,
        entry: &mut Value,
        program: &Program,
        record: &Value,
        branches: &[(usize, usize)],
    ) {
        let key = compare::key_of(record, &self.key);
        entry["key"] = json!({"field": self.key.display, "value": key});
        entry["template_rule"] = template_rule(program, branches);
        let found = key.as_deref().map_or(&[][..], |k| self.index.find(k));
        match found.first() {
            None => {
                entry["action"] = json!("create");
                entry["changes"] = to_json(compare::changes(record, &json!({}), &[]));
            }
            Some(&position) => {
                let project = &self.index.projects[position];
                let absent = self.export_fields.absent_leaves(record);
                let mut ignored = self.owned.clone();
                ignored.extend(
                    absent
                        .iter()
                        .map(|f| f.split('.').map(str::to_string).collect()),
                );
                let changes = compare::changes(record, project, &ignored);
                entry["action"] = json!(if changes.is_empty() { "none" } else { "update" });
                if !absent.is_empty() {
                    entry["not_in_export"] = json!(absent);
                }
                entry["project"] = json!({"position": position + 1, "id": project.get("id")});
                if found.len() > 1 {
                    entry["warning"] = json!(format!(
                        "{} projects have this key; compared with the first",
                        found.len()
                    ));
                }
                entry["changes"] = to_json(changes);
            }
        }
    }

    fn print(&self, entry: &Value) {
        match self.format {
            ReportFormat::Json => outln!("{entry}"),
            ReportFormat::Human => errln!("{}", human(entry, &self.key)),
        }
    }
}

/// The rule that chose the template (the first select's branch), as `{line, text}`.
fn template_rule(program: &Program, branches: &[(usize, usize)]) -> Value {
    let Some(field) = &program.template_field else {
        return Value::Null;
    };
    branches
        .iter()
        .find_map(|&(write, arm)| {
            let write = &program.writes[write];
            let WriteKind::Select { arms, otherwise } = &write.kind else {
                return None;
            };
            if &write.target != field {
                return None;
            }
            let origin = arms
                .get(arm)
                .map(|(_, _, o)| o)
                .or(otherwise.as_ref().map(|(_, o)| o))?;
            Some(json!({"line": origin.line, "text": origin.text}))
        })
        .unwrap_or(Value::Null)
}

fn to_json(changes: Vec<Change>) -> Value {
    serde_json::to_value(changes).unwrap_or(Value::Null)
}

/// The readable form of a plan entry.
fn human(entry: &Value, key: &KeyField) -> String {
    let deal = entry["deal_id"].as_str().unwrap_or("(no id)");
    let input = entry["input"].as_str().unwrap_or("");
    let action = entry["action"].as_str().unwrap_or("");
    let mut text = match action {
        "create" => format!(
            "deal {deal} ({input}): create: no existing record has {} = {}",
            key.display, entry["key"]["value"]
        ),
        "none" | "update" => format!(
            "deal {deal} ({input}): {} record {}{}",
            if action == "none" {
                "matches"
            } else {
                "update"
            },
            entry["project"]["position"],
            project_id(&entry["project"]["id"])
        ),
        "skip" => format!("deal {deal} ({input}): skipped, nothing to write"),
        _ => format!("deal {deal} ({input}): rejected, nothing to write"),
    };
    if let Some(rule) = entry.get("template_rule").filter(|r| !r.is_null()) {
        text.push_str(&format!(
            "\n  template: {} (mapping line {}: {})",
            entry["template"],
            rule["line"],
            rule["text"].as_str().unwrap_or("")
        ));
    }
    if let Some(client) = entry.get("client").filter(|c| !c.is_null()) {
        text.push_str(&format!("\n  client: {}", describe_client(client)));
    }
    if let Some(warning) = entry.get("warning").and_then(Value::as_str) {
        text.push_str(&format!("\n  warning: {warning}"));
    }
    for reason in entry["reasons"].as_array().into_iter().flatten() {
        text.push_str(&format!("\n  {}", reason.as_str().unwrap_or("")));
    }
    let changes = entry["changes"].as_array();
    if action == "none" {
        text.push_str("\n  no changes");
    }
    if let Some(absent) = entry.get("not_in_export").and_then(Value::as_array) {
        let names: Vec<&str> = absent.iter().filter_map(Value::as_str).collect();
        text.push_str(&format!(
            "\n  not compared (no project in the export carries them): {}",
            names.join(", ")
        ));
    }
    for change in changes.into_iter().flatten() {
        let field = change["field"].as_str().unwrap_or("");
        match change.get("current").filter(|c| !c.is_null()) {
            Some(current) if action == "update" => text.push_str(&format!(
                "\n  ~ {field}: {current} -> {}",
                change["planned"]
            )),
            _ => text.push_str(&format!("\n  + {field} = {}", change["planned"])),
        }
    }
    text
}

/// A project's id for the human form: text as it is, a number as written, nothing when absent.
fn project_id(id: &Value) -> String {
    match id {
        Value::String(text) => format!(" ({text})"),
        Value::Null => String::new(),
        other => format!(" ({other})"),
    }
}

fn describe_client(client: &Value) -> String {
    match client["match"].as_str() {
        Some("existing") => format!(
            "existing client {} ({})",
            client["id"],
            client["name"].as_str().unwrap_or("")
        ),
        Some("new") => format!(
            "no existing client matches {}: a new client would be needed",
            client["name"]
        ),
        _ => format!("ambiguous: {}", client["candidates"]),
    }
}
