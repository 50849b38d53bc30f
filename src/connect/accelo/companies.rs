//! Accelo's companies, the clients `match client` matches against (accelo.md 4.1, 4.2): the
//! whole list read once per run (100 a page), handed to the engine's client directory, and
//! consulted again, under one lock, before a new company is created — so two deals naming the
//! same new company, however spelled, make one company, and a company created before a crash
//! is found instead of created twice.
//!
//! Names are compared by the engine's normalised key (case, punctuation, `&`/`and`, legal
//! suffixes), handed down as a function since connectors sit below the engine. After a create
//! whose outcome is unknown, or Accelo's `duplicate` refusal, the list is read again first.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use super::api::{AcceloError, Api};
use crate::connect::encode::id_text;

/// An existing company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// What resolving a new client's name gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// One company has the name's key: reuse it.
    Found(String),
    /// It was created now.
    Created(String),
    /// Several have it: a person chooses.
    Ambiguous(Vec<Company>),
}

/// The deployment's companies for one run.
pub struct Companies {
    key: fn(&str) -> String,
    known: Mutex<Option<Vec<Company>>>,
    stale: AtomicBool,
    creating: Mutex<()>,
}

impl Companies {
    /// An empty cache comparing names by `key`.
    pub fn new(key: fn(&str) -> String) -> Companies {
        Companies {
            key,
            known: Mutex::new(None),
            stale: AtomicBool::new(false),
            creating: Mutex::new(()),
        }
    }

    /// Every company (read once per run, or again when marked stale).
    pub fn list(&self, api: &Api) -> Result<Vec<Company>, AcceloError> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = known
            .as_ref()
            .filter(|_| !self.stale.load(Ordering::SeqCst))
        {
            return Ok(list.clone());
        }
        let query = [("_fields", "standing".to_string())];
        let records = api.list("/companies", &query, "list companies", None, None)?;
        let list: Vec<Company> = records
            .iter()
            .filter_map(|r| {
                let id = r.get("id").and_then(id_text)?;
                let name = r.get("name").and_then(Value::as_str)?.to_string();
                Some(Company { id, name })
            })
            .collect();
        *known = Some(list.clone());
        self.stale.store(false, Ordering::SeqCst);
        Ok(list)
    }

    /// The companies as client records (`id`, `name`) for the engine's directory.
    pub fn records(&self, api: &Api) -> Result<Vec<Value>, AcceloError> {
        Ok(self
            .list(api)?
            .into_iter()
            .map(|c| json!({"id": c.id, "name": c.name}))
            .collect())
    }

    fn matching(&self, list: &[Company], name: &str) -> Vec<Company> {
        let key = (self.key)(name);
        list.iter()
            .filter(|c| (self.key)(&c.name) == key)
            .cloned()
            .collect()
    }

    /// The company for a client the engine found no match for: one that exists by now (made
    /// for an earlier deal, or before a crash), else a new one named `name`.
    pub fn find_or_create(
        &self,
        api: &Api,
        name: &str,
        deal: &str,
    ) -> Result<Resolved, AcceloError> {
        let _one_at_a_time = self.creating.lock().unwrap_or_else(|p| p.into_inner());
        let list = self.list(api)?;
        match self.matching(&list, name).as_slice() {
            [one] => return Ok(Resolved::Found(one.id.clone())),
            [] => {}
            many => return Ok(Resolved::Ambiguous(many.to_vec())),
        }
        let pairs = [
            ("name".to_string(), name.to_string()),
            ("_fields".to_string(), "standing".to_string()),
        ];
        match api.post_form("/companies", &pairs, "create company", Some(deal), false) {
            Ok(answer) => {
                let id = answer.get("id").and_then(id_text).ok_or_else(|| {
                    self.stale.store(true, Ordering::SeqCst);
                    AcceloError::from(crate::connect::vendor::VendorError {
                        endpoint: "Accelo POST /api/v0/companies".into(),
                        status: Some(200),
                        message: "the answer names no company id".into(),
                        maybe_sent: true,
                        after: None,
                    })
                })?;
                let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(list) = known.as_mut() {
                    list.push(Company {
                        id: id.clone(),
                        name: name.to_string(),
                    });
                }
                Ok(Resolved::Created(id))
            }
            Err(error) => {
                // A duplicate, or an outcome not known: read the list again before deciding.
                if error.meta.as_deref() == Some("duplicate")
                    || error.error.maybe_sent
                    || error.error.status.is_none_or(|s| s >= 500)
                {
                    self.stale.store(true, Ordering::SeqCst);
                }
                if error.meta.as_deref() == Some("duplicate") {
                    let list = self.list(api)?;
                    if let [one] = self.matching(&list, name).as_slice() {
                        return Ok(Resolved::Found(one.id.clone()));
                    }
                }
                Err(error)
            }
        }
    }
}
