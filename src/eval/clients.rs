//! Duplicate-client prevention: matching a deal's company against the PSA's existing clients.
//!
//! Names are compared by a key: lower case, `&` read as `and`, punctuation and extra whitespace
//! removed, and trailing legal suffixes (Corp, Corporation, Inc, Incorporated, LLC, Ltd, Limited,
//! GmbH, Co, Company) dropped. One existing client with the deal's key is reused; two or more is
//! ambiguous and left to a human; none means a new client, created once per batch.

use std::collections::HashMap;

use serde_json::Value;

const LEGAL_SUFFIXES: &[&str] = &[
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "gmbh",
    "co",
    "company",
];

/// The comparison key of a company name ("  ACME corp. " and "Acme Corporation" give "acme").
pub fn client_key(name: &str) -> String {
    let visible = crate::transforms::text::without_invisible(name);
    let lowered = visible.to_lowercase().replace('&', " and ");
    let cleaned: String = lowered
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_SUFFIXES.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// An existing PSA client.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    /// Its id in the PSA.
    pub id: Value,
    /// Its name as the PSA holds it.
    pub name: String,
}

/// What client matching decided for one deal.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientOutcome {
    /// An existing client is reused.
    Existing(Client),
    /// No client matches: the caller creates one. `same_as` names the earlier deal of this batch
    /// that already asked for the same new client.
    New {
        /// The name to create the client with.
        name: String,
        /// The comparison key.
        key: String,
        /// The earlier deal (by id) needing the same new client, if any.
        same_as: Option<String>,
    },
    /// Several existing clients match: a human must choose.
    Ambiguous(Vec<Client>),
}

impl ClientOutcome {
    /// The outcome as JSON for report envelopes.
    pub fn to_json(&self) -> Value {
        match self {
            ClientOutcome::Existing(client) => {
                serde_json::json!({"match": "existing", "id": client.id, "name": client.name})
            }
            ClientOutcome::New { name, key, same_as } => {
                serde_json::json!({"match": "new", "name": name, "key": key, "same_as_deal": same_as})
            }
            ClientOutcome::Ambiguous(candidates) => serde_json::json!({
                "match": "ambiguous",
                "candidates": candidates.iter().map(|c| serde_json::json!({"id": c.id, "name": c.name})).collect::<Vec<_>>(),
            }),
        }
    }
}

/// The PSA's existing clients, and the new ones asked for so far in this batch.
#[derive(Debug, Default, Clone)]
pub struct ClientDirectory {
    by_key: HashMap<String, Vec<Client>>,
    new_in_batch: HashMap<String, String>,
}

impl ClientDirectory {
    /// Builds the directory from client records with `id` and `name`.
    pub fn new(records: &[Value]) -> Result<ClientDirectory, String> {
        let mut directory = ClientDirectory::default();
        for (index, record) in records.iter().enumerate() {
            let id = record.get("id").filter(|v| v.is_string() || v.is_number());
            let name = record.get("name").and_then(Value::as_str);
            let (Some(id), Some(name)) = (id, name) else {
                return Err(format!(
                    "client {} has no `id` (string or number) and `name` (string)",
                    index + 1
                ));
            };
            directory
                .by_key
                .entry(client_key(name))
                .or_default()
                .push(Client {
                    id: id.clone(),
                    name: name.to_string(),
                });
        }
        Ok(directory)
    }

    /// Matches a company name for the deal `deal_id`.
    pub fn resolve(&mut self, name: &str, deal_id: &str) -> ClientOutcome {
        let key = client_key(name);
        match self.by_key.get(&key).map(Vec::as_slice) {
            Some([one]) => ClientOutcome::Existing(one.clone()),
            Some(many) if many.len() > 1 => ClientOutcome::Ambiguous(many.to_vec()),
            _ => {
                let same_as = self.new_in_batch.get(&key).cloned();
                if same_as.is_none() {
                    self.new_in_batch.insert(key.clone(), deal_id.to_string());
                }
                ClientOutcome::New {
                    name: name.to_string(),
                    key,
                    same_as,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_ignore_case_punctuation_and_legal_suffixes() {
        assert_eq!(client_key("  ACME corp. "), "acme");
        assert_eq!(client_key("Acme Corporation"), client_key("acme, inc."));
        assert_eq!(
            client_key("Smith & Sons Ltd"),
            client_key("Smith and Sons Limited")
        );
        assert_eq!(client_key("Globex Co., Ltd."), "globex");
        assert_eq!(client_key("Müller & Söhne GmbH"), "müller and söhne");
        assert_eq!(client_key("Inc"), "inc");
        assert_ne!(client_key("Acme Labs"), client_key("Acme"));
    }

    #[test]
    fn one_match_is_reused_two_are_ambiguous_new_ones_are_created_once() {
        let mut directory = ClientDirectory::new(&[
            json!({"id": 7, "name": "Acme Corporation"}),
            json!({"id": 8, "name": "Globex"}),
            json!({"id": 9, "name": "Globex, Inc."}),
        ])
        .unwrap();
        assert!(
            matches!(directory.resolve("  ACME corp. ", "d1"), ClientOutcome::Existing(c) if c.id == json!(7))
        );
        assert!(
            matches!(directory.resolve("GLOBEX", "d2"), ClientOutcome::Ambiguous(c) if c.len() == 2)
        );
        assert!(matches!(
            directory.resolve("Initech", "d3"),
            ClientOutcome::New { same_as: None, .. }
        ));
        assert!(
            matches!(directory.resolve("Initech LLC", "d4"), ClientOutcome::New { same_as: Some(d), .. } if d == "d3")
        );
    }
}
