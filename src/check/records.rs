//! Records: loading each declared record's schema, and checking `join on` clauses.

use super::paths::Allowed;
use super::program::{JoinKey, RecordRef, SourceRecord};
use super::{Checker, RecordInfo};
use crate::diag::{Code, Diagnostic};
use crate::schema::LoadContext;
use crate::syntax::ast::{Item, MappingFile, RecordDecl};
use crate::value::Kinds;

impl Checker<'_> {
    /// Declares every record and loads its schema.
    pub(crate) fn load_records(&mut self, ast: &MappingFile) {
        let mut source_count = 0;
        let mut has_target = false;
        for item in &ast.items {
            let (decl, role) = match item {
                Item::Source(decl) => {
                    source_count += 1;
                    (decl, RecordRef::Source(source_count - 1))
                }
                Item::Target(decl) if !has_target => {
                    has_target = true;
                    (decl, RecordRef::Target)
                }
                _ => continue,
            };
            if let Some(first) = self.records.iter().find(|r| r.name == decl.name.name) {
                let first_span = first.name_span;
                self.report(
                    Diagnostic::new(
                        Code::M106,
                        decl.name.span,
                        format!("record `{}` is declared twice", decl.name.name),
                        "second declaration",
                    )
                    .with_label(first_span, "first declared here")
                    .with_help("give each record its own name, e.g. `deal`, `company`, `owner`"),
                );
                if let RecordRef::Source(_) = role {
                    source_count -= 1;
                }
                continue;
            }
            self.declare_record(decl, role);
        }
        for item in &ast.items {
            if let Item::Source(decl) = item
                && let Some(join) = &decl.join
            {
                self.check_join(decl, join);
            }
        }
    }

    fn declare_record(&mut self, decl: &RecordDecl, role: RecordRef) {
        let mut context = LoadContext {
            sources: self.sources,
            diagnostics: &mut self.diagnostics,
        };
        let root = self.schemas.load_root(
            &mut context,
            &self.base_dir,
            &decl.schema.value,
            decl.schema.span,
        );
        let schema_path = crate::io::files::normalise(&self.base_dir.join(&decl.schema.value));
        self.records.push(RecordInfo {
            name: decl.name.name.clone(),
            role,
            root,
            name_span: decl.name.span,
            schema_path,
            join: None,
        });
    }

    fn check_join(&mut self, decl: &RecordDecl, join: &crate::syntax::ast::Join) {
        let Some(index) = self.records.iter().position(|r| r.name == decl.name.name) else {
            return;
        };
        if join.key.root.name != decl.name.name {
            self.report(
                Diagnostic::new(
                    Code::M211,
                    join.key.root.span,
                    format!(
                        "the left side of the join must be a field of `{}`",
                        decl.name.name
                    ),
                    format!("`{}` is not the record being joined", join.key.root.name),
                )
                .with_help(if join.equals.root.name == decl.name.name {
                    format!(
                        "swap the sides: `join on {} == {}`",
                        join.equals.display(),
                        join.key.display()
                    )
                } else {
                    format!(
                        "the left side is the key inside `{}`, e.g. `join on {}.id == {}`",
                        decl.name.name,
                        decl.name.name,
                        join.equals.display()
                    )
                }),
            );
            return;
        }
        if join.equals.root.name == decl.name.name {
            self.report(
                Diagnostic::new(
                    Code::M211,
                    join.equals.root.span,
                    "a record cannot be joined on itself",
                    "must be another source record",
                )
                .with_help("the right side names the field of an earlier source (usually the deal) that holds the key"),
            );
            return;
        }
        let key = self.resolve_path(&join.key, Allowed::Source);
        let equals = self.resolve_path(&join.equals, Allowed::Source);
        let (Some(key), Some(equals)) = (key, equals) else {
            return;
        };
        let scalar = Kinds::STRING.or(Kinds::NUMBER).or(Kinds::BOOL);
        let (left, right) = (key.flat.kinds.and(scalar), equals.flat.kinds.and(scalar));
        let both_numbers = left.intersects(Kinds::NUMBER) && right.intersects(Kinds::NUMBER);
        if !(left.intersects(right) || both_numbers) {
            self.report(
                Diagnostic::new(
                    Code::M211,
                    join.span,
                    format!(
                        "join compares `{}` ({}) with `{}` ({})",
                        key.cpath.display,
                        key.flat.kinds.a(),
                        equals.cpath.display,
                        equals.flat.kinds.a()
                    ),
                    "the two keys can never be equal",
                )
                .with_help(
                    "join on fields of the same type (both ids as strings, or both as numbers)",
                ),
            );
            return;
        }
        self.records[index].join = Some(JoinKey {
            key: key.cpath,
            equals: equals.cpath,
        });
    }

    /// The program's source records, in declaration order.
    pub(crate) fn source_records(&self, _ast: &MappingFile) -> Vec<SourceRecord> {
        self.records
            .iter()
            .filter(|r| matches!(r.role, RecordRef::Source(_)))
            .map(|r| SourceRecord {
                name: r.name.clone(),
                schema_path: r.schema_path.clone(),
                join: r.join.clone(),
            })
            .collect()
    }
}
