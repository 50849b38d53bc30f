//! Asking the checker about paths, for tools (the language server's hover, completion and go to
//! definition): what a path leads to, and which members an object accepts. Paths are resolved
//! with `paths::step`, the same function `check` uses, so a tool and the checker never disagree
//! about a field (a key of an `additionalProperties` dictionary included).

use std::rc::Rc;

use super::CheckOutput;
use super::paths::step;
use super::records::Record;
use crate::schema::labels::ValueLabels;
use crate::schema::{Additional, Flat, Flattener, SchemaSet};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::Path;
use crate::value::Kinds;

/// Path questions about one checked mapping.
pub struct Query<'a> {
    schemas: &'a SchemaSet,
    flattener: &'a Flattener,
    records: &'a [Record],
}

/// What a path leads to.
#[derive(Debug, Clone)]
pub struct FieldSchema {
    /// The effective schema at the end of the path.
    pub flat: Rc<Flat>,
    /// True when the last step names a field its parent requires (true for a record itself).
    pub required: bool,
}

/// The members an object accepts.
#[derive(Debug, Clone, Default)]
pub struct Members {
    /// The fields its schema declares, in schema order.
    pub named: Vec<Member>,
    /// The schema of any other key, when the object is a dictionary (it declares no properties
    /// and `additionalProperties` allows them); `None` when only the named fields are accepted.
    pub other: Option<Rc<Flat>>,
}

/// A declared field of an object.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its name.
    pub name: String,
    /// Its effective schema.
    pub flat: Rc<Flat>,
    /// True when the object requires it.
    pub required: bool,
}

impl<'a> Query<'a> {
    /// Questions about `output`'s records, flattening schemas with `flattener` (a tool keeps its
    /// own, so that answers stay cached between questions).
    pub fn new(output: &'a CheckOutput, flattener: &'a Flattener) -> Query<'a> {
        Query {
            schemas: &output.schemas,
            flattener,
            records: &output.records,
        }
    }

    /// The record named `name`.
    pub fn record(&self, name: &str) -> Option<&'a Record> {
        self.records.iter().find(|r| r.name == name)
    }

    /// What the record name and the first `count` segments of `path` lead to; `None` when the
    /// record is unknown, its schema did not load, or a step does not resolve.
    pub fn field(&self, path: &Path, count: usize) -> Option<FieldSchema> {
        let root = self.record(&path.root.name)?.root?;
        let mut field = FieldSchema {
            flat: self.flattener.node(self.schemas, root),
            required: true,
        };
        for segment in path.segments.iter().take(count) {
            let next = step(self.schemas, self.flattener, &field.flat, segment).ok()?;
            field = FieldSchema {
                flat: next.flat,
                required: next.required,
            };
        }
        Some(field)
    }

    /// The members an object with schema `flat` accepts, as the checker accepts them.
    pub fn members(&self, flat: &Flat) -> Members {
        if !flat.kinds.intersects(Kinds::OBJECT) {
            return Members::default();
        }
        let named = flat
            .properties
            .iter()
            .map(|(name, dnf)| Member {
                name: name.clone(),
                flat: self.flattener.dnf(self.schemas, dnf),
                required: flat.required.contains(name),
            })
            .collect();
        let other = match (&flat.additional, flat.properties.is_empty()) {
            (Additional::Any, true) => Some(Rc::new(Flat::any())),
            (Additional::Typed(dnf), true) => Some(self.flattener.dnf(self.schemas, dnf)),
            _ => None,
        };
        Members { named, other }
    }

    /// The values a field lists, with the labels and pipelines its schema gives them
    /// (`x-mapctl-labels`, `x-mapctl-pipelines`), when it lists any: what a hover can show next
    /// to each id, and what a completion can offer (a label is accepted where the id is, see
    /// `docs/language.md#labels`).
    pub fn labels(&self, flat: &Flat) -> Option<ValueLabels> {
        ValueLabels::of(self.schemas, flat)
    }

    /// Where a schema is written (its first origin), when it comes from a file.
    pub fn declaration(&self, sources: &SourceMap, flat: &Flat) -> Option<Span> {
        self.schemas.span_of(sources, *flat.origin.first()?)
    }
}
