//! The fast engine's known differences from the reference interpreter: each a defect (or an
//! inconsistency) of the fast engine that the law found, with a minimal deal and a repair that
//! rewrites the fast outcome as the fixed engine would give it.
//!
//! The list is empty: the two agree on every deal the law runs. A new difference must be fixed,
//! or listed here with its reason, its minimal deal and its repair until it is
//! (`known_differences_still_differ` then keeps the entry true). The deals of the differences
//! fixed so far are run by `the_fast_engine_and_the_reference_interpreter_agree_on_edge_cases`.

use super::Said;

/// A fast-engine defect the law has found: how to undo it in an outcome, and a minimal deal
/// that shows it.
pub struct Known {
    pub name: &'static str,
    /// Why the fast engine is wrong (or inconsistent) here.
    pub why: &'static str,
    /// The mapping and a minimal deal (JSON text, or bytes) whose outcomes differ this way.
    pub mapping: &'static str,
    pub deal: &'static [u8],
    pub back: bool,
    /// Rewrites the fast outcome as it would be without the defect (the reference's outcome
    /// shows what the fixed engine would say); true when it changed something.
    pub repair: fn(fast: &mut Said, reference: &Said) -> bool,
}

pub const KNOWN: &[Known] = &[];
