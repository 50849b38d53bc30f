//! The fast reading path, behind one narrow interface: [`Reader`].
//!
//! Evaluation (`eval/`) decides what a deal means; this module only makes reading it cheap. A
//! [`Reader`] is compiled once per mapping from the checked program and its schemas:
//! - `plan.rs`: the trie of source paths the program reads, and each path's *slot*;
//! - `shape.rs` (+ `formats.rs`): JSON Schemas compiled into shapes, checked by `conform.rs`
//!   (and `failures.rs`, which locates a value's failures in reading order);
//! - `project.rs` + `walk.rs` + `order.rs`: one pass of serde over a deal's text that validates
//!   every value and keeps only what the plan reads (`skip.rs` passes over the rest, noting
//!   ambiguity; `spares.rs` keeps buffers between deals);
//! - `fields.rs`: target records built field by field in a compiled layout;
//! - `validator.rs`: each record's validator (its shape, or the `jsonschema` crate's).
//!
//! Nothing here decides an outcome or a code: the reader reports what it found (values, schema
//! failures, JSON errors) and evaluation turns that into outcomes. `tests/reading_laws.rs` and
//! `tests/reference_law.rs` hold it to the same results as reading every deal whole.

mod conform;
mod failures;
pub mod fields;
pub mod formats;
mod order;
pub mod plan;
pub mod project;
pub mod shape;
mod skip;
mod spares;
pub mod validator;
mod walk;

use std::sync::Arc;

use serde_json::Value;

pub use fields::{FieldLayout, Fields};
pub use plan::Plan;
pub use project::{ProjectError, Projected, ScratchPool};
pub use shape::{Failure, Shapes};
pub use validator::RecordValidator;

use crate::check::program::{PathStep, Program, RecordRef};
use crate::schema::SchemaSet;
use crate::schema::validate::Violation;

/// A mapping's compiled fast path: plan, shapes, record validators, record layout.
pub struct Reader {
    shapes: Shapes,
    plan: Plan,
    sources: Vec<RecordValidator>,
    names: Vec<String>,
    roots: Vec<Option<shape::ShapeId>>,
    /// True when deals can be read from their text (see [`Reader::reads_text`]).
    streams: bool,
    target: RecordValidator,
    layout: Option<Arc<FieldLayout>>,
    pool: ScratchPool,
}

impl Reader {
    /// Compiles the fast path of `program`, whose schemas `schemas` holds.
    pub fn compile(program: &Program, schemas: &SchemaSet) -> Result<Reader, String> {
        let mut shapes = Shapes::new();
        let sources = program
            .sources
            .iter()
            .map(|s| RecordValidator::build(schemas, &s.schema_path, &mut shapes))
            .collect::<Result<Vec<_>, _>>()?;
        let target = RecordValidator::build(schemas, &program.target_schema_path, &mut shapes)?;
        let layout = record_layout(program, &shapes, &target);
        let roots: Vec<Option<shape::ShapeId>> =
            sources.iter().map(RecordValidator::shape).collect();
        Ok(Reader {
            streams: roots
                .iter()
                .all(|root| root.is_some_and(|root| shapes.streams_object(root))),
            roots,
            names: program.sources.iter().map(|s| s.name.clone()).collect(),
            plan: Plan::of(program),
            shapes,
            sources,
            target,
            layout,
            pool: ScratchPool::default(),
        })
    }

    /// True when every source record has a compiled shape that an object can be checked
    /// against member by member, so deals can be read from their text field by field
    /// ([`Reader::project`]); a record under `anyOf`, `oneOf`, `not` or an enum is checked
    /// whole.
    pub fn reads_text(&self) -> bool {
        self.streams
    }

    /// Reads one deal (a primary record or a bundle) from its JSON text, validating it.
    pub fn project(&self, text: &[u8]) -> Result<Projected, ProjectError> {
        let projector = project::Projector {
            plan: &self.plan,
            shapes: &self.shapes,
            roots: &self.roots,
            names: &self.names,
            pool: &self.pool,
        };
        projector.project(text)
    }

    /// Gives a deal's buffers back for the next deal (optional: dropping it is correct).
    pub fn recycle(&self, projected: Projected) {
        projected.recycle(&self.pool);
    }

    /// Fills `slots` with the values of one deal's planned source fields (see [`Plan::resolve`]).
    pub fn resolve<'v>(
        &self,
        sources: &[Option<&'v Value>],
        owned: &'v [Option<Value>],
        slots: &mut Vec<Option<&'v Value>>,
    ) {
        self.plan.resolve(sources, owned, slots);
    }

    /// The slot of each path, by path id (`None`: read by name).
    pub fn slot_of(&self) -> &[Option<u32>] {
        self.plan.slot_of()
    }

    /// The violations of source record number `index` (at most ten).
    pub fn source_violations(&self, index: usize, record: &Value) -> Vec<Violation> {
        match self.sources.get(index) {
            Some(validator) => validator.violations(&self.shapes, record),
            None => Vec::new(),
        }
    }

    /// The violations of a target record built as a tree (at most ten).
    pub fn target_violations(&self, record: &Value) -> Vec<Violation> {
        self.target.violations(&self.shapes, record)
    }

    /// The violations of a target record built field by field: checked field by field when
    /// that decides it, else as a tree, which says what and where.
    pub fn field_violations(&self, fields: &Fields) -> Vec<Violation> {
        match fields.is_valid(&self.shapes) {
            Some(true) => Vec::new(),
            _ => self.target.violations(&self.shapes, &fields.to_value()),
        }
    }

    /// The layout target records are built in, when the mapping's targets allow one.
    pub fn layout(&self) -> Option<&Arc<FieldLayout>> {
        self.layout.as_ref()
    }

    /// Builds records as JSON trees from now on (to compare the two ways in tests).
    pub fn forget_layout(&mut self) {
        self.layout = None;
    }
}

/// The layout records of `program` are built in (write numbers: the writes' indexes, then the
/// client rule's); none when the targets overlap or a read needs an object the writes build.
fn record_layout(
    program: &Program,
    shapes: &Shapes,
    target: &RecordValidator,
) -> Option<Arc<FieldLayout>> {
    let mut reads: Vec<&[PathStep]> = Vec::new();
    program.for_each_read(&mut |path| {
        if path.record == RecordRef::Target {
            reads.push(&path.steps);
        }
    });
    // The layout's members are created in the order the writes run.
    let mut in_run_order: Vec<(usize, &[String])> = program
        .writes
        .iter()
        .enumerate()
        .map(|(index, w)| (index, w.target.as_slice()))
        .collect();
    if let Some(client) = &program.client {
        let at = client.position.min(in_run_order.len());
        in_run_order.insert(at, (program.writes.len(), client.target.as_slice()));
    }
    FieldLayout::compile(in_run_order, &reads, shapes, target.shape()).map(Arc::new)
}
