//! Syntax: mapping text -> typed AST with spans. Never sees a schema.
//!
//! [`parse`] first measures the text against the limits (size, nesting depth), then parses it one
//! top-level item at a time with the pest grammar in `grammar/mapping.pest`. When an item fails to
//! parse, the error becomes a diagnostic and parsing resumes at the next line that starts a new
//! item, so one typo does not hide every other problem; inside a block, `recover.rs` parses the
//! statements after a failing one again on their own, so neither does one typo in a block.
//! Parse trees are lowered into the AST in `lower.rs`; pest types never leave this module. For tools, `find.rs` finds the node at a
//! position, `names.rs` every use of a record or table name, and `partial.rs` re-parses the item
//! being typed as if the text ended at the cursor.

pub mod ast;
mod errors;
pub mod find;
pub mod format;
mod limits;
mod lower;
pub mod names;
mod parser;
pub mod partial;
mod recover;

pub use limits::Limits;
pub use parser::{KEYWORDS, TOP_LEVEL_KEYWORDS, parse, parse_call, string_spans};
