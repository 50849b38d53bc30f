//! A loopback fake of the firm's home-grown project system behind mappings/zoho_to_custom.map
//! (schemas/custom/project.schema.json), reached through mapctl's generic HTTP target
//! (docs/runtime.md, "The generic HTTP target"):
//!
//! - `POST /api/projects` (JSON, `Authorization: Bearer …`): 201 with the project (`id`,
//!   the record, `status: "planned"`); a client given by `client.existing_id` must exist, one
//!   given by `client.name` only is created; the system ignores `Idempotency-Key`, so only
//!   mapctl's ledger and lookups stand between a retry and a duplicate;
//! - `GET /api/projects?deal_id=D`: the projects whose `source.deal_id` is D (a JSON array);
//! - the runtime's faults on creates: 429 with `Retry-After`, 500, a reset before the write, the
//!   write committed and its answer lost or late.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::loopback::{Fault, Faults, Handler, Loopback, Reply, Request};

/// What the fake holds and saw.
pub struct State {
    token: String,
    /// Clients: (id, name).
    pub clients: Vec<(String, String)>,
    /// Projects, in creation order.
    pub projects: Vec<Value>,
    /// Every request: (method, path).
    pub requests: Vec<(String, String)>,
    /// Faults injected into creates.
    pub faults: Faults,
    /// 429s answered.
    pub throttled: u64,
    /// How late a slow answer comes.
    pub slow: Duration,
}

/// The running fake.
pub struct ProjectsFake {
    server: Loopback,
    /// Its state.
    pub state: Arc<Mutex<State>>,
}

impl ProjectsFake {
    /// Starts the fake with `clients` (id, name), accepting `Bearer token`.
    pub fn start(token: &str, clients: &[(&str, &str)]) -> ProjectsFake {
        let state = Arc::new(Mutex::new(State {
            token: token.into(),
            clients: clients
                .iter()
                .map(|(id, name)| (id.to_string(), name.to_string()))
                .collect(),
            projects: Vec::new(),
            requests: Vec::new(),
            faults: Faults::none(),
            throttled: 0,
            slow: Duration::from_millis(600),
        }));
        let shared = Arc::clone(&state);
        let handler: Handler = Arc::new(move |request| answer(&shared, request));
        ProjectsFake {
            server: Loopback::start(handler),
            state,
        }
    }

    /// Where projects are POSTed.
    pub fn url(&self) -> String {
        format!("{}/api/projects", self.server.base())
    }

    /// The lookup template (`--lookup-url`).
    pub fn lookup(&self) -> String {
        format!("{}/api/projects?deal_id={{deal_id}}", self.server.base())
    }

    /// The projects created.
    pub fn projects(&self) -> Vec<Value> {
        self.state.lock().unwrap().projects.clone()
    }

    /// Projects by the deal id their records carry.
    pub fn projects_by_deal(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for project in self.projects() {
            let deal = project["source"]["deal_id"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            *counts.entry(deal).or_default() += 1;
        }
        counts
    }

    /// Requests of `method` whose path starts with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        let state = self.state.lock().unwrap();
        state
            .requests
            .iter()
            .filter(|(m, p)| m == method && p.starts_with(prefix))
            .count()
    }
}

fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, &json!({"error": text}))
}

fn answer(state: &Mutex<State>, request: &Request) -> Reply {
    let mut state = state.lock().unwrap();
    state
        .requests
        .push((request.method.clone(), request.path.clone()));
    let bearer = format!("Bearer {}", state.token);
    if request.header("authorization") != Some(bearer.as_str()) {
        return message(401, "unauthorized");
    }
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/api/projects") => create(&mut state, request),
        ("GET", "/api/projects") => {
            let deal = request.param("deal_id").unwrap_or_default();
            let found: Vec<Value> = state
                .projects
                .iter()
                .filter(|p| p["source"]["deal_id"] == deal)
                .cloned()
                .collect();
            Reply::json(200, &Value::Array(found))
        }
        _ => message(404, "not found"),
    }
}

fn create(state: &mut State, request: &Request) -> Reply {
    let fault = state.faults.pick();
    match fault {
        Some(Fault::TooMany) => {
            state.throttled += 1;
            return message(429, "slow down").with_header("Retry-After", "1");
        }
        Some(Fault::ServerError | Fault::Unavailable) => return message(500, "internal error"),
        Some(Fault::ResetBeforeWrite) => return Reply::Close,
        _ => {}
    }
    let Some(Value::Object(mut project)) = request.json() else {
        return message(400, "the body is not a JSON object");
    };
    if project
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
        || project["source"]["deal_id"].as_str().is_none()
    {
        return message(422, "name and source.deal_id are required");
    }
    let client = project.get("client").cloned().unwrap_or(Value::Null);
    let client_id = match client["existing_id"].as_str() {
        Some(id) if state.clients.iter().any(|(known, _)| known == id) => id.to_string(),
        Some(id) => return message(422, &format!("client {id} does not exist")),
        None => {
            let name = client["name"].as_str().unwrap_or_default().to_string();
            let id = format!("cl_{}", 2000 + state.clients.len());
            state.clients.push((id.clone(), name));
            id
        }
    };
    let id = format!("PRJ-{}", 1001 + state.projects.len());
    project.insert("id".into(), json!(id));
    project.insert("client_id".into(), json!(client_id));
    project.insert("status".into(), json!("planned"));
    let project = Value::Object(project);
    state.projects.push(project.clone());
    match fault {
        Some(Fault::LostAfterCommit) => Reply::Close,
        Some(Fault::SlowAfterCommit) => Reply::json(201, &project).delayed(state.slow),
        _ => Reply::json(201, &project),
    }
}
