//! Schemas: loading JSON Schema files (JSON or YAML) and answering the checker's questions.
//!
//! `load.rs` reads files under the path policy and validates them against their meta-schema
//! (`verdicts.rs` remembers which files were found valid, for `mapctl check`);
//! `model.rs` compiles them into an arena of nodes with `$ref`s resolved; `flat.rs` folds the
//! combinators into effective constraints; `labels.rs` reads the labels an import gives a
//! field's values and says what a literal names with them; `locate.rs` finds a JSON pointer in
//! a file so that diagnostics can point into the schema; `validate.rs` builds offline
//! `jsonschema` validators and `violations.rs` says their findings in mapctl's words. Nothing
//! here knows about mappings.

pub mod bounds;
pub mod diff;
pub mod flat;
pub mod import;
pub mod labels;
pub mod load;
pub mod locate;
pub mod model;
pub mod resources;
pub mod validate;
pub mod verdicts;
pub mod violations;

pub use flat::{Additional, Dnf, Flat, Flattener};
pub use model::{LoadContext, Node, NodeId, SchemaSet};
pub use verdicts::{MetaCheck, Verdicts};
