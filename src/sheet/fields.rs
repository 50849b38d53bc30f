//! The fields a record's schema declares, walked as the checker resolves paths
//! ([`check::Query`](crate::check::Query)), and which of them a program reads or writes.

use std::rc::Rc;

use crate::check::{CheckOutput, Query};
use crate::schema::{Flat, Flattener};

/// Deepest object nesting walked (schemas nest far less; the bound keeps cycles finite).
const MAX_DEPTH: usize = 8;

/// A field a schema declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaField {
    /// The path from the record's name (`job.budget`), array steps left out.
    pub path: String,
    /// True when every object on the way requires it.
    pub required: bool,
}

/// The leaf fields of the record named `record` (objects without declared members are leaves;
/// arrays are walked into their items), in schema order. Empty when its schema did not load.
pub fn leaves(output: &CheckOutput, record: &str) -> Vec<SchemaField> {
    let flattener = Flattener::new();
    let query = Query::new(output, &flattener);
    let Some(root) = query.record(record).and_then(|r| r.root) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let flat = flattener.node(&output.schemas, root);
    let walker = Walker {
        query: &query,
        output,
        flattener: &flattener,
    };
    walker.walk(&flat, record, true, 0, &mut found);
    found
}

struct Walker<'a> {
    query: &'a Query<'a>,
    output: &'a CheckOutput,
    flattener: &'a Flattener,
}

impl Walker<'_> {
    fn walk(
        &self,
        flat: &Rc<Flat>,
        prefix: &str,
        required: bool,
        depth: usize,
        found: &mut Vec<SchemaField>,
    ) {
        let members = self.query.members(&self.items_of(flat));
        if members.named.is_empty() || depth >= MAX_DEPTH {
            found.push(SchemaField {
                path: prefix.to_string(),
                required,
            });
            return;
        }
        for member in members.named {
            let path = format!("{prefix}.{}", member.name);
            self.walk(
                &member.flat,
                &path,
                required && member.required,
                depth + 1,
                found,
            );
        }
    }

    /// The schema of an array's items (nested arrays too), or the schema itself.
    fn items_of(&self, flat: &Rc<Flat>) -> Rc<Flat> {
        let mut current = flat.clone();
        for _ in 0..MAX_DEPTH {
            if !current.properties.is_empty() {
                break;
            }
            let Some(items) = &current.items else { break };
            current = self.flattener.dnf(&self.output.schemas, items);
        }
        current
    }
}

/// A path as written in a mapping, without its array steps (`[0]`, `[key == "x"]`), so that it
/// compares with [`SchemaField::path`].
pub fn without_index(display: &str) -> String {
    let mut out = String::with_capacity(display.len());
    let mut depth = 0usize;
    for c in display.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// True when reading or writing `used` touches the field `field`: the same path, a path inside
/// it, or a whole object that contains it.
pub fn touches(used: &str, field: &str) -> bool {
    used == field
        || field
            .strip_prefix(used)
            .is_some_and(|rest| rest.starts_with('.'))
        || used
            .strip_prefix(field)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_steps_are_left_out_and_touching_is_by_whole_segments() {
        assert_eq!(
            without_index("deal.associations.companies.results[0].id"),
            "deal.associations.companies.results.id"
        );
        assert_eq!(without_index("deal.x[key == \"a\"].y"), "deal.x.y");
        assert!(touches("deal.properties", "deal.properties.amount"));
        assert!(touches("deal.properties.amount", "deal.properties.amount"));
        assert!(!touches(
            "deal.properties.amount",
            "deal.properties.amount_home"
        ));
        assert!(!touches(
            "deal.properties.amount_home",
            "deal.properties.amount"
        ));
    }
}
