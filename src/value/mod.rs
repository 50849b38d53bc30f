//! The data model shared by the checker and the evaluator: static value [`Kinds`], runtime
//! values ([`Val`]), and paths on JSON values ([`path`]).

pub mod equal;
mod kinds;
pub mod number;
pub mod path;
mod val;

pub use equal::json_equal;
pub use kinds::Kinds;
pub use val::Val;

/// Objects up to this many members are searched key by key: cheaper than hashing the name
/// (`serde_json`'s maps hash with SipHash).
pub const SCAN_LIMIT: usize = 12;

/// The member `name` of a JSON object: scanned when small, hashed when large.
pub fn member<'a>(
    map: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'a serde_json::Value> {
    if map.len() <= SCAN_LIMIT {
        map.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    } else {
        map.get(name)
    }
}
