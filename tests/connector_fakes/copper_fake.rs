//! A loopback fake of one Copper account, answering as docs/connectors/copper.md says:
//!
//! - every request must carry `X-PW-AccessToken`, `X-PW-Application: developer_api`,
//!   `X-PW-UserEmail` and `Content-Type: application/json` (else 401; Copper documents no error
//!   body, so errors are `{"message"}`, our choice, 8);
//! - `POST /developer_api/v1/opportunities/search`: `status_ids`, `pipeline_ids`,
//!   `pipeline_stage_ids`, `minimum_modified_date` (inclusive), `sort_by` (`date_modified`),
//!   `sort_direction`, `page_size` (1–200, else 400), `page_number` (from 1); a bare JSON array
//!   and `X-PW-TOTAL` (4.1);
//! - `GET /developer_api/v1/opportunities/{id}`: the opportunity, 404 when there is none;
//! - `PUT /developer_api/v1/opportunities/{id}`: only the fields the body names change (custom
//!   fields by definition id), `date_modified` moves on, the whole opportunity comes back (4.3);
//! - more than a budget of requests per window (180 a minute, or a test's): 429, no documented
//!   `Retry-After` (a test may ask for one), and a 429 every n-th search on demand.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::loopback::{Faults, Handler, Loopback, Reply, Request};

const PREFIX: &str = "/developer_api/v1";

/// What the fake holds and saw.
pub struct State {
    token: String,
    email: String,
    /// Opportunities, by id order of insertion.
    pub opportunities: Vec<Value>,
    /// Every request: (method, path).
    pub requests: Vec<(String, String)>,
    /// Search bodies received.
    pub searches: Vec<Value>,
    /// PUT bodies received: (opportunity id, body).
    pub updates: Vec<(String, Value)>,
    /// Requests allowed per window, and the window.
    pub budget: (u64, Duration),
    window: (Instant, u64),
    /// A 429 on every n-th search.
    pub search_429_every: Option<u64>,
    /// The next this many requests answer 429.
    pub throttle_next: u32,
    /// `Retry-After` seconds sent with 429s (Copper documents none).
    pub retry_after: Option<u64>,
    /// 429s answered.
    pub throttled: u64,
    /// Faults injected into any request.
    pub faults: Faults,
    clock: i64,
    search_calls: u64,
}

/// The running fake.
pub struct CopperFake {
    server: Loopback,
    /// Its state.
    pub state: Arc<Mutex<State>>,
}

impl CopperFake {
    /// Starts the fake for one user's API key.
    pub fn start(token: &str, email: &str) -> CopperFake {
        let state = Arc::new(Mutex::new(State {
            token: token.into(),
            email: email.into(),
            opportunities: Vec::new(),
            requests: Vec::new(),
            searches: Vec::new(),
            updates: Vec::new(),
            budget: (180, Duration::from_secs(60)),
            window: (Instant::now(), 0),
            search_429_every: None,
            throttle_next: 0,
            retry_after: None,
            throttled: 0,
            faults: Faults::none(),
            clock: 1_741_944_000,
            search_calls: 0,
        }));
        let shared = Arc::clone(&state);
        let handler: Handler = Arc::new(move |request| answer(&shared, request));
        CopperFake {
            server: Loopback::start(handler),
            state,
        }
    }

    /// The base URL (`MAPCTL_COPPER_URL`).
    pub fn url(&self) -> String {
        self.server.base()
    }

    /// Adds an opportunity (its `date_modified` set to the fake's clock).
    pub fn opportunity(&self, mut opportunity: Value) {
        let mut state = self.state.lock().unwrap();
        state.clock += 7;
        opportunity["date_modified"] = json!(state.clock);
        state.opportunities.push(opportunity);
    }

    /// Changes top-level fields of an opportunity, as a user editing it in Copper does.
    pub fn edit(&self, id: i64, fields: &Value) {
        let mut state = self.state.lock().unwrap();
        state.clock += 7;
        let clock = state.clock;
        let opportunity = state
            .opportunities
            .iter_mut()
            .find(|o| o["id"] == id)
            .expect("the opportunity exists");
        for (key, value) in fields.as_object().expect("fields") {
            opportunity[key] = value.clone();
        }
        opportunity["date_modified"] = json!(clock);
    }

    /// A custom field's value of an opportunity.
    pub fn custom_field(&self, id: i64, definition: i64) -> Value {
        let state = self.state.lock().unwrap();
        let opportunity = state.opportunities.iter().find(|o| o["id"] == id);
        opportunity
            .and_then(|o| o["custom_fields"].as_array())
            .and_then(|fields| {
                fields
                    .iter()
                    .find(|f| f["custom_field_definition_id"] == definition)
            })
            .map(|f| f["value"].clone())
            .unwrap_or(Value::Null)
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
    let authorized = request.header("x-pw-accesstoken") == Some(state.token.as_str())
        && request.header("x-pw-application") == Some("developer_api")
        && request.header("x-pw-useremail") == Some(state.email.as_str());
    if !authorized {
        return message(401, "Invalid credentials");
    }
    if request.header("content-type") != Some("application/json") {
        return message(400, "Content-Type must be application/json");
    }
    if let Some(reply) = throttle(&mut state, request) {
        return reply;
    }
    match state.faults.pick() {
        Some(crate::support::loopback::Fault::ServerError) => {
            return message(500, "Internal Server Error");
        }
        Some(crate::support::loopback::Fault::ResetBeforeWrite) => return Reply::Close,
        _ => {}
    }
    let Some(path) = request.path.strip_prefix(PREFIX) else {
        return message(404, "Not found");
    };
    match (request.method.as_str(), path) {
        ("POST", "/opportunities/search") => search(&mut state, request),
        ("GET", _) if path.starts_with("/opportunities/") => {
            let id = &path["/opportunities/".len()..];
            match state.opportunities.iter().find(|o| same_id(&o["id"], id)) {
                Some(opportunity) => Reply::json(200, opportunity),
                None => message(404, "Resource not found"),
            }
        }
        ("PUT", _) if path.starts_with("/opportunities/") => {
            let id = path["/opportunities/".len()..].to_string();
            update(&mut state, &id, request)
        }
        _ => message(404, "Not found"),
    }
}

fn throttle(state: &mut State, request: &Request) -> Option<Reply> {
    let (budget, window) = state.budget;
    if state.window.0.elapsed() >= window {
        state.window = (Instant::now(), 0);
    }
    state.window.1 += 1;
    let mut every = false;
    if request.path.ends_with("/search") {
        state.search_calls += 1;
        every = state
            .search_429_every
            .is_some_and(|n| state.search_calls.is_multiple_of(n));
    }
    if state.throttle_next > 0 {
        state.throttle_next -= 1;
        every = true;
    }
    if state.window.1 <= budget && !every {
        return None;
    }
    state.throttled += 1;
    let reply = message(429, "Too many requests");
    Some(match state.retry_after {
        Some(seconds) => reply.with_header("Retry-After", seconds.to_string()),
        None => reply,
    })
}

fn ids(body: &Value, key: &str) -> Option<Vec<i64>> {
    body.get(key)?
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
}

fn status_id(status: &Value) -> i64 {
    match status.as_str() {
        Some("Open") => 0,
        Some("Won") => 1,
        Some("Lost") => 2,
        _ => 3,
    }
}

fn search(state: &mut State, request: &Request) -> Reply {
    let Some(body) = request.json() else {
        return message(400, "the body is not JSON");
    };
    state.searches.push(body.clone());
    let page_size = body["page_size"].as_u64().unwrap_or(20);
    if !(1..=200).contains(&page_size) {
        return message(400, "page_size must be between 1 and 200");
    }
    let page = body["page_number"].as_u64().unwrap_or(1).max(1);
    let since = body["minimum_modified_date"].as_i64().unwrap_or(0);
    let statuses = ids(&body, "status_ids");
    let stages = ids(&body, "pipeline_stage_ids");
    let pipelines = ids(&body, "pipeline_ids");
    let within =
        |list: &Option<Vec<i64>>, value: i64| list.as_ref().is_none_or(|l| l.contains(&value));
    let mut matching: Vec<Value> = state
        .opportunities
        .iter()
        .filter(|o| o["date_modified"].as_i64().unwrap_or(0) >= since)
        .filter(|o| within(&statuses, status_id(&o["status"])))
        .filter(|o| within(&stages, o["pipeline_stage_id"].as_i64().unwrap_or(-1)))
        .filter(|o| within(&pipelines, o["pipeline_id"].as_i64().unwrap_or(-1)))
        .cloned()
        .collect();
    if body["sort_by"] == "date_modified" {
        matching.sort_by_key(|o| o["date_modified"].as_i64().unwrap_or(0));
        if body["sort_direction"] == "desc" {
            matching.reverse();
        }
    }
    let total = matching.len();
    let start = usize::try_from((page - 1) * page_size)
        .unwrap_or(usize::MAX)
        .min(total);
    let end = (start + page_size as usize).min(total);
    Reply::json(200, &Value::Array(matching[start..end].to_vec()))
        .with_header("X-PW-TOTAL", total.to_string())
}

fn update(state: &mut State, id: &str, request: &Request) -> Reply {
    let Some(Value::Object(body)) = request.json() else {
        return message(400, "the body is not a JSON object");
    };
    state
        .updates
        .push((id.to_string(), Value::Object(body.clone())));
    state.clock += 7;
    let clock = state.clock;
    let Some(opportunity) = state
        .opportunities
        .iter_mut()
        .find(|o| same_id(&o["id"], id))
    else {
        return message(404, "Resource not found");
    };
    for (key, value) in body {
        if key == "custom_fields" {
            for entry in value.as_array().into_iter().flatten() {
                let definition = &entry["custom_field_definition_id"];
                let fields = opportunity["custom_fields"]
                    .as_array_mut()
                    .expect("custom fields");
                match fields
                    .iter_mut()
                    .find(|f| &f["custom_field_definition_id"] == definition)
                {
                    Some(field) => field["value"] = entry["value"].clone(),
                    None => return message(422, "unknown custom field definition"),
                }
            }
        } else {
            opportunity[key] = value;
        }
    }
    opportunity["date_modified"] = json!(clock);
    Reply::json(200, opportunity)
}

/// Whether a JSON id is the id a path or query names.
fn same_id(value: &Value, id: &str) -> bool {
    value.as_i64().is_some() && id.parse::<i64>().ok() == value.as_i64()
}
