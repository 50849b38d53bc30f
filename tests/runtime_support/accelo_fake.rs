//! A loopback fake of one Accelo deployment, answering as docs/connectors/accelo.md says:
//!
//! - `POST /oauth2/v0/token`: client credentials by HTTP Basic, form-encoded, a bearer token
//!   with `expires_in` as a string; `/oauth2` is not rate limited.
//! - `/api/v0/...`: the bearer token checked (401 `invalid_client`); every answer in the
//!   `{"meta", "response"}` envelope with every scalar a string; lists paged by `_page` (from
//!   0) and `_limit` (at most 100, default 10), with no total; `X-RateLimit-Limit/-Remaining/
//!   -Reset` on every answer and 429 `too_many_requests` past the budget (5,000 an hour, or
//!   a small budget per short window for tests).
//! - companies (list, create: form-encoded, `name` required, 400 `duplicate` for a name in
//!   use), job types, statuses, staff, profile fields (from the samples), jobs (create:
//!   form-encoded only, the required fields checked against the reference data, `standing`
//!   from `status_id`; list with `_search` over titles; read: 400 `invalid_request` when there
//!   is none), profile values (set, list with `_filters=field_id(...)`).
//! - The runtime's faults on `POST /api/v0/jobs`: 429, 500, 503, a reset before the write, the
//!   write committed and its answer lost or late.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::loopback::{Fault, Faults, Handler, Loopback, Reply, Request};

/// A job the fake holds.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its id.
    pub id: String,
    /// The form fields it was created with.
    pub form: BTreeMap<String, String>,
    /// Its standing (from its status).
    pub standing: String,
}

/// What the fake holds and saw.
pub struct State {
    client_id: String,
    client_secret: String,
    tokens: Vec<String>,
    /// Companies: (id, name).
    pub companies: Vec<(String, String)>,
    /// Jobs, in creation order.
    pub jobs: Vec<Job>,
    /// Profile values: (job id, field id, value).
    pub profile_values: Vec<(String, String, String)>,
    reference: BTreeMap<&'static str, Vec<Value>>,
    /// Every request: (method, path).
    pub requests: Vec<(String, String)>,
    /// Requests allowed per window, and the window.
    pub budget: (u64, Duration),
    window: (Instant, u64),
    /// 429s answered.
    pub throttled: u64,
    /// Faults injected into job creates.
    pub faults: Faults,
    /// How late a slow answer comes.
    pub slow: Duration,
}

/// The running fake.
pub struct AcceloFake {
    server: Loopback,
    /// Its state, for tests to arrange and inspect.
    pub state: Arc<Mutex<State>>,
}

fn envelope(status: u16, meta: &str, message: &str, response: Value) -> Reply {
    Reply::json(
        status,
        &json!({"meta": {"more_info": format!("https://api.accelo.com/docs/#{meta}"), "status": meta, "message": message}, "response": response}),
    )
}

fn ok(response: Value) -> Reply {
    envelope(200, "ok", "Everything executed as expected.", response)
}

fn invalid(message: &str) -> Reply {
    envelope(400, "invalid_request", message, Value::Null)
}

fn sample(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/mappings/samples/vendor-api/accelo/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read(path).expect("sample");
    let value: Value = serde_json::from_slice(&text).expect("sample JSON");
    value["response"]
        .as_array()
        .cloned()
        .expect("a list sample")
}

impl AcceloFake {
    /// Starts the fake for a service application's credentials, with the samples' companies,
    /// job types, statuses, staff and profile fields.
    pub fn start(client_id: &str, client_secret: &str) -> AcceloFake {
        let companies = sample("companies")
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap_or_default().to_string(),
                    c["name"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let reference = BTreeMap::from([
            ("types", sample("job_types")),
            ("statuses", sample("job_statuses")),
            ("staff", sample("staff")),
            ("fields", sample("job_profile_fields")),
        ]);
        let state = Arc::new(Mutex::new(State {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            tokens: Vec::new(),
            companies,
            jobs: Vec::new(),
            profile_values: Vec::new(),
            reference,
            requests: Vec::new(),
            budget: (5000, Duration::from_secs(3600)),
            window: (Instant::now(), 0),
            throttled: 0,
            faults: Faults::none(),
            slow: Duration::from_millis(600),
        }));
        let shared = Arc::clone(&state);
        let handler: Handler = Arc::new(move |request| answer(&shared, request));
        AcceloFake {
            server: Loopback::start(handler),
            state,
        }
    }

    /// The base URL (`MAPCTL_ACCELO_URL`).
    pub fn url(&self) -> String {
        self.server.base()
    }

    /// The jobs created.
    pub fn jobs(&self) -> Vec<Job> {
        self.state.lock().unwrap().jobs.clone()
    }

    /// Jobs by the marker at the end of their title (`HS-18000000027`).
    pub fn jobs_by_marker(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for job in self.jobs() {
            let title = job.form.get("title").cloned().unwrap_or_default();
            let marker = title
                .rsplit_once('[')
                .map(|(_, m)| m.trim_end_matches(']').to_string())
                .unwrap_or_default();
            *counts.entry(marker).or_default() += 1;
        }
        counts
    }

    /// The companies, by name.
    pub fn companies(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().companies.clone()
    }

    /// Requests whose path starts with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(m, p)| m == method && p.starts_with(prefix))
            .count()
    }
}

fn answer(state: &Mutex<State>, request: &Request) -> Reply {
    let mut state = state.lock().unwrap();
    state
        .requests
        .push((request.method.clone(), request.path.clone()));
    if request.path == "/oauth2/v0/token" {
        return token(&mut state, request);
    }
    let authorized = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| state.tokens.iter().any(|k| k == t));
    if !authorized {
        return envelope(
            401,
            "invalid_client",
            "The access token is missing, invalid or expired.",
            Value::Null,
        );
    }
    let (budget, window) = state.budget;
    if state.window.0.elapsed() >= window {
        state.window = (Instant::now(), 0);
    }
    state.window.1 += 1;
    let reset = (mapctl::ledger::now_ms() / 1000)
        + i64::try_from((window.saturating_sub(state.window.0.elapsed())).as_secs()).unwrap_or(0)
        + 1;
    let remaining = budget.saturating_sub(state.window.1);
    if state.window.1 > budget {
        state.throttled += 1;
        return Reply::json(429, &json!({"meta": {"message": "Rate limit exceeded for ourfirm.api.accelo.com", "status": "too_many_requests", "more_info": "api.accelo.com/docs/#rate-limiting"}}))
            .with_header("X-RateLimit-Limit", budget.to_string())
            .with_header("X-RateLimit-Remaining", "0")
            .with_header("X-RateLimit-Reset", reset.to_string());
    }
    route(&mut state, request)
        .with_header("X-RateLimit-Limit", budget.to_string())
        .with_header("X-RateLimit-Remaining", remaining.to_string())
        .with_header("X-RateLimit-Reset", reset.to_string())
}

fn token(state: &mut State, request: &Request) -> Reply {
    let basic = format!("{}:{}", state.client_id, state.client_secret);
    let expected = format!(
        "Basic {}",
        mapctl::connect::encode::base64(basic.as_bytes())
    );
    let form = request.form();
    let grant = form
        .iter()
        .any(|(k, v)| k == "grant_type" && v == "client_credentials");
    if request.header("authorization") != Some(expected.as_str()) || !grant {
        return Reply::json(
            401,
            &json!({"meta": {"status": "invalid_client", "message": "Client authentication failed."}}),
        );
    }
    let token = format!("tok{}", state.tokens.len() + 1);
    state.tokens.push(token.clone());
    Reply::json(
        200,
        &json!({"access_token": token, "expires_in": "2592000", "token_type": "bearer",
        "deployment": "ourfirm", "deployment_name": "Our Firm", "deployment_uri": "https://ourfirm.accelo.com", "account_id": "c94b31a6f3"}),
    )
}

fn page(request: &Request, items: Vec<Value>) -> Reply {
    let limit: usize = request
        .param("_limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10);
    if limit > 100 {
        return invalid("_limit may be at most 100");
    }
    let page: usize = request
        .param("_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let start = (page * limit).min(items.len());
    let end = (start + limit).min(items.len());
    ok(Value::Array(items[start..end].to_vec()))
}

fn route(state: &mut State, request: &Request) -> Reply {
    let path = request.path.as_str();
    let form_encoded = request.header("content-type") == Some("application/x-www-form-urlencoded");
    match (request.method.as_str(), path) {
        ("GET", "/api/v0/companies") => {
            let items = state
                .companies
                .iter()
                .map(|(id, name)| json!({"id": id, "name": name, "standing": "active"}))
                .collect();
            page(request, items)
        }
        ("POST", "/api/v0/companies") if form_encoded => create_company(state, request),
        ("GET", "/api/v0/jobs/types") => page(request, state.reference["types"].clone()),
        ("GET", "/api/v0/jobs/statuses") => page(request, state.reference["statuses"].clone()),
        ("GET", "/api/v0/jobs/profiles/fields") => page(request, state.reference["fields"].clone()),
        ("GET", "/api/v0/staff") => {
            let active: Vec<Value> = state.reference["staff"]
                .iter()
                .filter(|s| {
                    request.param("_filters") != Some("standing(active)")
                        || s["standing"] == "active"
                })
                .cloned()
                .collect();
            page(request, active)
        }
        ("GET", "/api/v0/jobs/profiles/values") => profile_values(state, request),
        ("POST", "/api/v0/jobs") if form_encoded => create_job(state, request),
        ("GET", "/api/v0/jobs") => {
            let term = request.param("_search").unwrap_or_default().to_lowercase();
            let items = state
                .jobs
                .iter()
                .filter(|j| {
                    j.form
                        .get("title")
                        .is_some_and(|t| t.to_lowercase().contains(&term))
                })
                .map(job_json)
                .collect();
            page(request, items)
        }
        ("POST", _)
            if path.starts_with("/api/v0/jobs/")
                && path.contains("/profiles/fields/")
                && form_encoded =>
        {
            set_profile_value(state, request)
        }
        ("GET", _) if path.starts_with("/api/v0/jobs/") => {
            let id = &path["/api/v0/jobs/".len()..];
            match state.jobs.iter().find(|j| j.id == id) {
                Some(job) => ok(job_json(job)),
                None => invalid(
                    "The request could not be interpreted. Please ensure that the resource you are requesting actually exists.",
                ),
            }
        }
        ("POST", _) => invalid("send the fields form-encoded (application/x-www-form-urlencoded)"),
        _ => invalid("unknown resource"),
    }
}

fn form_map(request: &Request) -> BTreeMap<String, String> {
    request.form().into_iter().collect()
}

fn create_company(state: &mut State, request: &Request) -> Reply {
    let form = form_map(request);
    let Some(name) = form.get("name").filter(|n| !n.trim().is_empty()) else {
        return invalid("name is required");
    };
    if state.companies.iter().any(|(_, n)| n == name) {
        return envelope(
            400,
            "duplicate",
            "An attempt to create an object with the same name, title, or username as an already existing object",
            Value::Null,
        );
    }
    let id = (131 + state.companies.len()).to_string();
    state.companies.push((id.clone(), name.clone()));
    ok(json!({"id": id, "name": name, "standing": "active", "date_created": "1742036790"}))
}

fn job_json(job: &Job) -> Value {
    json!({"id": job.id, "title": job.form.get("title"), "against_type": job.form.get("against_type"),
           "against_id": job.form.get("against_id"), "job_type": job.form.get("type_id"), "manager": job.form.get("manager_id"),
           "status": job.form.get("status_id"), "standing": job.standing, "date_started": job.form.get("date_started"),
           "date_created": "1742036812"})
}

fn known(list: &[Value], id: Option<&String>) -> bool {
    id.is_some_and(|id| list.iter().any(|r| r["id"].as_str() == Some(id.as_str())))
}

fn create_job(state: &mut State, request: &Request) -> Reply {
    let fault = state.faults.pick();
    match fault {
        Some(Fault::TooMany) => {
            state.throttled += 1;
            return Reply::json(
                429,
                &json!({"meta": {"message": "Rate limit exceeded", "status": "too_many_requests"}}),
            )
            .with_header("X-RateLimit-Remaining", "0")
            .with_header(
                "X-RateLimit-Reset",
                (mapctl::ledger::now_ms() / 1000).to_string(),
            );
        }
        Some(Fault::ServerError) => {
            return envelope(500, "server_error", "internal error", Value::Null);
        }
        Some(Fault::Unavailable) => {
            return envelope(503, "server_error", "unavailable", Value::Null);
        }
        Some(Fault::ResetBeforeWrite) => return Reply::Close,
        _ => {}
    }
    let form = form_map(request);
    for field in [
        "title",
        "against_type",
        "against_id",
        "type_id",
        "manager_id",
    ] {
        if form.get(field).is_none_or(|v| v.is_empty()) {
            return invalid(&format!("{field} is required"));
        }
    }
    if form.get("against_type").map(String::as_str) != Some("company")
        || !state
            .companies
            .iter()
            .any(|(id, _)| Some(id) == form.get("against_id"))
    {
        return invalid("against_id MUST point to a valid company");
    }
    if !known(&state.reference["types"], form.get("type_id")) {
        return invalid("type_id MUST point to a valid job type");
    }
    if !known(&state.reference["staff"], form.get("manager_id")) {
        return invalid("manager_id MUST point to a valid staff");
    }
    let standing = match form.get("status_id") {
        None => "pending".to_string(),
        Some(id) => match state.reference["statuses"]
            .iter()
            .find(|s| s["id"].as_str() == Some(id))
        {
            Some(status) => status["standing"].as_str().unwrap_or("pending").to_string(),
            None => return invalid("status_id MUST point to a valid status"),
        },
    };
    let id = (2417 + state.jobs.len()).to_string();
    let job = Job { id, form, standing };
    let body = job_json(&job);
    state.jobs.push(job);
    match fault {
        Some(Fault::LostAfterCommit) => Reply::Close,
        Some(Fault::SlowAfterCommit) => ok(body).delayed(state.slow),
        _ => ok(body),
    }
}

fn set_profile_value(state: &mut State, request: &Request) -> Reply {
    let rest = &request.path["/api/v0/jobs/".len()..];
    let (job, field) = rest.split_once("/profiles/fields/").unwrap_or((rest, ""));
    if !state.jobs.iter().any(|j| j.id == job)
        || !known(&state.reference["fields"], Some(&field.to_string()))
    {
        return invalid("the job or the profile field does not exist");
    }
    let value = form_map(request).get("value").cloned().unwrap_or_default();
    state
        .profile_values
        .retain(|(j, f, _)| !(j == job && f == field));
    state
        .profile_values
        .push((job.to_string(), field.to_string(), value.clone()));
    ok(
        json!({"id": (5120 + state.profile_values.len()).to_string(), "field_id": field, "field_name": "CRM deal id", "field_type": "text",
              "value": value, "value_type": null, "link_type": "job", "link_id": job, "date_modified": "1742036813", "modified_by": "12"}),
    )
}

fn profile_values(state: &mut State, request: &Request) -> Reply {
    let filters = request.param("_filters").unwrap_or_default();
    let field = filters
        .split("field_id(")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_default();
    let mut items: Vec<Value> = state
        .profile_values
        .iter()
        .filter(|(_, f, _)| field.is_empty() || f == field)
        .map(|(job, f, value)| json!({"id": "1", "field_id": f, "value": value, "link_type": "job", "link_id": job, "field_type": "text"}))
        .collect();
    if filters.contains("order_by_desc(date_modified)") {
        items.reverse();
    }
    page(request, items)
}
