//! Seeded deal generators for the reference law: mutations of real deals (wrong types, missing
//! and extra fields, other stages, bad numbers and dates, never-transfer-like text, duplicate
//! keys, integers beyond 64 bits, non-objects, broken JSON), and deals shaped like the
//! reference benchmark's (`bench/gen_deals.py`: same fields, same failure modes and rates).

use serde_json::{Map, Value, json};

/// A small deterministic generator (SplitMix64): the same seed gives the same deals.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A number in `low..=high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// Strings a mutation may write: stages of every shipped mapping, numbers and dates as CRMs
/// send them (right and wrong), names, ids, and text no other field holds.
const TEXTS: &[&str] = &[
    "",
    " ",
    "closedwon",
    "contractsent",
    "closedlost",
    "closed_won",
    "Won",
    "Open",
    "Lost",
    "won",
    "open",
    "Closed Won",
    "Closed Lost",
    "Qualification",
    "48500.00",
    "0",
    "0.00",
    "-1500.00",
    "12,5x",
    "1,234.50",
    "1e3",
    " 42 ",
    "abc",
    "2025-03-14",
    "2025-03-14T09:30:00.000Z",
    "2025-02-30",
    "2024-02-29T23:59:60Z",
    "14.03.2025",
    "3/14/2025",
    "2025-03-14T25:00:00Z",
    "not-an-email",
    "ivan@ourfirm.example",
    "fixed_fee",
    "retainer",
    "implementation",
    "training",
    "newbusiness",
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "Fixed Price - Large",
    "Retainer",
    "Standard",
    "51234567",
    "99999",
    "9000",
    "9001",
    "9002",
    "9003",
    "Acme Corp.",
    "Globex",
    "GLOBEX inc",
    "Initrode",
    "New Client LLC",
    "Stark Industries",
    "5725767000000411003",
    "Ünïcödé ✓ text",
    "\u{200b}Acme",
    "tab\there",
    "Principal 260/h; \"Senior\" 174/h; floor margin 50%; do not share externally, ever, at all",
    "Invoice 40/40/20 on milestones, NET 60, paper invoices to AP only",
    "line\nbreak",
    "quote\"d",
    "back\\slash",
    "\u{7f}del",
    "\u{2028}sep",
    "emoji 🚀 rocket",
    "Ünïcödé ✓ Ünïcödé ✓ Ünïcödé ✓ Ünïcödé ✓ Ünïcödé ✓ Ünïcödé ✓ Ünïcödé ✓ 🚀🚀🚀🚀 end",
];

/// Number literals (as text) a mutation may write where a value goes.
pub const RAW_NUMBERS: &[&str] = &[
    "123456789012345678901234567890",
    "-99999999999999999999",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "1e308",
    "2e19",
    "1.5e300",
    "1e400",
    "-0",
    "1E2",
    "0.1e1",
    "48500.0",
    "1e-7",
];

/// A value of a random kind, interesting for the shipped mappings.
pub fn any_value(rng: &mut Rng) -> Value {
    match rng.below(12) {
        0..=4 => Value::from(*rng.pick(TEXTS)),
        5 | 6 => rng
            .pick(&[
                json!(0),
                json!(1),
                json!(-1),
                json!(7),
                json!(48500),
                json!(100000),
                json!(25000),
                json!(19999.99),
                json!(1.5),
                json!(0.1),
                json!(-0.5),
                json!(1e20),
                json!(12345678901234567890u64),
                json!(417001),
                json!(417003),
                json!(417005),
                json!(417009),
                json!(5001),
                json!(320),
                json!(1759190400),
                json!(100),
                json!(101),
                json!(9001),
                json!(-5),
            ])
            .clone(),
        7 => Value::Bool(rng.chance(0.5)),
        8 => Value::Null,
        9 => rng
            .pick(&[
                json!({}),
                json!({"id": "9001"}),
                json!({"name": "Acme Corporation", "id": "5725767000000300111"}),
                json!({"results": []}),
                json!({"results": [{"id": "9001", "type": "deal_to_company"}]}),
                json!({"id": "5725767000000411003", "name": " ", "email": "x@y.example"}),
            ])
            .clone(),
        _ => rng
            .pick(&[
                json!([]),
                json!([1, 2]),
                json!(["a"]),
                json!([null]),
                json!([{"custom_field_definition_id": 5001, "value": 417001}]),
                json!([
                    "Ünïcödé ✓ Ünïcödé ✓ Ünïcödé ✓ Ünïcödé ✓ Ünïcödé ✓ Ünïcödé ✓ 🚀🚀 end",
                    1
                ]),
            ])
            .clone(),
    }
}

/// A step into a JSON tree.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every value's path in `root`, the root first.
fn paths(root: &Value) -> Vec<Vec<Step>> {
    let mut found = Vec::new();
    let mut stack = vec![(Vec::new(), root)];
    while let Some((path, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let mut next = path.clone();
                    next.push(Step::Key(key.clone()));
                    stack.push((next, child));
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    let mut next = path.clone();
                    next.push(Step::Index(index));
                    stack.push((next, child));
                }
            }
            _ => {}
        }
        found.push(path);
    }
    found
}

fn at<'v>(root: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(root, |here, step| match step {
        Step::Key(key) => here.as_object_mut()?.get_mut(key),
        Step::Index(index) => here.as_array_mut()?.get_mut(*index),
    })
}

/// Marks replaced after serialising: a duplicate of an object's first key, a raw literal.
const DUPLICATE: &str = "\u{1}duplicate";
const RAW: &str = "\u{1}raw";

/// Values a mutation writes at a JSON pointer it focuses on (the fields a mapping reads).
pub type Focus = Vec<(String, Vec<Value>)>;

/// A value like `old` (same kind) most of the time, any value otherwise.
fn value_like(rng: &mut Rng, old: &Value) -> Value {
    if rng.chance(0.4) {
        return any_value(rng);
    }
    match old {
        Value::String(_) => Value::from(*rng.pick(TEXTS)),
        Value::Number(_) => loop {
            let value = any_value(rng);
            if value.is_number() {
                return value;
            }
        },
        Value::Bool(b) => Value::Bool(!b),
        _ => any_value(rng),
    }
}

/// One mutation of `deal`'s tree: a value replaced (at a focused field half of the time),
/// removed, emptied or added.
fn mutate_tree(rng: &mut Rng, deal: &mut Value, focus: &Focus) {
    let focused: Vec<&(String, Vec<Value>)> = focus
        .iter()
        .filter(|(p, _)| deal.pointer(p).is_some())
        .collect();
    if !focused.is_empty() && rng.chance(0.5) {
        let (pointer, values) = *rng.pick(&focused);
        let value = rng.pick(values).clone();
        if let Some(target) = deal.pointer_mut(pointer) {
            *target = value;
        }
        return;
    }
    let all = paths(deal);
    let path = rng.pick(&all[1.min(all.len() - 1)..]).clone();
    let action = rng.below(12);
    if action == 6 {
        if let Some((Step::Key(key), parent)) = path.split_last()
            && let Some(Value::Object(map)) = at(deal, parent)
        {
            map.shift_remove(key);
        }
        return;
    }
    let name = *rng.pick(&[
        "extra",
        "dealstage",
        "amount",
        "Stage",
        "status",
        "id",
        "notes",
    ]);
    let Some(target) = at(deal, &path) else {
        return;
    };
    let value = value_like(rng, target);
    match (action, target) {
        (7, Value::Object(map)) => {
            map.insert(name.to_string(), value);
        }
        (8, target) => *target = Value::Null,
        (9, Value::Object(map)) => map.clear(),
        // Members in another order (readers remember the usual order of each kind of object).
        (10, Value::Object(map)) => {
            let mut members: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            for i in (1..members.len()).rev() {
                members.swap(i, rng.below(i + 1));
            }
            map.extend(members);
        }
        (10, Value::Array(items)) => items.reverse(),
        // Every member wrong at once: more violations than a rejection lists.
        (11, Value::Object(map)) => map.values_mut().for_each(|v| *v = Value::from(7)),
        (_, target) => *target = value,
    }
}

/// One text-level change: the kinds of input a tree cannot hold.
fn mutate_text(rng: &mut Rng, deal: &mut Value) -> Option<Vec<u8>> {
    let objects: Vec<Vec<Step>> = paths(deal)
        .into_iter()
        .filter(|p| at(deal, p).is_some_and(|v| v.as_object().is_some_and(|m| !m.is_empty())))
        .collect();
    match rng.below(8) {
        0 | 1 if !objects.is_empty() => {
            let path = rng.pick(&objects).clone();
            let map = at(deal, &path)?.as_object_mut()?;
            let first = map.keys().next()?.clone();
            let value = if rng.chance(0.3) {
                map[&first].clone()
            } else {
                any_value(rng)
            };
            map.insert(DUPLICATE.to_string(), value);
            let text = serde_json::to_string(deal).ok()?;
            let key = serde_json::to_string(&first).ok()?;
            Some(text.replace("\"\\u0001duplicate\"", &key).into_bytes())
        }
        2 | 3 => {
            let all = paths(deal);
            let path = rng.pick(&all).clone();
            *at(deal, &path)? = Value::from(RAW);
            let text = serde_json::to_string(deal).ok()?;
            let raw = *rng.pick(RAW_NUMBERS);
            Some(text.replace("\"\\u0001raw\"", raw).into_bytes())
        }
        4 => {
            let mut text = serde_json::to_vec(deal).ok()?;
            text.truncate(rng.below(text.len().max(1)));
            Some(text)
        }
        5 => {
            let text = serde_json::to_vec(deal).ok()?;
            let changed = match rng.below(4) {
                0 => [&text[..], b" x"].concat(),
                1 => [b"[".as_slice(), &text, b"]"].concat(),
                2 => serde_json::to_vec_pretty(deal).ok()?,
                _ => {
                    let cut = text.iter().position(|b| *b == b':').map_or(0, |p| p + 2);
                    [&text[..cut], b"\xff\"", &text[cut..]].concat()
                }
            };
            Some(changed)
        }
        _ => serde_json::to_vec(&any_value(rng)).ok(),
    }
}

/// A deal made from `base`: up to three tree mutations, sometimes a text-level one.
pub fn mutated(rng: &mut Rng, base: &Value, focus: &Focus) -> Vec<u8> {
    let mut deal = base.clone();
    for _ in 0..rng.below(4) {
        mutate_tree(rng, &mut deal, focus);
    }
    if rng.chance(0.2)
        && let Some(text) = mutate_text(rng, &mut deal)
    {
        return text;
    }
    serde_json::to_vec(&deal).unwrap_or_default()
}

/// A deal as the reference benchmark's generator writes them (`bench/gen_deals.py`).
pub fn benchmark_deal(rng: &mut Rng, index: u64) -> Value {
    const STAGES: &[&str] = &[
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "decisionmakerboughtin",
        "contractsent",
        "closedlost",
    ];
    const STEMS: &[&str] = &[
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Stark   Industries",
        "Hooli",
        "Müller & Söhne",
        "Łódź Logistics",
        "O'Brien & Daughters",
        "Blue Sun",
    ];
    const SUFFIXES: &[&str] = &[
        "",
        "",
        " Corp",
        " Corp.",
        " Inc.",
        ", Inc.",
        " LLC",
        " Ltd.",
        " GmbH",
        " CORP.",
        " Co., Ltd.",
        " Group",
        " Incorporated",
    ];
    const DEALTYPES: &[&str] = &[
        "newbusiness",
        "newbusiness",
        "existingbusiness",
        "retainer",
        "fixedfee",
        "time_materials",
        "partnership",
        "",
    ];
    const SENTENCES: &[&str] = &[
        "Client wants kickoff within two weeks of signature.",
        "Procurement asked for a \"not to exceed\" clause on travel.",
        "Key risk:\tlegacy CRM exports contain duplicate accounts.",
        "Stakeholders in Berlin and São Paulo; schedule calls 14:00 UTC.",
    ];
    let stamp = |rng: &mut Rng| {
        format!(
            "2024-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            rng.range(1, 12),
            rng.range(1, 28),
            rng.range(0, 23),
            rng.range(0, 59),
            rng.range(0, 59),
            rng.range(0, 999)
        )
    };
    let stem = rng.pick(STEMS).to_string();
    let first_word = stem
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let amount = match rng.below(200) {
        0..=5 => json!(""),
        6..=8 => json!("<missing>"),
        9 | 10 => Value::Null,
        11..=13 => json!("0.00"),
        14 => json!("-1500.00"),
        _ => {
            let dollars = rng.range(10, 900) * 100;
            json!(match rng.below(3) {
                0 => format!("{dollars}.00"),
                1 => format!("{dollars}"),
                _ => format!("{}.{:02}", dollars - 1, rng.range(1, 99)),
            })
        }
    };
    let maybe = |rng: &mut Rng, value: Value, missing: f64, null: f64| match rng.below(1000) as f64
        / 1000.0
    {
        roll if roll < missing => json!("<missing>"),
        roll if roll < missing + null => Value::Null,
        _ => value,
    };
    let description: Vec<&str> = (0..rng.range(3, 8)).map(|_| *rng.pick(SENTENCES)).collect();
    let id = (18_000_000_000 + index * 37 + rng.range(0, 36)).to_string();
    let company = format!(
        "{}{stem}{}",
        rng.pick(&["", "", " ", "\t"]),
        rng.pick(SUFFIXES)
    );
    let mut properties = Map::new();
    let fields = [
        ("amount", amount),
        (
            "billing_preferences",
            json!(format!(
                "Invoice monthly; Net {}; PO-{} required",
                rng.pick(&[15, 30, 60]),
                rng.range(100_000, 999_999)
            )),
        ),
        ("closedate", {
            let v = json!(stamp(rng));
            maybe(rng, v, 0.03, 0.01)
        }),
        ("company_name", maybe(rng, json!(company), 0.01, 0.01)),
        ("createdate", json!(stamp(rng))),
        (
            "dealname",
            maybe(
                rng,
                json!(format!("{first_word} - Implementation 2024")),
                0.01,
                0.01,
            ),
        ),
        (
            "dealstage",
            json!(if rng.chance(0.7) {
                "closedwon"
            } else {
                rng.pick(STAGES)
            }),
        ),
        ("dealtype", {
            let v = json!(rng.pick(DEALTYPES));
            maybe(rng, v, 0.02, 0.02)
        }),
        (
            "delivery_lead_email",
            maybe(rng, json!("ana.ben@ourfirm.example"), 0.05, 0.05),
        ),
        (
            "description",
            maybe(rng, json!(description.join(" ")), 0.03, 0.03),
        ),
        ("hs_lastmodifieddate", json!(stamp(rng))),
        ("hs_object_id", json!(id.clone())),
        ("hubspot_owner_id", {
            let v = json!(rng.range(40_000_000, 49_999_999).to_string());
            maybe(rng, v, 0.02, 0.02)
        }),
        (
            "internal_rate_card",
            json!(format!(
                "Principal {}/h; Senior {}/h; floor margin {}%; do not share externally",
                rng.range(200, 260),
                rng.range(150, 199),
                rng.range(20, 40)
            )),
        ),
        ("pipeline", json!("default")),
        (
            "resource_assignments",
            json!(format!(
                "{first_word} lead (PM, {}%)",
                rng.pick(&[20, 40, 60])
            )),
        ),
    ];
    for (name, value) in fields {
        if value != json!("<missing>") {
            properties.insert(name.to_string(), value);
        }
    }
    let created = properties["createdate"].clone();
    let updated = properties["hs_lastmodifieddate"].clone();
    json!({"id": id, "properties": properties, "createdAt": created, "updatedAt": updated, "archived": false})
}
