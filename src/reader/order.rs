//! The member order last seen in each kind of object, so that the next deal's keys are
//! resolved by one string comparison each.

use super::shape::ShapeId;

/// What the walk needs to know about one member of an object: where it goes in the plan, the
/// shape it must satisfy (`None`: anything).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct MemberInfo {
    pub(super) plan: Option<usize>,
    pub(super) shape: Option<ShapeId>,
}

/// The member order last seen in one kind of object, with what each member resolved to.
///
/// CRM exports write every deal's keys in the same order, so the next deal's `n`th key is
/// compared with the `n`th (or, when a key is missing, the next) key remembered: one string
/// comparison instead of a lookup in the plan and one in the schema. A key that does not match
/// is resolved by lookups, as without the layout; the layout only remembers answers.
#[derive(Debug, Default)]
pub(super) struct MemberOrder {
    members: Vec<(Box<str>, MemberInfo)>,
    /// True until the first object of this kind has been read whole.
    learning: bool,
    /// Objects in a row with at least one key resolved by lookup; many mean a new export order.
    missed_objects: u32,
}

/// Objects in a row that miss the remembered layout before it is learned again.
const RELEARN_AFTER: u32 = 16;

/// The member orders of one reader's deals; an object kind (plan node, object shape) is looked
/// up once per object, its members by position.
#[derive(Debug, Default)]
pub(super) struct MemberOrders {
    index: rustc_hash::FxHashMap<(usize, usize), usize>,
    pub(super) list: Vec<MemberOrder>,
}

impl MemberOrders {
    pub(super) fn index_of(&mut self, kind: (usize, usize)) -> usize {
        let next = self.list.len();
        let index = *self.index.entry(kind).or_insert(next);
        if index == next {
            self.list.push(MemberOrder {
                learning: true,
                ..MemberOrder::default()
            });
        }
        index
    }
}

/// Most members a layout remembers (positions are tracked in a 64-bit mask).
pub(super) const MAX_ORDER: usize = 64;

impl MemberOrder {
    /// The remembered answer for `key` at `cursor` (or one further, when a key was left out),
    /// with its position.
    pub(super) fn recall(&self, cursor: &mut usize, key: &str) -> Option<(usize, MemberInfo)> {
        for ahead in 0..2 {
            let position = *cursor + ahead;
            match self.members.get(position) {
                Some((known, info)) if **known == *key => {
                    *cursor = position + 1;
                    return Some((position, *info));
                }
                Some(_) => {}
                None => return None,
            }
        }
        None
    }

    /// True when `key` is one of the members at the positions set in `positions`.
    pub(super) fn holds(&self, positions: u64, key: &str) -> bool {
        self.members
            .iter()
            .enumerate()
            .any(|(position, (known, _))| positions & (1 << position) != 0 && **known == *key)
    }

    pub(super) fn learn(&mut self, cursor: &mut usize, key: &str, info: MemberInfo) {
        if self.learning && self.members.len() < MAX_ORDER {
            self.members.push((key.into(), info));
            *cursor = self.members.len();
        }
    }

    /// Called when an object ends: `missed` says whether any key had to be looked up.
    pub(super) fn finish(&mut self, missed: bool) {
        if self.learning {
            self.learning = false;
            return;
        }
        self.missed_objects = if missed { self.missed_objects + 1 } else { 0 };
        if self.missed_objects >= RELEARN_AFTER {
            self.members.clear();
            self.missed_objects = 0;
            self.learning = true;
        }
    }
}
