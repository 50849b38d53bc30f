//! What the deals run so far have exercised (for `mapctl test --require-coverage`): require
//! rules that failed, select branches taken, table rows looked up.

use std::sync::atomic::{AtomicBool, Ordering};

use super::run::Runner;
use crate::check::program::{Program, WriteKind};

/// What the deals run so far have exercised: requirements that failed, select branches taken.
/// Atomic flags, so an engine stays shareable between threads.
#[derive(Debug)]
pub(super) struct Coverage {
    pub(super) requirements: Vec<AtomicBool>,
    pub(super) branches: Vec<Vec<AtomicBool>>,
}

impl Coverage {
    pub(super) fn new(program: &Program) -> Coverage {
        let flags = |n: usize| (0..n).map(|_| AtomicBool::new(false)).collect::<Vec<_>>();
        Coverage {
            requirements: flags(program.requirements.len()),
            branches: program
                .writes
                .iter()
                .map(|w| match &w.kind {
                    WriteKind::Select { arms, otherwise } => {
                        flags(arms.len() + usize::from(otherwise.is_some()))
                    }
                    WriteKind::Map(_) => Vec::new(),
                })
                .collect(),
        }
    }
}

impl Runner {
    /// What no deal run so far has exercised: requirements that never failed, select branches
    /// never taken, table rows never looked up. One line each, in mapping order.
    pub fn unexercised(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (requirement, failed) in self
            .program
            .requirements
            .iter()
            .zip(&self.coverage.requirements)
        {
            if !failed.load(Ordering::Relaxed) {
                lines.push(format!(
                    "line {}: require rule never failed: {}",
                    requirement.origin.line, requirement.origin.text
                ));
            }
        }
        for (write, taken) in self.program.writes.iter().zip(&self.coverage.branches) {
            let WriteKind::Select { arms, otherwise } = &write.kind else {
                continue;
            };
            let origins = arms
                .iter()
                .map(|(_, _, o)| o)
                .chain(otherwise.iter().map(|(_, o)| o));
            for (origin, flag) in origins.zip(taken) {
                if !flag.load(Ordering::Relaxed) {
                    lines.push(format!(
                        "line {}: select branch never taken: {}",
                        origin.line, origin.text
                    ));
                }
            }
        }
        for table in &self.program.tables {
            for key in table.unused_rows() {
                lines.push(format!("table `{}`: row {key} never used", table.name));
            }
        }
        lines
    }
}
