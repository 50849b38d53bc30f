//! Harvest's clients, which `match client` matches against (harvest.md 4.1, 4.2): Harvest has
//! no name filter, so the whole list (active and archived, 2,000 a page) is read once per run,
//! handed to the engine's client directory, and consulted again, under one lock, before a new
//! client is created. Two deals naming the same new company, however spelled, make one client;
//! a client created before a crash is found instead of created twice; an archived client that
//! matches is reported, never created a second time beside it.
//!
//! Names are compared by the engine's normalised key (handed down as a function: connectors sit
//! below the engine). After a create whose outcome is unknown, or a 422, the list is read again.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use super::api::Api;
use crate::connect::encode::id_text;
use crate::connect::vendor::VendorError;

/// A Harvest client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Its id (an integer, as text).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether it is active (not archived).
    pub active: bool,
}

/// What resolving a new client's name gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// One active client has the name's key: reuse it.
    Found(String),
    /// It was created now.
    Created(String),
    /// The one client with the key is archived: a person reactivates it (or renames).
    Archived(Client),
    /// Several have it: a person chooses.
    Ambiguous(Vec<Client>),
}

/// The account's clients for one run.
pub struct Clients {
    key: fn(&str) -> String,
    known: Mutex<Option<Vec<Client>>>,
    stale: AtomicBool,
    creating: Mutex<()>,
}

impl Clients {
    /// An empty cache comparing names by `key`.
    pub fn new(key: fn(&str) -> String) -> Clients {
        Clients {
            key,
            known: Mutex::new(None),
            stale: AtomicBool::new(false),
            creating: Mutex::new(()),
        }
    }

    /// Marks the list to be read again before it is next used.
    pub fn mark_stale(&self) {
        self.stale.store(true, Ordering::SeqCst);
    }

    /// Every client (read once per run, or again when marked stale).
    pub fn list(&self, api: &Api) -> Result<Vec<Client>, VendorError> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = known
            .as_ref()
            .filter(|_| !self.stale.load(Ordering::SeqCst))
        {
            return Ok(list.clone());
        }
        let records = api.list("/v2/clients", "clients", "list clients", None)?;
        let list: Vec<Client> = records
            .iter()
            .filter_map(|r| {
                Some(Client {
                    id: r.get("id").and_then(id_text)?,
                    name: r.get("name").and_then(Value::as_str)?.to_string(),
                    active: r.get("is_active").and_then(Value::as_bool).unwrap_or(true),
                })
            })
            .collect();
        *known = Some(list.clone());
        self.stale.store(false, Ordering::SeqCst);
        Ok(list)
    }

    /// The cached client with `id`, when the list was read (no request).
    pub fn cached(&self, id: &str) -> Option<Client> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.as_ref()?.iter().find(|c| c.id == id).cloned()
    }

    /// The clients as records for the engine's directory: `id` (a number, as Harvest's
    /// `client_id` takes it) and `name`, archived ones included so that no second client is
    /// made beside one.
    pub fn records(&self, api: &Api) -> Result<Vec<Value>, VendorError> {
        Ok(self
            .list(api)?
            .into_iter()
            .map(|c| {
                let id =
                    c.id.parse::<u64>()
                        .map_or_else(|_| json!(c.id), |n| json!(n));
                json!({"id": id, "name": c.name})
            })
            .collect())
    }

    /// The clients whose name has the key of `name`.
    pub fn matching(&self, list: &[Client], name: &str) -> Vec<Client> {
        let key = (self.key)(name);
        list.iter()
            .filter(|c| (self.key)(&c.name) == key)
            .cloned()
            .collect()
    }

    /// What a list says about `name`: `None` when no client has its key.
    fn resolve(&self, list: &[Client], name: &str) -> Option<Resolved> {
        match self.matching(list, name).as_slice() {
            [] => None,
            [one] if one.active => Some(Resolved::Found(one.id.clone())),
            [one] => Some(Resolved::Archived(one.clone())),
            many => Some(Resolved::Ambiguous(many.to_vec())),
        }
    }

    /// The client for a company the engine found no match for: one that exists by now (made
    /// for an earlier deal, or before a crash), else a new one named `name`.
    pub fn find_or_create(
        &self,
        api: &Api,
        name: &str,
        deal: &str,
    ) -> Result<Resolved, VendorError> {
        let _one_at_a_time = self.creating.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(resolved) = self.resolve(&self.list(api)?, name) {
            return Ok(resolved);
        }
        let body = json!({"name": name});
        let (request, response) = match api.post("/v2/clients", &body, "create client", Some(deal))
        {
            Ok(answer) => answer,
            Err(error) => {
                self.mark_stale();
                return Err(error);
            }
        };
        if !(200..=299).contains(&response.status) {
            let error = api.status_error(&request, &response);
            // 422 (a name in use, perhaps) or an unknown outcome: read the list again.
            if response.status == 422 || response.status >= 500 {
                self.mark_stale();
            }
            if response.status == 422
                && let Some(resolved) = self.resolve(&self.list(api)?, name)
            {
                return Ok(resolved);
            }
            return Err(error);
        }
        let answer = api
            .answer(&request, &response)
            .inspect_err(|_| self.mark_stale())?;
        let Some(id) = answer.get("id").and_then(id_text) else {
            self.mark_stale();
            return Err(VendorError {
                endpoint: "Harvest POST /v2/clients".into(),
                status: Some(response.status),
                message: "the answer names no client id".into(),
                maybe_sent: true,
                after: None,
            });
        };
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = known.as_mut() {
            list.push(Client {
                id: id.clone(),
                name: name.to_string(),
                active: true,
            });
        }
        Ok(Resolved::Created(id))
    }
}
