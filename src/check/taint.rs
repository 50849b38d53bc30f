//! Never-transfer fields: no map or select may read them, directly, through a table, inside a
//! template, in a select condition, or by copying an object that contains them (M207).

use super::context::Context;
use super::paths::{self, Allowed};
use super::program::CPath;
use super::records::Record;
use super::types::Read;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{Item, MappingFile};

/// Resolves every never-transfer path against the source schemas.
pub(crate) fn protected(
    cx: &mut Context<'_>,
    records: &[Record],
    ast: &MappingFile,
) -> Vec<(CPath, Read)> {
    let mut resolved = Vec::new();
    for item in &ast.items {
        let Item::NeverTransfer(block) = item else {
            continue;
        };
        for path in &block.paths {
            if let Some(r) = paths::resolve(cx, records, path, Allowed::Source) {
                resolved.push((r.cpath, r.read));
            }
        }
    }
    resolved
}

/// Reports every forward read that touches a never-transfer field (M207).
pub(crate) fn pass(cx: &mut Context<'_>, protected: &[(CPath, Read)], forward_reads: &[Read]) {
    for read in forward_reads {
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
            cx.report(
                    Diagnostic::new(Code::M207, read.span, message, "never-transfer data read here")
                        .with_label(entry.span, "listed under `never transfer` here")
                        .with_help("remove this use: never-transfer fields must not reach the PSA by any route (map, table, template, select or object copy); copy the individual fields that may be shared instead"),
                );
            break;
        }
    }
}
