//! A loopback fake of one Harvest v2 account, answering as docs/connectors/harvest.md says:
//!
//! - `Authorization: Bearer`, `Harvest-Account-Id` (401 otherwise) and a `User-Agent` (400
//!   without one, 2);
//! - `GET /v2/clients`, `GET /v2/projects?client_id=`: newest first, `per_page` (1–2000,
//!   default 2000), paged by cursor: `links.next` is an absolute URL with `cursor=…&ref=
//!   next_cursor`, `null` on the last page (4.1, 4.3, 5);
//! - `POST /v2/clients` (JSON; `name` required, 422 for a name in use) and `POST /v2/projects`
//!   (JSON; `client_id`, `name`, `is_billable`, `bill_by`, `budget_by` required, the enums
//!   checked, the client must exist, names unique: 422 `{"message"}`), both 201 with the object
//!   (4.2, 4.4); `GET /v2/projects/{id}`;
//! - 100 requests per 15 s (or a test's budget), then 429 with `Retry-After` (6);
//! - the runtime's faults on `POST /v2/projects`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::support::loopback::{Fault, Faults, Handler, Loopback, Reply, Request};

/// What the fake holds and saw.
pub struct State {
    token: String,
    account: String,
    base: String,
    /// Clients, in creation order.
    pub clients: Vec<Value>,
    /// Projects, in creation order.
    pub projects: Vec<Value>,
    /// Every request: (method, path).
    pub requests: Vec<(String, String)>,
    /// User-Agents seen.
    pub agents: Vec<String>,
    /// Requests allowed per window, and the window.
    pub budget: (u64, Duration),
    window: (Instant, u64),
    /// The most records a page holds, whatever `per_page` asks (to make lists page).
    pub page_cap: usize,
    /// The `Retry-After` seconds of a 429.
    pub retry_after: u64,
    /// 429s answered.
    pub throttled: u64,
    /// Faults injected into project creates.
    pub faults: Faults,
    /// How late a slow answer comes.
    pub slow: Duration,
    next_id: u64,
}

/// The running fake.
pub struct HarvestFake {
    server: Loopback,
    /// Its state.
    pub state: Arc<Mutex<State>>,
}

impl HarvestFake {
    /// Starts the fake for a token and account, with `clients` (id, name, active).
    pub fn start(token: &str, account: &str, clients: &[(u64, &str, bool)]) -> HarvestFake {
        let clients = clients
            .iter()
            .map(|(id, name, active)| json!({"id": id, "name": name, "is_active": active, "currency": "USD"}))
            .collect();
        let state = Arc::new(Mutex::new(State {
            token: token.into(),
            account: account.into(),
            base: String::new(),
            clients,
            projects: Vec::new(),
            requests: Vec::new(),
            agents: Vec::new(),
            budget: (100, Duration::from_secs(15)),
            window: (Instant::now(), 0),
            page_cap: 2000,
            retry_after: 1,
            throttled: 0,
            faults: Faults::none(),
            slow: Duration::from_millis(600),
            next_id: 14_308_112,
        }));
        let shared = Arc::clone(&state);
        let handler: Handler = Arc::new(move |request| answer(&shared, request));
        let server = Loopback::start(handler);
        state.lock().unwrap().base = server.base();
        HarvestFake { server, state }
    }

    /// The base URL (`MAPCTL_HARVEST_URL`).
    pub fn url(&self) -> String {
        self.server.base()
    }

    /// The projects created.
    pub fn projects(&self) -> Vec<Value> {
        self.state.lock().unwrap().projects.clone()
    }

    /// Projects by `code`.
    pub fn projects_by_code(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for project in self.projects() {
            let code = project["code"].as_str().unwrap_or("?").to_string();
            *counts.entry(code).or_default() += 1;
        }
        counts
    }

    /// The clients' names.
    pub fn client_names(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state
            .clients
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
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
    Reply::json(status, &json!({"message": text}))
}

fn answer(state: &Mutex<State>, request: &Request) -> Reply {
    let mut state = state.lock().unwrap();
    state
        .requests
        .push((request.method.clone(), request.path.clone()));
    let Some(agent) = request.header("user-agent").filter(|a| !a.is_empty()) else {
        return message(400, "Bad Request: a User-Agent header is required");
    };
    state.agents.push(agent.to_string());
    let bearer = format!("Bearer {}", state.token);
    if request.header("authorization") != Some(bearer.as_str())
        || request.header("harvest-account-id") != Some(state.account.as_str())
    {
        return Reply::json(
            401,
            &json!({"error": "invalid_token", "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."}),
        );
    }
    let (budget, window) = state.budget;
    if state.window.0.elapsed() >= window {
        state.window = (Instant::now(), 0);
    }
    state.window.1 += 1;
    if state.window.1 > budget {
        state.throttled += 1;
        let wait = state.retry_after.to_string();
        return message(429, "Too Many Requests").with_header("Retry-After", wait);
    }
    let json_body = request.header("content-type") == Some("application/json");
    let path = request.path.clone();
    match (request.method.as_str(), path.as_str()) {
        ("GET", "/v2/clients") => {
            let mut items = state.clients.clone();
            items.reverse();
            page(&state.base, state.page_cap, request, "clients", items)
        }
        ("POST", "/v2/clients") if json_body => create_client(&mut state, request),
        ("GET", "/v2/projects") => {
            let client = request.param("client_id").map(str::to_string);
            let mut items: Vec<Value> = state
                .projects
                .iter()
                .filter(|p| {
                    client
                        .as_deref()
                        .is_none_or(|c| same_id(&p["client"]["id"], c))
                })
                .cloned()
                .collect();
            items.reverse();
            page(&state.base, state.page_cap, request, "projects", items)
        }
        ("POST", "/v2/projects") if json_body => create_project(&mut state, request),
        ("GET", _) if path.starts_with("/v2/projects/") => {
            let id = &path["/v2/projects/".len()..];
            match state.projects.iter().find(|p| same_id(&p["id"], id)) {
                Some(project) => Reply::json(200, project),
                None => message(404, "Not Found"),
            }
        }
        ("POST", _) => message(415, "send JSON with Content-Type: application/json"),
        _ => message(404, "Not Found"),
    }
}

/// One page of a list: the cursor is the offset, as text (opaque to clients).
fn page(base: &str, cap: usize, request: &Request, key: &str, items: Vec<Value>) -> Reply {
    let per_page: usize = request
        .param("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(2000);
    if !(1..=2000).contains(&per_page) {
        return message(422, "per_page must be between 1 and 2000");
    }
    let start: usize = request
        .param("cursor")
        .and_then(|c| c.strip_prefix("off"))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
        .min(items.len());
    let end = (start + per_page.min(cap.max(1))).min(items.len());
    let mut query: Vec<String> = request
        .query
        .iter()
        .filter(|(k, _)| k != "cursor" && k != "ref" && k != "per_page")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    query.push(format!("per_page={per_page}"));
    let next = (end < items.len()).then(|| {
        format!(
            "{base}{}?{}&cursor=off{end}&ref=next_cursor",
            request.path,
            query.join("&")
        )
    });
    let total_pages = items.len().div_ceil(per_page).max(1);
    Reply::json(
        200,
        &json!({key: items[start..end], "per_page": per_page, "total_pages": total_pages,
            "total_entries": items.len(), "next_page": null, "previous_page": null, "page": 1,
            "links": {"first": format!("{base}{}?page=1&per_page={per_page}", request.path),
                      "next": next, "previous": null,
                      "last": format!("{base}{}?page={total_pages}&per_page={per_page}", request.path)}}),
    )
}

fn create_client(state: &mut State, request: &Request) -> Reply {
    let body = request.json().unwrap_or(Value::Null);
    let Some(name) = body["name"].as_str().filter(|n| !n.trim().is_empty()) else {
        return message(422, "Name can't be blank");
    };
    if state.clients.iter().any(|c| c["name"] == name) {
        return message(422, "Name has already been taken");
    }
    state.next_id += 1;
    let client = json!({"id": state.next_id, "name": name, "is_active": true, "currency": "USD",
        "created_at": "2025-03-14T09:41:00Z", "updated_at": "2025-03-14T09:41:00Z"});
    state.clients.push(client.clone());
    Reply::json(201, &client)
}

const BILL_BY: [&str; 4] = ["Project", "Tasks", "People", "none"];
const BUDGET_BY: [&str; 6] = [
    "project",
    "project_cost",
    "task",
    "task_fees",
    "person",
    "none",
];

fn invalid_project(state: &State, body: &Map<String, Value>) -> Option<String> {
    for field in ["client_id", "name", "is_billable", "bill_by", "budget_by"] {
        if body.get(field).is_none_or(Value::is_null) {
            return Some(format!("{field} is required"));
        }
    }
    let enum_ok =
        |field: &str, allowed: &[&str]| body[field].as_str().is_some_and(|v| allowed.contains(&v));
    if !enum_ok("bill_by", &BILL_BY) || !enum_ok("budget_by", &BUDGET_BY) {
        return Some("bill_by or budget_by is not a valid value".into());
    }
    if !state.clients.iter().any(|c| c["id"] == body["client_id"]) {
        return Some("Client can't be blank".into());
    }
    if state.projects.iter().any(|p| p["name"] == body["name"]) {
        return Some("Name has already been taken".into());
    }
    None
}

fn create_project(state: &mut State, request: &Request) -> Reply {
    let fault = state.faults.pick();
    match fault {
        Some(Fault::TooMany) => {
            state.throttled += 1;
            let wait = state.retry_after.to_string();
            return message(429, "Too Many Requests").with_header("Retry-After", wait);
        }
        Some(Fault::ServerError | Fault::Unavailable) => {
            return message(500, "Internal Server Error");
        }
        Some(Fault::ResetBeforeWrite) => return Reply::Close,
        _ => {}
    }
    let Some(Value::Object(body)) = request.json() else {
        return message(422, "the body is not a JSON object");
    };
    if let Some(problem) = invalid_project(state, &body) {
        return message(422, &problem);
    }
    state.next_id += 1;
    let client = state
        .clients
        .iter()
        .find(|c| c["id"] == body["client_id"])
        .cloned()
        .unwrap_or(Value::Null);
    let mut project = body.clone();
    project.remove("client_id");
    project.insert("id".into(), json!(state.next_id));
    project.insert(
        "client".into(),
        json!({"id": client["id"], "name": client["name"], "currency": "USD"}),
    );
    project.entry("is_active").or_insert(json!(true));
    project.entry("code").or_insert(Value::Null);
    project.insert("created_at".into(), json!("2025-03-14T09:41:02Z"));
    let project = Value::Object(project);
    state.projects.push(project.clone());
    match fault {
        Some(Fault::LostAfterCommit) => Reply::Close,
        Some(Fault::SlowAfterCommit) => Reply::json(201, &project).delayed(state.slow),
        _ => Reply::json(201, &project),
    }
}

/// Whether a JSON id is the id a path or query names.
fn same_id(value: &Value, id: &str) -> bool {
    value.as_i64().is_some() && id.parse::<i64>().ok() == value.as_i64()
}
