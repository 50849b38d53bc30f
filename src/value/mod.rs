//! The data model shared by the checker and the evaluator: static value [`Kinds`] and runtime
//! values ([`Val`]).

mod kinds;
mod val;

pub use kinds::Kinds;
pub use val::Val;
