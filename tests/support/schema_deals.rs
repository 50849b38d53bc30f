//! Deals generated from a source schema, for the soundness law: values of the declared types,
//! enums and consts, strings in the declared formats (or, under a pattern, candidates the
//! pattern accepts), null and absent where the schema allows them. Local `$ref`s (`#/...`) and
//! references to files beside the schema are followed; `allOf` parts are merged, one `anyOf` /
//! `oneOf` branch is taken. Values the generator cannot make valid are left for the engine's
//! source validation to refuse (the law counts those deals as outside its premise).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::deals::Rng;

/// Strings tried for a field with a pattern and no format, and for free text.
const TEXTS: &[&str] = &[
    "48500.00",
    "12500",
    "0",
    "1",
    "42",
    "7",
    "2025-03-14",
    "2025-03-14T09:30:00Z",
    "3/14/2025",
    "Acme Corp",
    "Globex",
    "Retainer",
    "Fixed fee",
    "abc",
    "",
    " ",
    "USD",
    "EUR",
    "ivan@ourfirm.example",
    "https://example.com/a",
    "ABC-1234",
    "yes",
    "no",
    "true",
    "1741910400",
    "-3",
    "-1",
    "-48500.00",
    "12,500.50",
];

/// The schema documents of one mapping's sources, read from disk as the generator needs them.
pub struct Schemas {
    docs: BTreeMap<PathBuf, Value>,
}

impl Schemas {
    /// No documents yet.
    pub fn new() -> Schemas {
        Schemas {
            docs: BTreeMap::new(),
        }
    }

    fn doc(&mut self, path: &Path) -> Option<Value> {
        if !self.docs.contains_key(path) {
            let text = std::fs::read_to_string(path).ok()?;
            let value: Value = if path.extension().is_some_and(|e| e == "json") {
                serde_json::from_str(&text).ok()?
            } else {
                serde_yaml_ng_or_json(&text)?
            };
            self.docs.insert(path.to_path_buf(), value);
        }
        self.docs.get(path).cloned()
    }

    /// A value valid (as far as the generator can tell) under the schema file at `path`.
    pub fn generate(&mut self, rng: &mut Rng, path: &Path) -> Value {
        let Some(root) = self.doc(path) else {
            return Value::Null;
        };
        self.value(rng, path, &root, &root, 0)
    }

    fn resolve(
        &mut self,
        file: &Path,
        root: &Value,
        reference: &str,
    ) -> Option<(PathBuf, Value, Value)> {
        let (target, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let (file, root) = if target.is_empty() {
            (file.to_path_buf(), root.clone())
        } else {
            let other = file.parent()?.join(target);
            let doc = self.doc(&other)?;
            (other, doc)
        };
        let node = if pointer.is_empty() {
            root.clone()
        } else {
            root.pointer(pointer)?.clone()
        };
        Some((file, root, node))
    }

    fn value(
        &mut self,
        rng: &mut Rng,
        file: &Path,
        root: &Value,
        schema: &Value,
        depth: usize,
    ) -> Value {
        if depth > 12 {
            return Value::Null;
        }
        let Value::Object(map) = schema else {
            return if schema == &Value::Bool(false) {
                Value::Null
            } else {
                json!("x")
            };
        };
        if let Some(Value::String(reference)) = map.get("$ref")
            && let Some((file, root, node)) = self.resolve(file, root, reference)
        {
            let mut merged = node.as_object().cloned().unwrap_or_default();
            for (k, v) in map.iter().filter(|(k, _)| *k != "$ref") {
                merged.insert(k.clone(), v.clone());
            }
            return self.value(rng, &file, &root, &Value::Object(merged), depth + 1);
        }
        if let Some(Value::Array(parts)) = map.get("allOf") {
            let mut merged = map.clone();
            merged.remove("allOf");
            for part in parts {
                let part = match part.get("$ref").and_then(Value::as_str) {
                    Some(r) => self
                        .resolve(file, root, r)
                        .map(|(_, _, n)| n)
                        .unwrap_or(Value::Null),
                    None => part.clone(),
                };
                merge_into(&mut merged, &part);
            }
            return self.value(rng, file, root, &Value::Object(merged), depth + 1);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = map.get(key)
                && !branches.is_empty()
            {
                let mut merged = map.clone();
                merged.remove(key);
                merge_into(&mut merged, rng.pick(branches));
                return self.value(rng, file, root, &Value::Object(merged), depth + 1);
            }
        }
        if let Some(constant) = map.get("const") {
            return constant.clone();
        }
        if let Some(Value::Array(values)) = map.get("enum")
            && !values.is_empty()
        {
            return rng.pick(values).clone();
        }
        let types: Vec<&str> = match map.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ if map.contains_key("properties") => vec!["object"],
            _ => vec!["string", "integer", "null"],
        };
        let non_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        if non_null.is_empty() || (types.contains(&"null") && rng.chance(0.15)) {
            return Value::Null;
        }
        match *rng.pick(&non_null) {
            "object" => self.object(rng, file, root, map, depth),
            "array" => self.array(rng, file, root, map, depth),
            "integer" => json!(number(rng, map, true) as i64),
            "number" => number_value(number(rng, map, false)),
            "boolean" => json!(rng.chance(0.5)),
            _ => string(rng, map),
        }
    }

    fn object(
        &mut self,
        rng: &mut Rng,
        file: &Path,
        root: &Value,
        map: &Map<String, Value>,
        depth: usize,
    ) -> Value {
        let required: Vec<&str> = match map.get("required") {
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut out = Map::new();
        if let Some(Value::Object(properties)) = map.get("properties") {
            for (name, schema) in properties {
                if required.contains(&name.as_str()) || rng.chance(0.7) {
                    let value = self.value(rng, file, root, schema, depth + 1);
                    out.insert(name.clone(), value);
                }
            }
        }
        Value::Object(out)
    }

    fn array(
        &mut self,
        rng: &mut Rng,
        file: &Path,
        root: &Value,
        map: &Map<String, Value>,
        depth: usize,
    ) -> Value {
        let low = map.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let high = map
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(low + 3)
            .max(low);
        let count = rng.range(low, high.min(low + 3));
        let items = map.get("items").cloned().unwrap_or(json!({}));
        Value::Array(
            (0..count)
                .map(|_| self.value(rng, file, root, &items, depth + 1))
                .collect(),
        )
    }
}

fn merge_into(merged: &mut Map<String, Value>, part: &Value) {
    let Value::Object(part) = part else { return };
    for (key, value) in part {
        match (key.as_str(), merged.get_mut(key), value) {
            ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                for (k, v) in theirs {
                    mine.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                mine.extend(theirs.iter().cloned());
            }
            (_, Some(_), _) => {}
            (_, None, _) => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
}

fn number(rng: &mut Rng, map: &Map<String, Value>, integer: bool) -> f64 {
    let low = map.get("minimum").and_then(Value::as_f64).unwrap_or(-10.0);
    let low = map
        .get("exclusiveMinimum")
        .and_then(Value::as_f64)
        .map_or(low, |m| m + 1.0);
    let high = map
        .get("maximum")
        .and_then(Value::as_f64)
        .unwrap_or(low.max(0.0) + 200_000.0);
    let high = map
        .get("exclusiveMaximum")
        .and_then(Value::as_f64)
        .map_or(high, |m| m - 1.0);
    let span = (high - low).max(0.0);
    let picked = low + span * (rng.below(10_001) as f64 / 10_000.0);
    if integer || rng.chance(0.5) {
        picked
            .round()
            .clamp(low.ceil(), high.floor().max(low.ceil()))
    } else {
        (picked * 100.0).round() / 100.0
    }
}

fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

fn string(rng: &mut Rng, map: &Map<String, Value>) -> Value {
    let format = map.get("format").and_then(Value::as_str);
    let mut text = match format {
        Some("date") => format!("2025-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28)),
        Some("date-time") => format!(
            "2025-{:02}-{:02}T{:02}:{:02}:00{}",
            rng.range(1, 12),
            rng.range(1, 28),
            rng.range(0, 23),
            rng.range(0, 59),
            rng.pick(&["Z", ".000Z", "+01:00", "-05:00"])
        ),
        Some("email") => format!("person{}@ourfirm.example", rng.below(100)),
        Some("uri") => format!("https://example.com/{}", rng.below(100)),
        Some("uuid") => "123e4567-e89b-12d3-a456-426614174000".to_string(),
        _ => rng.pick(TEXTS).to_string(),
    };
    if let Some(Value::String(pattern)) = map.get("pattern")
        && let Ok(regex) = regex::Regex::new(pattern)
        && !regex.is_match(&text)
    {
        let digits = rng.range(1, 999_999).to_string();
        let candidates: Vec<String> = TEXTS
            .iter()
            .map(|s| s.to_string())
            .chain([digits])
            .filter(|c| regex.is_match(c))
            .collect();
        if !candidates.is_empty() {
            text = rng.pick(&candidates).clone();
        }
    }
    let max = map
        .get("maxLength")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX) as usize;
    if text.chars().count() > max {
        text = text.chars().take(max).collect();
    }
    let min = map.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    while text.chars().count() < min {
        text.push('x');
    }
    Value::String(text)
}

fn serde_yaml_ng_or_json(text: &str) -> Option<Value> {
    serde_yaml::from_str(text).ok()
}

/// A deal between a real one and a generated one: member by member, the real value, the
/// generated value, or (for members only one has) the member left out. Keeps enough of a won
/// deal for most blends to reach the trigger and meet the require rules, while the generated
/// members explore every value the schema allows.
pub fn blend(rng: &mut Rng, real: &Value, generated: &Value) -> Value {
    match (real, generated) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = Map::new();
            for (key, value) in a {
                match b.get(key) {
                    Some(other) => {
                        out.insert(key.clone(), blend(rng, value, other));
                    }
                    None if rng.chance(0.9) => {
                        out.insert(key.clone(), value.clone());
                    }
                    None => {}
                }
            }
            for (key, value) in b {
                if !a.contains_key(key) && rng.chance(0.5) {
                    out.insert(key.clone(), value.clone());
                }
            }
            Value::Object(out)
        }
        _ if rng.chance(0.7) => real.clone(),
        _ => generated.clone(),
    }
}
