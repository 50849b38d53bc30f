//! Never-transfer fields: no map or select may read them, directly, through a table, inside a
//! template, in a select condition, or by copying an object that contains them (M207).

use super::Checker;
use super::paths::Allowed;
use super::program::CPath;
use super::types::Read;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{Item, MappingFile};

impl Checker<'_> {
    /// Resolves every never-transfer path against the source schemas.
    pub(crate) fn resolve_never_transfer(&mut self, ast: &MappingFile) -> Vec<(CPath, Read)> {
        let mut resolved = Vec::new();
        for item in &ast.items {
            let Item::NeverTransfer(block) = item else {
                continue;
            };
            for path in &block.paths {
                if let Some(r) = self.resolve_path(path, Allowed::Source) {
                    resolved.push((r.cpath, r.read));
                }
            }
        }
        resolved
    }

    /// Reports every forward read that touches a never-transfer field.
    pub(crate) fn check_never_transfer(&mut self, protected: &[(CPath, Read)]) {
        let reads = std::mem::take(&mut self.forward_reads);
        for read in &reads {
            for (_, entry) in protected {
                if !read.overlaps(entry.record, &entry.steps) {
                    continue;
                }
                let message = if read.steps.len() < entry.steps.len() {
                    format!(
                        "`{}` is copied whole, and it holds never-transfer field `{}`",
                        read.display, entry.display
                    )
                } else {
                    format!(
                        "`{}` is a never-transfer field, but a rule reads it",
                        read.display
                    )
                };
                self.report(
                    Diagnostic::new(Code::M207, read.span, message, "never-transfer data read here")
                        .with_label(entry.span, "listed under `never transfer` here")
                        .with_help("remove this use: never-transfer fields must not reach the PSA by any route (map, table, template, select or object copy); copy the individual fields that may be shared instead"),
                );
                break;
            }
        }
        self.forward_reads = reads;
    }
}
