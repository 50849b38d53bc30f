//! Operations around the handoff that watch it from the data: the run log `apply` appends
//! ([`runlog`]), the silent-break alarm over it ([`monitor`]), and the comparison of what the
//! mapping would write with what the PSA holds ([`compare`]: the key that pairs a deal with its
//! project, field-by-field differences), used by `mapctl reconcile` and `apply --plan`; and the
//! mapping lines a change between two versions of a schema breaks ([`drift`], for
//! `mapctl schema diff`). Nothing here prints; `cli` renders the results.

pub mod back;
pub mod compare;
pub mod drift;
pub mod monitor;
pub mod reconcile;
pub mod runlog;
