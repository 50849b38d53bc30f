//! Reconciliation of a CRM deal export with a PSA project export: won deals without a project,
//! projects whose mapped facts drifted from their deal, several projects for one deal, and one
//! company held as several clients.
//!
//! Each deal runs through the mapping as `apply` would; the record it would write is paired with
//! the export's project by the key field and compared field by field. Fields the PSA owns (those
//! `sync back` reads) and fields the export does not carry at all are not compared.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::compare::{self, Change, ExportFields, KeyField, ProjectIndex};
use crate::engine::{ClientOutcome, Outcome, client_key};

/// Where a deal was in the deal export.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DealRef {
    /// The deal's id.
    pub deal_id: Option<String>,
    /// Its position: `line 3` or `element 2`.
    pub position: String,
}

/// A won deal without a project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Missing {
    /// The deal.
    #[serde(flatten)]
    pub deal: DealRef,
    /// The key its project would have.
    pub key: String,
}

/// A won deal the mapping rejects: it has no project until the CRM data is fixed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmappable {
    /// The deal.
    #[serde(flatten)]
    pub deal: DealRef,
    /// The rejection codes.
    pub codes: Vec<String>,
    /// The reasons, for people.
    pub reasons: Vec<String>,
}

/// A project whose mapped facts differ from its deal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    /// The deal.
    #[serde(flatten)]
    pub deal: DealRef,
    /// The key shared by deal and project.
    pub key: String,
    /// The project's position in the project export (counted from 1).
    pub project: usize,
    /// The project's `id`, when it has one.
    pub project_id: Option<Value>,
    /// The differing fields: `planned` is what the deal says, `current` what the PSA holds.
    pub changes: Vec<Change>,
}

/// Several projects for one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateProjects {
    /// The key.
    pub key: String,
    /// Their positions in the project export (counted from 1).
    pub projects: Vec<usize>,
}

/// One company held as several PSA clients.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateClients {
    /// The normalised company name they share.
    pub company: String,
    /// Each client id with the deals whose projects use it.
    pub clients: Vec<ClientUse>,
}

/// One client id and the deals whose projects point at it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientUse {
    /// The client's id in the PSA.
    pub client_id: Value,
    /// The company names the deals give.
    pub names: Vec<String>,
    /// The deals.
    pub deal_ids: Vec<String>,
}

/// What reconciliation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reconciliation {
    /// The key field.
    pub key: String,
    /// Deals read.
    pub deals: usize,
    /// Deals at a trigger stage.
    pub won: usize,
    /// Projects in the export.
    pub projects: usize,
    /// Won deals without a project.
    pub missing: Vec<Missing>,
    /// Won deals the mapping rejects.
    pub unmappable: Vec<Unmappable>,
    /// Projects that drifted.
    pub drifted: Vec<Drift>,
    /// Keys with several projects.
    pub duplicate_projects: Vec<DuplicateProjects>,
    /// Companies held as several clients.
    pub duplicate_clients: Vec<DuplicateClients>,
    /// Mapped fields no project in the export carries (not compared).
    pub not_in_export: Vec<String>,
    /// Fields the PSA owns (not compared).
    pub psa_owned: Vec<String>,
    /// Deals that could not be read (not JSON, ambiguous, too long): counted here, never won.
    pub unreadable: usize,
    /// Where the first unreadable deals are, with why (at most 5).
    pub unreadable_at: Vec<String>,
}

impl Reconciliation {
    /// True when anything needs a human.
    pub fn has_findings(&self) -> bool {
        !(self.missing.is_empty()
            && self.unmappable.is_empty()
            && self.drifted.is_empty()
            && self.duplicate_projects.is_empty()
            && self.duplicate_clients.is_empty()
            && self.unreadable == 0)
    }
}

/// Collects deal outcomes, then compares them with the projects.
pub struct Reconciler {
    key: KeyField,
    owned: Vec<Vec<String>>,
    client_field: Option<Vec<String>>,
    index: ProjectIndex,
    export_fields: ExportFields,
    not_in_export: BTreeSet<String>,
    companies: BTreeMap<String, BTreeMap<String, ClientUse>>,
    result: Reconciliation,
}

impl Reconciler {
    /// Starts a reconciliation of deals against `projects`.
    pub fn new(program: &crate::check::Program, key: KeyField, projects: Vec<Value>) -> Reconciler {
        let owned = compare::psa_owned(program);
        let result = Reconciliation {
            key: key.display.clone(),
            deals: 0,
            won: 0,
            projects: projects.len(),
            missing: Vec::new(),
            unmappable: Vec::new(),
            drifted: Vec::new(),
            duplicate_projects: Vec::new(),
            duplicate_clients: Vec::new(),
            not_in_export: Vec::new(),
            psa_owned: owned
                .iter()
                .map(|p| format!("{}.{}", program.target_name, p.join(".")))
                .collect(),
            unreadable: 0,
            unreadable_at: Vec::new(),
        };
        Reconciler {
            export_fields: ExportFields::new(&projects),
            index: ProjectIndex::new(projects, &key),
            key,
            owned,
            client_field: program.client.as_ref().map(|c| c.target.clone()),
            not_in_export: BTreeSet::new(),
            companies: BTreeMap::new(),
            result,
        }
    }

    /// Records one deal's outcome.
    pub fn add(&mut self, deal: DealRef, outcome: Outcome) {
        self.result.deals += 1;
        match outcome {
            Outcome::Written { record, client, .. } => {
                self.result.won += 1;
                let record = record.into_value();
                let Some(key) = compare::key_of(&record, &self.key) else {
                    return;
                };
                let company = client.as_ref().and_then(company_of);
                self.compare(deal, key, &record, company);
            }
            Outcome::Skipped(_) => {}
            Outcome::Rejected { phase, reasons } => {
                use crate::engine::Phase;
                match phase {
                    Phase::Parse => {
                        self.result.unreadable += 1;
                        if self.result.unreadable_at.len() < 5 {
                            let why = reasons.first().map_or(String::new(), |r| r.message.clone());
                            self.result
                                .unreadable_at
                                .push(format!("{}: {why}", deal.position));
                        }
                    }
                    Phase::Join | Phase::ValidateSource | Phase::Trigger => {}
                    _ => {
                        self.result.won += 1;
                        self.result.unmappable.push(Unmappable {
                            deal,
                            codes: reasons
                                .iter()
                                .map(|r| r.code.as_str().to_string())
                                .collect(),
                            reasons: reasons.iter().map(|r| r.message.clone()).collect(),
                        });
                    }
                }
            }
        }
    }

    /// Pairs one won deal's record with its project and notes what differs.
    fn compare(
        &mut self,
        deal: DealRef,
        key: String,
        record: &Value,
        company: Option<(String, String)>,
    ) {
        let Some(&position) = self.index.find(&key).first() else {
            self.result.missing.push(Missing { deal, key });
            return;
        };
        let absent = self.export_fields.absent_leaves(record);
        let mut ignored = self.owned.clone();
        ignored.extend(
            absent
                .iter()
                .map(|f| f.split('.').map(str::to_string).collect()),
        );
        self.not_in_export.extend(absent);
        let project = &self.index.projects[position];
        let changes = compare::changes(record, project, &ignored);
        let project_id = project.get("id").cloned();
        if let Some(company) = company {
            self.note_client(position, &deal, company);
        }
        if !changes.is_empty() {
            self.result.drifted.push(Drift {
                deal,
                key,
                project: position + 1,
                project_id,
                changes,
            });
        }
    }

    /// The findings, once every deal was added.
    pub fn finish(mut self) -> Reconciliation {
        self.result.duplicate_projects = self
            .index
            .duplicates()
            .into_iter()
            .map(|(key, positions)| DuplicateProjects {
                key: key.to_string(),
                projects: positions.iter().map(|p| p + 1).collect(),
            })
            .collect();
        self.result.duplicate_clients = std::mem::take(&mut self.companies)
            .into_iter()
            .filter(|(_, clients)| clients.len() > 1)
            .map(|(company, clients)| DuplicateClients {
                company,
                clients: clients.into_values().collect(),
            })
            .collect();
        self.result.not_in_export = std::mem::take(&mut self.not_in_export)
            .into_iter()
            .collect();
        self.result
    }

    /// Remembers which client the project of a deal's company uses.
    fn note_client(&mut self, position: usize, deal: &DealRef, company: (String, String)) {
        let Some(field) = &self.client_field else {
            return;
        };
        let project = &self.index.projects[position];
        let Some(id) = field.iter().try_fold(project, |v, f| v.get(f)) else {
            return;
        };
        if id.is_null() {
            return;
        }
        let (company, name) = company;
        let entry = self
            .companies
            .entry(company)
            .or_default()
            .entry(id.to_string())
            .or_insert_with(|| ClientUse {
                client_id: id.clone(),
                names: Vec::new(),
                deal_ids: Vec::new(),
            });
        if !entry.names.contains(&name) {
            entry.names.push(name);
        }
        if let Some(deal) = &deal.deal_id {
            entry.deal_ids.push(deal.clone());
        }
    }
}

/// The normalised company and the name as the deal gives it.
fn company_of(client: &ClientOutcome) -> Option<(String, String)> {
    match client {
        ClientOutcome::Existing(c) => Some((client_key(&c.name), c.name.clone())),
        ClientOutcome::New { name, key, .. } => Some((key.clone(), name.clone())),
        ClientOutcome::Ambiguous(_) => None,
    }
}
