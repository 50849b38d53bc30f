//! The diagnostic budget: how many diagnostics a run shows (`mapctl check --max-diagnostics`),
//! and exact counts of the ones it leaves out, so that a mapping with 100,000 problems prints a
//! screenful and a summary instead of megabytes, in every format.

use super::{Diagnostic, Severity};

/// Diagnostics shown by default.
pub const DEFAULT_MAX_DIAGNOSTICS: usize = 100;

/// Counts of diagnostics, by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
}

impl Counts {
    /// The counts of `diagnostics`.
    pub fn of<'d>(diagnostics: impl IntoIterator<Item = &'d Diagnostic>) -> Counts {
        let mut counts = Counts::default();
        for d in diagnostics {
            match d.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
            }
        }
        counts
    }

    /// Errors and warnings together.
    pub fn total(self) -> usize {
        self.errors + self.warnings
    }
}

/// How many diagnostics of each file a run shows, in file order, under one budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// For each file, how many of its first diagnostics are shown.
    pub per_file: Vec<usize>,
    /// Every diagnostic found.
    pub found: Counts,
    /// The ones not shown.
    pub omitted: Counts,
}

impl Shown {
    /// Splits the diagnostics of each file (in order) into shown and omitted, showing at most
    /// `max` in all (`0`: no limit).
    pub fn split(files: &[&[Diagnostic]], max: usize) -> Shown {
        let mut left = if max == 0 { usize::MAX } else { max };
        let mut per_file = Vec::with_capacity(files.len());
        let mut omitted = Counts::default();
        for diagnostics in files {
            let shown = diagnostics.len().min(left);
            left -= shown;
            per_file.push(shown);
            let rest = Counts::of(&diagnostics[shown..]);
            omitted.errors += rest.errors;
            omitted.warnings += rest.warnings;
        }
        Shown {
            per_file,
            found: Counts::of(files.iter().flat_map(|d| d.iter())),
            omitted,
        }
    }

    /// The line said after the shown diagnostics when some were left out, e.g.
    /// `... and 7,900 more (7,900 errors, 0 warnings) not shown; --max-diagnostics 0 shows all`.
    pub fn omitted_line(&self) -> Option<String> {
        (self.omitted.total() > 0).then(|| {
            format!(
                "... and {} more ({} errors, {} warnings) not shown; `--max-diagnostics 0` shows all",
                self.omitted.total(),
                self.omitted.errors,
                self.omitted.warnings
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use crate::source::{FileId, Span};

    fn diagnostics(errors: usize, warnings: usize) -> Vec<Diagnostic> {
        let at = Span::new(FileId(0), 0, 0);
        let error = Diagnostic::new(Code::M302, at, "twice", "here");
        let warning = Diagnostic::new(Code::M405, at, "unused", "here");
        let mut out = vec![error; errors];
        out.extend(vec![warning; warnings]);
        out
    }

    #[test]
    fn the_budget_spans_files_in_order_and_counts_what_it_leaves_out() {
        let a = diagnostics(3, 1);
        let b = diagnostics(2, 2);
        let shown = Shown::split(&[&a, &b], 5);
        assert_eq!(shown.per_file, [4, 1]);
        assert_eq!(
            shown.found,
            Counts {
                errors: 5,
                warnings: 3
            }
        );
        assert_eq!(
            shown.omitted,
            Counts {
                errors: 1,
                warnings: 2
            }
        );
        assert!(shown.omitted_line().is_some_and(|l| l.contains("3 more")));
        let all = Shown::split(&[&a, &b], 0);
        assert_eq!(all.per_file, [4, 4]);
        assert_eq!(all.omitted_line(), None);
    }
}
