//! The one API for running a mapping: load and check it once, then apply it to many deals.
//!
//! Every caller goes through it: `apply` (one thread or `--jobs`), `apply --plan`, `reconcile`,
//! `mapctl test`, the handoff runtime, tests and benchmarks. It decides every apply-time code,
//! including those of input that is not a deal at all (M501, M510, M512), so no caller assigns
//! one; and its records are opaque (JSON with [`Record::to_value`], compact bytes with
//! [`Record::write_compact`]), so no caller sees how the fast path holds them.
//!
//! ```
//! use mapctl::engine::{ClientDirectory, Deal, LoadOptions, Mapping, Outcome};
//! use mapctl::io::files::read_records;
//! # fn main() -> Result<(), String> {
//! let mapping = Mapping::load("mappings/hubspot_to_accelo.map".as_ref(), &LoadOptions::default())
//!     .map_err(|e| e.message())?;
//! let mut clients = ClientDirectory::new(&read_records("mappings/samples/hubspot/accelo_companies.json".as_ref())?)?;
//! let deal = std::fs::read("mappings/samples/hubspot/deal_won.json").map_err(|e| e.to_string())?;
//! let applied = mapping.apply(Deal::Text(&deal), Some(&mut clients));
//! let Outcome::Written { record, .. } = applied.outcome else { return Err("not written".into()) };
//! assert_eq!(record.to_value()["against_id"], 101);
//! # Ok(())
//! # }
//! ```

mod load;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

pub use crate::eval::clients::{Client, ClientDirectory, ClientOutcome, client_key};
pub use crate::eval::record::Record;
pub use crate::eval::{Outcome, Phase, Reason};
pub use load::{LoadError, LoadOptions};

use crate::check::Program;
use crate::diag::Code;
use crate::eval::Runner;
use crate::io::input::{InputItem, ItemError, Payload};

/// A deal to apply a mapping to.
#[derive(Debug, Clone, Copy)]
pub enum Deal<'a> {
    /// Its JSON text (read by the fast path when the schemas allow).
    Text(&'a [u8]),
    /// A document already parsed.
    Value(&'a Value),
}

/// Which way a mapping runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// CRM deals -> PSA records.
    #[default]
    Forward,
    /// PSA records -> the CRM fields `sync back` allows.
    Back,
}

/// What applying a mapping to one deal gave: the deal's id (when it has one that can be read
/// without guessing) and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The primary record's `id` (a bundle's or the deal's own).
    pub deal_id: Option<String>,
    /// Written, skipped or rejected.
    pub outcome: Outcome,
}

/// A checked mapping, compiled for running: immutable once loaded, shareable between threads.
pub struct Mapping {
    runner: Runner,
    path: PathBuf,
    text: Arc<str>,
}

impl Mapping {
    /// Reads and checks the mapping at `path` and compiles it. A mapping with check errors is
    /// refused with its diagnostics ([`LoadError::Invalid`]).
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Mapping, LoadError> {
        load::load(path, options)
    }

    /// Compiles a mapping checked in memory (`output` of the first file of `sources`), for
    /// fuzzing and for tests that check generated mapping text.
    pub fn from_checked(
        sources: crate::source::SourceMap,
        output: crate::check::CheckOutput,
        options: &LoadOptions,
    ) -> Result<Mapping, LoadError> {
        load::from_checked(sources, output, options)
    }

    /// The mapping's name (its `mapping NAME` line).
    pub fn name(&self) -> &str {
        &self.runner.program.name
    }

    /// The mapping file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The mapping file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The checked program (read-only): records, rules, tables, origins.
    pub fn program(&self) -> &Program {
        &self.runner.program
    }

    /// The JSON pointer of the records in each input document, when the primary source declares
    /// a vendor envelope (`source deal = schema "..." in "/results"`).
    pub fn envelope(&self) -> Option<&str> {
        self.runner.program.sources.first()?.envelope.as_deref()
    }

    /// True when the mapping matches clients (`match client`), so applying it forward needs the
    /// PSA's client directory.
    pub fn matches_clients(&self) -> bool {
        self.runner.program.client.is_some()
    }

    /// Applies the mapping forward to one deal. `clients` is the PSA's client directory, for
    /// mappings that match clients; a new client it creates is remembered there.
    pub fn apply(&self, deal: Deal<'_>, clients: Option<&mut ClientDirectory>) -> Applied {
        self.apply_to(deal, clients, Direction::Forward)
    }

    /// Runs the `sync back` rules on one PSA record: the CRM fields they allow, as a patch.
    pub fn sync_back(&self, project: Deal<'_>) -> Applied {
        self.apply_to(project, None, Direction::Back)
    }

    /// Applies the mapping in `direction` to one deal.
    pub fn apply_to(
        &self,
        deal: Deal<'_>,
        clients: Option<&mut ClientDirectory>,
        direction: Direction,
    ) -> Applied {
        let payload = match deal {
            Deal::Text(text) => Payload::Text(text),
            Deal::Value(value) => {
                return self.apply_value(value, clients, direction);
            }
        };
        let (deal_id, outcome) =
            self.runner
                .run_payload(payload, clients, direction == Direction::Back);
        Applied { deal_id, outcome }
    }

    /// Applies the mapping to one item an input reader gave: a deal, or the reason the item is
    /// not one (rejected in the parse phase with its code).
    pub fn apply_item(
        &self,
        item: InputItem<'_>,
        clients: Option<&mut ClientDirectory>,
        direction: Direction,
    ) -> Applied {
        match item.value {
            Ok(Payload::Text(text)) => self.apply_to(Deal::Text(text), clients, direction),
            Ok(Payload::Parsed(value)) => self.apply_value(&value, clients, direction),
            Err(error) => Applied {
                deal_id: None,
                outcome: Outcome::Rejected {
                    phase: Phase::Parse,
                    reasons: vec![Reason::new(
                        unreadable_code(&error),
                        crate::io::input::describe_error(&error),
                    )],
                },
            },
        }
    }

    fn apply_value(
        &self,
        value: &Value,
        clients: Option<&mut ClientDirectory>,
        direction: Direction,
    ) -> Applied {
        let outcome = match direction {
            Direction::Forward => self.runner.run(value, clients),
            Direction::Back => self.runner.run_back(value),
        };
        Applied {
            deal_id: self.runner.deal_id(value),
            outcome,
        }
    }

    /// What no deal applied so far has exercised: require rules that never failed, select
    /// branches never taken, table rows never looked up. One line each, in mapping order.
    pub fn unexercised(&self) -> Vec<String> {
        self.runner.unexercised()
    }

    /// The text values of a deal's never-transfer fields, leaf by leaf (strings of four
    /// characters or more, numbers of four digits or more), for leak checks.
    pub fn protected_values(&self, deal: &Value) -> Vec<String> {
        self.runner.protected_values(deal)
    }

    /// The deal's id: the primary record's `id`, in a bundle or on its own.
    pub fn deal_id(&self, deal: &Value) -> Option<String> {
        self.runner.deal_id(deal)
    }

    /// True when records are built field by field in a compiled layout (the fast path's
    /// concern; for tests that compare it with the general way).
    #[doc(hidden)]
    pub fn builds_records_by_field(&self) -> bool {
        self.runner.builds_records_by_field()
    }

    /// Builds every record as a JSON tree from now on (for tests that compare the two ways).
    #[doc(hidden)]
    pub fn build_records_as_trees(&mut self) {
        self.runner.build_records_as_trees();
    }
}

/// The code of an input item that is not a deal.
fn unreadable_code(error: &ItemError) -> Code {
    match error {
        ItemError::Json(_) => Code::M501,
        ItemError::TooLong { .. } | ItemError::DocumentTooLarge { .. } => Code::M510,
        ItemError::Ambiguous(_) => Code::M512,
        ItemError::Envelope(_) => Code::M522,
    }
}
