//! The plan of a program's source reads: the trie of source paths it reads, per source record.
//!
//! Each path ending at a trie node is given that node as its *slot*: [`Plan::resolve`] fills a
//! deal's slot table once, and rules read slots by index instead of looking fields up by name.
//! The program is not changed: the plan keeps its own table from path id to slot.

use serde_json::Value;

use crate::check::program::{CPath, PathStep, Program, RecordRef};

/// One node of the path trie.
#[derive(Debug, Default, Clone)]
struct PlanNode {
    keep_all: bool,
    children: rustc_hash::FxHashMap<String, usize>,
    /// Some path is read from the record by name through this node (it has no slot, or is read
    /// before slots are filled, or is a never-transfer path), so it must be in the kept tree.
    in_tree: bool,
    /// A leaf whose value is kept only in the deal's slot table, not in the kept tree.
    slot_only: bool,
}

/// The source paths a program reads, per source record, as tries.
#[derive(Debug, Clone)]
pub struct Plan {
    nodes: Vec<PlanNode>,
    /// The trie root of each source record.
    pub(super) roots: Vec<usize>,
    /// The plan node each path's value is found at, by path id (`None`: read by name).
    slot_of: Vec<Option<u32>>,
}

impl Plan {
    /// The plan of everything `program` reads from its source records (and the primary `id`).
    /// Each source path that ends at a node of the plan is given that node as its slot (kept by
    /// path id in [`Plan::slot_of`]), so a deal's reads are answered from the table
    /// [`Plan::resolve`] fills, without a lookup by name.
    pub fn of(program: &Program) -> Plan {
        let mut plan = Plan {
            nodes: Vec::new(),
            roots: Vec::new(),
            slot_of: vec![None; program.path_count],
        };
        for _ in &program.sources {
            plan.nodes.push(PlanNode::default());
            plan.roots.push(plan.nodes.len() - 1);
        }
        let mut by_name: Vec<&CPath> = Vec::new();
        program.for_each_read(&mut |path| {
            let slot = match path.record {
                RecordRef::Source(index) => plan
                    .roots
                    .get(index)
                    .copied()
                    .and_then(|root| plan.insert(root, &path.steps)),
                RecordRef::Target => None,
            };
            match (slot, plan.slot_of.get_mut(path.id.index())) {
                (Some(node), Some(entry)) => *entry = Some(node as u32),
                _ => by_name.push(path),
            }
        });
        let id = PathStep::Field("id".to_string());
        if let Some(root) = plan.roots.first().copied() {
            plan.insert(root, std::slice::from_ref(&id));
            plan.keep_in_tree(root, std::slice::from_ref(&id));
        }
        // Never-transfer values are kept too, though no rule reads them: a rejection's messages
        // must withhold every one of them, and the deal is not read again to learn them. They go
        // to the slot table (no key inserted into a kept object); a path the table cannot hold
        // (through an array) is kept in the tree.
        let mut protected_by_name = Vec::new();
        for path in &program.never_transfer {
            let node = match path.record {
                RecordRef::Source(index) => plan
                    .roots
                    .get(index)
                    .copied()
                    .and_then(|root| plan.insert(root, &path.steps)),
                RecordRef::Target => None,
            };
            match (node, plan.slot_of.get_mut(path.id.index())) {
                (Some(node), Some(entry)) => *entry = Some(node as u32),
                _ => protected_by_name.push(path),
            }
        }
        let joins = program.sources.iter().filter_map(|s| s.join.as_ref());
        let read_by_name = by_name
            .into_iter()
            .chain(joins.map(|join| &join.equals))
            .chain(protected_by_name);
        for path in read_by_name {
            if let RecordRef::Source(index) = path.record
                && let Some(root) = plan.roots.get(index).copied()
            {
                plan.keep_in_tree(root, &path.steps);
            }
        }
        for root in plan.roots.clone() {
            plan.mark_slot_only(root);
        }
        plan
    }

    /// The slot of each path, by path id (`None`: read by name).
    pub fn slot_of(&self) -> &[Option<u32>] {
        &self.slot_of
    }

    /// Marks the nodes `steps` pass through from `node` as needed in the kept tree.
    fn keep_in_tree(&mut self, mut node: usize, steps: &[PathStep]) {
        self.nodes[node].in_tree = true;
        for step in steps {
            let PathStep::Field(name) = step else { return };
            match self.nodes[node].children.get(name) {
                Some(child) => node = *child,
                None => return,
            }
            self.nodes[node].in_tree = true;
        }
    }

    /// Marks the leaves under `node` that the walk reaches as their own plan node and that no
    /// path reads by name: their values go to the slot table only.
    fn mark_slot_only(&mut self, node: usize) {
        if self.nodes[node].keep_all {
            return;
        }
        let children: Vec<usize> = self.nodes[node].children.values().copied().collect();
        for child in children {
            let leaf = &self.nodes[child];
            if leaf.keep_all && leaf.children.is_empty() && !leaf.in_tree {
                self.nodes[child].slot_only = true;
            } else {
                self.mark_slot_only(child);
            }
        }
    }

    /// True when the value of a member at plan node `node`, inside an object at plan node
    /// `parent`, is kept in the slot table instead of the tree.
    pub(super) fn goes_to_slot(&self, parent: Option<usize>, node: Option<usize>) -> Option<usize> {
        let node = node?;
        (parent != Some(node) && self.nodes[node].slot_only).then_some(node)
    }

    /// How many plan nodes there are (the size of a deal's slot table).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Adds `steps` under `node`; returns the node they end at, or `None` when they pass through
    /// a node kept whole or step into an array (the path is then read by name).
    fn insert(&mut self, mut node: usize, steps: &[PathStep]) -> Option<usize> {
        for step in steps {
            if self.nodes[node].keep_all {
                return None;
            }
            let PathStep::Field(name) = step else {
                self.nodes[node].keep_all = true;
                return None;
            };
            node = match self.nodes[node].children.get(name) {
                Some(child) => *child,
                None => {
                    self.nodes.push(PlanNode::default());
                    let child = self.nodes.len() - 1;
                    self.nodes[node].children.insert(name.clone(), child);
                    child
                }
            };
        }
        self.nodes[node].keep_all = true;
        Some(node)
    }

    /// Fills `slots` (one entry per plan node) with the values of one deal's source records:
    /// `slots[n]` is the value at node `n`, `None` when the deal has nothing there. `owned` holds
    /// the values the streaming reader kept only by slot (empty for deals parsed whole).
    pub fn resolve<'v>(
        &self,
        sources: &[Option<&'v Value>],
        owned: &'v [Option<Value>],
        slots: &mut Vec<Option<&'v Value>>,
    ) {
        slots.clear();
        slots.resize(self.nodes.len(), None);
        for (slot, value) in slots.iter_mut().zip(owned) {
            *slot = value.as_ref();
        }
        for (root, source) in self.roots.iter().zip(sources) {
            if let Some(value) = source {
                slots[*root] = Some(value);
                self.fill(*root, value, slots);
            }
        }
    }

    fn fill<'v>(&self, node: usize, value: &'v Value, slots: &mut [Option<&'v Value>]) {
        let children = &self.nodes[node].children;
        let Value::Object(map) = value else { return };
        if children.is_empty() {
            return;
        }
        if map.len() <= children.len() * 2 {
            for (key, member) in map {
                if let Some(child) = children.get(key.as_str()).copied() {
                    slots[child] = Some(member);
                    self.fill(child, member, slots);
                }
            }
        } else {
            for (key, child) in children {
                if let Some(member) = map.get(key) {
                    slots[*child] = Some(member);
                    self.fill(*child, member, slots);
                }
            }
        }
    }

    /// How many members of the object at `node` are kept, when known (0 when all are).
    pub(super) fn width(&self, node: usize) -> usize {
        let node = &self.nodes[node];
        if node.keep_all {
            0
        } else {
            let in_tree = |child: &&usize| !self.nodes[**child].slot_only;
            node.children.values().filter(in_tree).count()
        }
    }

    pub(super) fn child(&self, node: usize, key: &str) -> Option<usize> {
        let parent = &self.nodes[node];
        if parent.keep_all {
            return Some(node);
        }
        parent.children.get(key).copied()
    }
}
