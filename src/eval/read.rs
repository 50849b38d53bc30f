//! Reading resolved paths from the records of one deal.

use serde_json::Value;

use crate::check::program::{CPath, RecordRef};
pub use crate::value::json_equal;
pub use crate::value::member;
pub use crate::value::path::{read_steps, remove_at, write_at, write_at_steps};

/// The records one deal is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    /// Source records in declaration order; `None` when a related record is missing.
    pub sources: &'a [Option<&'a Value>],
    /// The target record built so far.
    pub target: Target<'a>,
    /// The deal's planned source fields by slot (`Plan::resolve`); empty when not resolved, and
    /// paths are then read by name.
    pub slots: &'a [Option<&'a Value>],
    /// The slot of each path, by path id (`Plan::slot_of`); empty when `slots` is.
    pub slot_of: &'a [Option<u32>],
}

impl<'a> Records<'a> {
    /// Records whose paths are read by name.
    pub fn by_name(sources: &'a [Option<&'a Value>], target: Target<'a>) -> Records<'a> {
        Records {
            sources,
            target,
            slots: &[],
            slot_of: &[],
        }
    }

    /// The value at `path`, or `None` when any step finds nothing.
    pub fn read(&self, path: &CPath) -> Option<&'a Value> {
        if let Some(Some(slot)) = self.slot_of.get(path.id.index())
            && let Some(found) = self.slots.get(*slot as usize)
        {
            return *found;
        }
        let root = match path.record {
            RecordRef::Source(index) => (*self.sources.get(index)?)?,
            RecordRef::Target => match self.target {
                Target::Json(tree) => tree,
                Target::Record(record) => return record.get(&path.steps),
            },
        };
        read_steps(root, &path.steps)
    }
}

/// The target record expressions read: a JSON tree, or the record being built.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A JSON tree (a PSA record read by `sync back`, or nothing).
    Json(&'a Value),
    /// The record the writes build.
    Record(&'a super::record::Record),
}
