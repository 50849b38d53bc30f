//! A loopback fake of one Zoho CRM organisation and its data centre's accounts server, answering
//! as docs/connectors/zoho.md says:
//!
//! - `POST /oauth/v2/token` (form-encoded `grant_type=refresh_token`, `client_id`,
//!   `client_secret`, `refresh_token`): `{"access_token", "expires_in": 3600, "api_domain",
//!   "token_type"}`, or 200 `{"error": "invalid_client"}` for wrong credentials (2);
//! - `Authorization: Zoho-oauthtoken …` on every API call, 401 `INVALID_TOKEN` for a token the
//!   fake no longer knows (a test can expire them all);
//! - `GET /crm/v7/Deals/search?criteria=…&per_page&page&fields`: `(field:op:value)` joined by
//!   `and`, with `equals` matching like "contains" (as 4.1 warns), `in`, `greater_equal`,
//!   `between`; `\` escapes; 200 records a page at most, `info.more_records`; page 11 is 400
//!   `LIMIT_REACHED`; 204 when nothing matches; no sort order promised (newest first here);
//! - `GET /crm/v7/Deals/{id}`: `{"data": [record]}`, 204 when there is none (4.3);
//! - `PUT /crm/v7/Deals`: `{"data": [...]}`, at most 100, a result per record (207 when some
//!   fail; `INVALID_DATA` naming the field for a field the layout lacks) (4.4);
//! - error bodies `{"code", "details", "message", "status"}` (7); a 429 on every n-th search
//!   on demand, without `Retry-After` (6).

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::support::loopback::{Handler, Loopback, Reply, Request};

/// What the fake holds and saw.
pub struct State {
    client_id: String,
    client_secret: String,
    refresh_token: String,
    base: String,
    tokens: Vec<String>,
    /// Tokens issued in all.
    pub issued: usize,
    /// Deals, in insertion order.
    pub deals: Vec<Value>,
    /// Fields the Deals layout lacks (an update naming one fails for that record).
    pub undefined: Vec<String>,
    /// Every request: (method, path).
    pub requests: Vec<(String, String)>,
    /// The `criteria` of every search.
    pub criteria: Vec<String>,
    /// The `fields` of every search.
    pub fields: Vec<Option<String>>,
    /// PUT bodies received.
    pub updates: Vec<Value>,
    /// A 429 on every n-th search.
    pub search_429_every: Option<u64>,
    searches: u64,
    /// 429s answered.
    pub throttled: u64,
    clock: i64,
}

/// The running fake.
pub struct ZohoFake {
    server: Loopback,
    /// Its state.
    pub state: Arc<Mutex<State>>,
}

impl ZohoFake {
    /// Starts the fake for a Self Client and its refresh token.
    pub fn start(client_id: &str, client_secret: &str, refresh_token: &str) -> ZohoFake {
        let state = Arc::new(Mutex::new(State {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
            base: String::new(),
            tokens: Vec::new(),
            issued: 0,
            deals: Vec::new(),
            undefined: Vec::new(),
            requests: Vec::new(),
            criteria: Vec::new(),
            fields: Vec::new(),
            updates: Vec::new(),
            search_429_every: None,
            searches: 0,
            throttled: 0,
            clock: 1_741_944_000,
        }));
        let shared = Arc::clone(&state);
        let handler: Handler = Arc::new(move |request| answer(&shared, request));
        let server = Loopback::start(handler);
        state.lock().unwrap().base = server.base();
        ZohoFake { server, state }
    }

    /// The base URL (both `MAPCTL_ZOHO_ACCOUNTS_URL` and the `api_domain` it hands out).
    pub fn url(&self) -> String {
        self.server.base()
    }

    /// Adds a deal, its `Modified_Time` set to the fake's clock.
    pub fn deal(&self, mut deal: Value) {
        let mut state = self.state.lock().unwrap();
        state.clock += 60;
        deal["Modified_Time"] = json!(zoho_time(state.clock));
        state.deals.push(deal);
    }

    /// Changes fields of a deal, as a user editing it in Zoho does.
    pub fn edit(&self, id: &str, fields: &Value) {
        let mut state = self.state.lock().unwrap();
        state.clock += 60;
        let time = zoho_time(state.clock);
        let deal = state
            .deals
            .iter_mut()
            .find(|d| d["id"] == id)
            .expect("the deal exists");
        for (key, value) in fields.as_object().expect("fields") {
            deal[key] = value.clone();
        }
        deal["Modified_Time"] = json!(time);
    }

    /// A field of a deal.
    pub fn field(&self, id: &str, name: &str) -> Value {
        let state = self.state.lock().unwrap();
        state
            .deals
            .iter()
            .find(|d| d["id"] == id)
            .map(|d| d[name].clone())
            .unwrap_or(Value::Null)
    }

    /// Forgets every access token issued (they expired).
    pub fn expire_tokens(&self) {
        self.state.lock().unwrap().tokens.clear();
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

/// Unix seconds as Zoho writes date-times (in the organisation's +05:30 zone).
fn zoho_time(seconds: i64) -> String {
    let zone = chrono::FixedOffset::east_opt(5 * 3600 + 1800).expect("zone");
    chrono::DateTime::from_timestamp(seconds, 0)
        .expect("time")
        .with_timezone(&zone)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn error(status: u16, code: &str, message: &str, details: Value) -> Reply {
    Reply::json(
        status,
        &json!({"code": code, "details": details, "message": message, "status": "error"}),
    )
}

fn answer(state: &Mutex<State>, request: &Request) -> Reply {
    let mut state = state.lock().unwrap();
    state
        .requests
        .push((request.method.clone(), request.path.clone()));
    if request.path == "/oauth/v2/token" {
        return token(&mut state, request);
    }
    let authorized = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Zoho-oauthtoken "))
        .is_some_and(|t| state.tokens.iter().any(|k| k == t));
    if !authorized {
        return error(401, "INVALID_TOKEN", "invalid oauth token", json!({}));
    }
    let path = request.path.clone();
    match (request.method.as_str(), path.as_str()) {
        ("GET", "/crm/v7/Deals/search") => search(&mut state, request),
        ("PUT", "/crm/v7/Deals") => update(&mut state, request),
        ("GET", _) if path.starts_with("/crm/v7/Deals/") => {
            let id = &path["/crm/v7/Deals/".len()..];
            match state.deals.iter().find(|d| d["id"] == id) {
                Some(deal) => Reply::json(200, &json!({"data": [deal]})),
                None => Reply::Answer {
                    status: 204,
                    headers: Vec::new(),
                    body: Vec::new(),
                    delay: std::time::Duration::ZERO,
                },
            }
        }
        _ => error(
            404,
            "INVALID_URL_PATTERN",
            "Please check if the URL trying to access is a correct one",
            json!({}),
        ),
    }
}

fn token(state: &mut State, request: &Request) -> Reply {
    let form: Map<String, Value> = request
        .form()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let given = |key: &str| form.get(key).and_then(Value::as_str).unwrap_or_default();
    if !request.query.is_empty() {
        return Reply::json(
            200,
            &json!({"error": "secrets must not be sent in the URL"}),
        );
    }
    if given("grant_type") != "refresh_token"
        || given("client_id") != state.client_id
        || given("client_secret") != state.client_secret
        || given("refresh_token") != state.refresh_token
    {
        return Reply::json(200, &json!({"error": "invalid_client"}));
    }
    state.issued += 1;
    let token = format!("1000.access{}", state.issued);
    state.tokens.push(token.clone());
    Reply::json(
        200,
        &json!({"access_token": token, "api_domain": state.base, "token_type": "Bearer", "expires_in": 3600}),
    )
}

/// One `field:op:value` condition.
struct Condition {
    field: String,
    op: String,
    values: Vec<String>,
}

/// Splits on `separator` where it is not escaped with `\`, and drops the escapes.
fn split_unescaped(text: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            parts.last_mut().expect("a part").push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(String::new());
        } else {
            parts.last_mut().expect("a part").push(c);
        }
    }
    parts
}

fn conditions(criteria: &str) -> Option<Vec<Condition>> {
    let inner = criteria.strip_prefix('(')?.strip_suffix(')')?;
    let inner = inner
        .strip_prefix('(')
        .and_then(|i| i.strip_suffix(')'))
        .unwrap_or(inner);
    inner
        .split(")and(")
        .map(|part| {
            let mut pieces = part.splitn(3, ':');
            let field = pieces.next()?.to_string();
            let op = pieces.next()?.to_string();
            let value = pieces.next()?;
            let values = match op.as_str() {
                "in" | "between" => split_unescaped(value, ','),
                _ => vec![split_unescaped(value, '\u{0}').concat()],
            };
            Some(Condition { field, op, values })
        })
        .collect()
}

fn time_of(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp())
}

fn holds(deal: &Value, condition: &Condition) -> bool {
    let value = &deal[&condition.field];
    let text = value.as_str().unwrap_or_default();
    let first = condition
        .values
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    match condition.op.as_str() {
        "equals" => !text.is_empty() && text.contains(first),
        "in" => condition.values.iter().any(|v| v == text),
        "greater_equal" => time_of(text) >= time_of(first),
        "between" => {
            let last = condition
                .values
                .get(1)
                .map(String::as_str)
                .unwrap_or_default();
            time_of(text) >= time_of(first) && time_of(text) <= time_of(last)
        }
        _ => false,
    }
}

fn search(state: &mut State, request: &Request) -> Reply {
    state.searches += 1;
    if state
        .search_429_every
        .is_some_and(|n| state.searches.is_multiple_of(n))
    {
        state.throttled += 1;
        return error(
            429,
            "TOO_MANY_REQUESTS",
            "The number of API requests for the 24-hour period or the concurrency limit is exceeded",
            json!({}),
        );
    }
    let criteria = request.param("criteria").unwrap_or_default().to_string();
    state.criteria.push(criteria.clone());
    state
        .fields
        .push(request.param("fields").map(str::to_string));
    let Some(conditions) = conditions(&criteria) else {
        return error(
            400,
            "INVALID_QUERY",
            "invalid query formed",
            json!({"reason": "the criteria do not parse"}),
        );
    };
    let per_page: usize = request
        .param("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(200);
    let page: usize = request
        .param("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    if per_page > 200 || per_page == 0 {
        return error(
            400,
            "INVALID_DATA",
            "per_page must be between 1 and 200",
            json!({}),
        );
    }
    if page * per_page > 2000 {
        return error(
            400,
            "LIMIT_REACHED",
            "search results exceed 2000 records",
            json!({"limit": 2000}),
        );
    }
    let mut matching: Vec<Value> = state
        .deals
        .iter()
        .filter(|d| conditions.iter().all(|c| holds(d, c)))
        .cloned()
        .collect();
    matching.reverse();
    if matching.is_empty() {
        return Reply::Answer {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
            delay: std::time::Duration::ZERO,
        };
    }
    let fields: Option<Vec<String>> = request
        .param("fields")
        .map(|f| f.split(',').map(str::to_string).collect());
    let start = ((page - 1) * per_page).min(matching.len());
    let end = (start + per_page).min(matching.len());
    let data: Vec<Value> = matching[start..end]
        .iter()
        .map(|deal| match &fields {
            None => deal.clone(),
            Some(fields) => {
                let mut picked = Map::new();
                picked.insert("id".into(), deal["id"].clone());
                for field in fields {
                    if let Some(value) = deal.get(field) {
                        picked.insert(field.clone(), value.clone());
                    }
                }
                Value::Object(picked)
            }
        })
        .collect();
    Reply::json(
        200,
        &json!({"data": data, "info": {"per_page": per_page, "count": data.len(), "page": page, "more_records": end < matching.len()}}),
    )
}

fn update(state: &mut State, request: &Request) -> Reply {
    let Some(body) = request.json() else {
        return error(400, "INVALID_DATA", "the body is not JSON", json!({}));
    };
    state.updates.push(body.clone());
    let records = body["data"].as_array().cloned().unwrap_or_default();
    if records.is_empty() || records.len() > 100 {
        return error(
            400,
            "INVALID_DATA",
            "data must hold 1 to 100 records",
            json!({}),
        );
    }
    state.clock += 60;
    let time = zoho_time(state.clock);
    let mut results = Vec::new();
    for record in &records {
        let id = record["id"].as_str().unwrap_or_default().to_string();
        let undefined = record
            .as_object()
            .and_then(|r| r.keys().find(|k| state.undefined.contains(k)).cloned());
        let known = state.deals.iter().any(|d| d["id"] == id);
        let result = match (known, undefined) {
            (false, _) => {
                json!({"code": "INVALID_DATA", "details": {"api_name": "id"}, "message": "the related id given seems to be invalid", "status": "error"})
            }
            (true, Some(field)) => {
                json!({"code": "INVALID_DATA", "details": {"api_name": field}, "message": "invalid data", "status": "error"})
            }
            (true, None) => {
                let deal = state
                    .deals
                    .iter_mut()
                    .find(|d| d["id"] == id)
                    .expect("known");
                for (key, value) in record.as_object().into_iter().flatten() {
                    deal[key] = value.clone();
                }
                deal["Modified_Time"] = json!(time);
                json!({"code": "SUCCESS", "details": {"Modified_Time": time, "id": id}, "message": "record updated", "status": "success"})
            }
        };
        results.push(result);
    }
    let failed = results.iter().filter(|r| r["status"] == "error").count();
    let status = match failed {
        0 => 200,
        n if n == results.len() => 400,
        _ => 207,
    };
    Reply::json(status, &json!({"data": results}))
}
