//! A loopback fake of HubSpot's CRM API, answering as docs/connectors/hubspot.md says:
//!
//! - `POST /crm/v3/objects/deals/search`: filter groups ORed, filters ANDed (`EQ`, `IN`, `GTE`
//!   on `hs_lastmodifieddate` in ms), sorted, `limit` at most 200, paging with `after` and no
//!   `paging` on the last page, a 400 past the result cap (10,000 unless set lower) and for a
//!   body over 3,000 characters; only the requested properties (`null` when defined but empty);
//!   every `search_429_every`-th search a 429 without usage headers.
//! - `POST /crm/v4/associations/deals/companies/batch/read` (type ids 5 = primary and 341, a
//!   numeric `toObjectId`, 207 with `errors` for deals without companies), `POST
//!   /crm/v3/objects/{deals,companies}/batch/read` (at most 100 inputs), `GET
//!   /crm/v3/objects/deals/{id}` with `associations=companies`, `PATCH
//!   /crm/v3/objects/deals/{id}` (an unknown property is a 400 `PROPERTY_DOESNT_EXIST`; a change
//!   moves `hs_lastmodifieddate`), `GET /crm/v3/properties/deals`.
//! - `Authorization: Bearer` checked (401 otherwise); usage headers on every other answer; the
//!   runtime's faults on request (a 429 names the ten-secondly policy, with a short interval
//!   so that tests stay fast).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use super::loopback::{Fault, Faults, Handler, Loopback, Reply, Request};

/// A deal the fake holds.
#[derive(Debug, Clone)]
pub struct Deal {
    /// Properties (defined ones; `None` is a defined property without a value).
    pub properties: BTreeMap<String, Option<String>>,
    /// Companies: (id, primary).
    pub companies: Vec<(String, bool)>,
}

/// What the fake holds and saw.
pub struct State {
    token: String,
    clock: i64,
    /// Deals by id.
    pub deals: BTreeMap<String, Deal>,
    /// Company properties by id.
    pub companies: BTreeMap<String, BTreeMap<String, String>>,
    /// Every PATCH: (deal id, body).
    pub patches: Vec<(String, Value)>,
    /// Every request: (method, path).
    pub requests: Vec<(String, String)>,
    /// Every search body.
    pub searches: Vec<Value>,
    /// Results one search may page through.
    pub cap: usize,
    /// Every n-th search answers 429.
    pub search_429_every: Option<usize>,
    /// Faults injected into requests other than searches.
    pub faults: Faults,
    /// Properties PATCH refuses as not defined (a sync-back property not created yet).
    pub undefined: Vec<String>,
    defined: Vec<String>,
}

/// The running fake.
pub struct HubSpotFake {
    server: Loopback,
    /// Its state, for tests to arrange and inspect.
    pub state: Arc<Mutex<State>>,
}

fn error(status: u16, category: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"status": "error", "message": message, "category": category,
        "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24"}),
    )
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

impl HubSpotFake {
    /// Starts the fake for the private-app `token`.
    pub fn start(token: &str) -> HubSpotFake {
        let sample = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/mappings/samples/vendor-api/hubspot/deal_properties.json"
        ))
        .expect("sample");
        let sample: Value = serde_json::from_slice(&sample).expect("sample JSON");
        let defined = sample["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        let state = Arc::new(Mutex::new(State {
            token: token.to_string(),
            clock: 1_741_910_400_000,
            deals: BTreeMap::new(),
            companies: BTreeMap::new(),
            patches: Vec::new(),
            requests: Vec::new(),
            searches: Vec::new(),
            cap: 10_000,
            search_429_every: None,
            faults: Faults::none(),
            undefined: Vec::new(),
            defined,
        }));
        let shared = Arc::clone(&state);
        let handler: Handler = Arc::new(move |request| answer(&shared, request));
        HubSpotFake {
            server: Loopback::start(handler),
            state,
        }
    }

    /// The base URL (`MAPCTL_HUBSPOT_URL`).
    pub fn url(&self) -> String {
        self.server.base()
    }

    /// Adds a company.
    pub fn company(&self, id: &str, name: &str) {
        let properties = BTreeMap::from([
            ("name".to_string(), name.to_string()),
            ("hs_object_id".to_string(), id.to_string()),
        ]);
        self.state
            .lock()
            .unwrap()
            .companies
            .insert(id.to_string(), properties);
    }

    /// Adds (or replaces) a deal; its modification time is the fake's next tick.
    pub fn deal(&self, id: &str, properties: &[(&str, Option<&str>)], companies: &[(&str, bool)]) {
        let mut state = self.state.lock().unwrap();
        state.clock += 1000;
        let mut props: BTreeMap<String, Option<String>> = properties
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect();
        props.insert("hs_object_id".into(), Some(id.to_string()));
        props.insert("hs_lastmodifieddate".into(), Some(iso(state.clock)));
        props.entry("project_status".into()).or_insert(None);
        props.entry("psa_project_id".into()).or_insert(None);
        let companies = companies.iter().map(|(c, p)| (c.to_string(), *p)).collect();
        state.deals.insert(
            id.to_string(),
            Deal {
                properties: props,
                companies,
            },
        );
    }

    /// Changes a deal's properties, as a user would in HubSpot (its modification time moves).
    pub fn edit(&self, id: &str, properties: &[(&str, Option<&str>)]) {
        let mut state = self.state.lock().unwrap();
        state.clock += 1000;
        let now = iso(state.clock);
        let deal = state.deals.get_mut(id).expect("the deal exists");
        for (name, value) in properties {
            deal.properties
                .insert(name.to_string(), value.map(str::to_string));
        }
        deal.properties
            .insert("hs_lastmodifieddate".into(), Some(now));
    }

    /// The patches received.
    pub fn patches(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().patches.clone()
    }

    /// Requests received whose path starts with `prefix`.
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
    let expected = format!("Bearer {}", state.token);
    if request.header("authorization") != Some(expected.as_str()) {
        return error(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found.",
        );
    }
    let search = request.path == "/crm/v3/objects/deals/search";
    if !search {
        match state.faults.pick() {
            Some(Fault::TooMany) => {
                return Reply::json(429, &json!({"status": "error", "message": "You have reached your ten secondly limit.",
                    "errorType": "RATE_LIMIT", "correlationId": "x", "policyName": "TEN_SECONDLY_ROLLING", "requestId": "y"}))
                .with_header("X-HubSpot-RateLimit-Interval-Milliseconds", "200")
                .with_header("X-HubSpot-RateLimit-Remaining", "0");
            }
            Some(Fault::ServerError) => return error(500, "INTERNAL_ERROR", "internal error"),
            Some(Fault::Unavailable) => return error(503, "SERVICE_UNAVAILABLE", "unavailable"),
            Some(Fault::ResetBeforeWrite) => return Reply::Close,
            _ => {}
        }
    }
    let reply = route(&mut state, request);
    if search {
        return reply;
    }
    reply
        .with_header("X-HubSpot-RateLimit-Max", "190")
        .with_header("X-HubSpot-RateLimit-Remaining", "150")
        .with_header("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
        .with_header("X-HubSpot-RateLimit-Daily", "625000")
        .with_header("X-HubSpot-RateLimit-Daily-Remaining", "624000")
}

fn route(state: &mut State, request: &Request) -> Reply {
    let path = request.path.as_str();
    match (request.method.as_str(), path) {
        ("POST", "/crm/v3/objects/deals/search") => search(state, request),
        ("POST", "/crm/v4/associations/deals/companies/batch/read") => associations(state, request),
        ("POST", "/crm/v3/objects/deals/batch/read") => batch_read(state, request, true),
        ("POST", "/crm/v3/objects/companies/batch/read") => batch_read(state, request, false),
        ("GET", "/crm/v3/properties/deals") => {
            let results: Vec<Value> = state
                .defined
                .iter()
                .map(|n| json!({"name": n, "type": "string"}))
                .collect();
            Reply::json(200, &json!({"results": results}))
        }
        ("GET", _) if path.starts_with("/crm/v3/objects/deals/") => {
            read_deal(state, request, &path["/crm/v3/objects/deals/".len()..])
        }
        ("PATCH", _) if path.starts_with("/crm/v3/objects/deals/") => {
            patch(state, request, &path["/crm/v3/objects/deals/".len()..])
        }
        _ => error(404, "OBJECT_NOT_FOUND", "no such endpoint"),
    }
}

fn record(id: &str, properties: Map<String, Value>, updated: &str) -> Value {
    json!({"id": id, "properties": properties, "createdAt": "2025-01-20T10:02:11.120Z",
           "updatedAt": updated, "archived": false})
}

fn updated(deal: &Deal) -> String {
    deal.properties
        .get("hs_lastmodifieddate")
        .cloned()
        .flatten()
        .unwrap_or_default()
}

const COMPANY_UPDATED: &str = "2025-02-01T08:00:00.000Z";

fn selected(deal: &Deal, wanted: &[String]) -> Map<String, Value> {
    wanted
        .iter()
        .filter_map(|name| {
            deal.properties
                .get(name)
                .map(|v| (name.clone(), v.clone().map_or(Value::Null, Value::String)))
        })
        .collect()
}

fn modified(deal: &Deal) -> i64 {
    deal.properties
        .get("hs_lastmodifieddate")
        .and_then(|v| v.as_deref())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(0, |t| t.timestamp_millis())
}

fn matches(deal: &Deal, filter: &Value) -> bool {
    let name = filter["propertyName"].as_str().unwrap_or_default();
    let value = deal.properties.get(name).cloned().flatten();
    match filter["operator"].as_str().unwrap_or_default() {
        "EQ" => value.as_deref() == filter["value"].as_str(),
        "IN" => filter["values"]
            .as_array()
            .is_some_and(|vs| vs.iter().any(|v| v.as_str() == value.as_deref())),
        "GTE" if name == "hs_lastmodifieddate" => {
            modified(deal)
                >= filter["value"]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(i64::MAX)
        }
        _ => false,
    }
}

fn search(state: &mut State, request: &Request) -> Reply {
    let searches = state.searches.len() + 1;
    if state
        .search_429_every
        .is_some_and(|n| searches.is_multiple_of(n))
    {
        state.searches.push(Value::Null);
        return Reply::json(
            429,
            &json!({"status": "error", "message": "You have reached your secondly limit.",
            "errorType": "RATE_LIMIT", "correlationId": "x", "policyName": "SECONDLY", "requestId": "y"}),
        );
    }
    if request.body.len() > 3000 {
        return error(
            400,
            "VALIDATION_ERROR",
            "The request body is too long (over 3000 characters).",
        );
    }
    let Some(body) = request.json() else {
        return error(400, "VALIDATION_ERROR", "Invalid input JSON");
    };
    state.searches.push(body.clone());
    let limit = body["limit"].as_u64().unwrap_or(10) as usize;
    if limit > 200 {
        return error(400, "VALIDATION_ERROR", "limit must be at most 200");
    }
    let after: usize = body["after"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    if after >= state.cap {
        return error(
            400,
            "VALIDATION_ERROR",
            &format!("Paging past {} results is not allowed.", state.cap),
        );
    }
    let groups = body["filterGroups"].as_array().cloned().unwrap_or_default();
    let mut found: Vec<(&String, &Deal)> = state
        .deals
        .iter()
        .filter(|(_, d)| {
            groups.is_empty()
                || groups.iter().any(|g| {
                    g["filters"]
                        .as_array()
                        .is_some_and(|fs| fs.iter().all(|f| matches(d, f)))
                })
        })
        .collect();
    found.sort_by_key(|(id, d)| (modified(d), (*id).clone()));
    let wanted: Vec<String> = body["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect();
    let end = (after + limit).min(found.len()).min(state.cap);
    let results: Vec<Value> = found[after.min(end)..end]
        .iter()
        .map(|(id, d)| record(id, selected(d, &wanted), &updated(d)))
        .collect();
    let mut answer = json!({"total": found.len(), "results": results});
    if end < found.len() {
        answer["paging"] = json!({"next": {"after": end.to_string(), "link": "ignored"}});
    }
    Reply::json(200, &answer)
}

fn inputs(request: &Request) -> Result<Vec<String>, Reply> {
    let body = request
        .json()
        .ok_or_else(|| error(400, "VALIDATION_ERROR", "Invalid input JSON"))?;
    let ids: Vec<String> = body["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect();
    if ids.len() > 100 {
        return Err(error(400, "VALIDATION_ERROR", "at most 100 inputs"));
    }
    Ok(ids)
}

fn associations(state: &mut State, request: &Request) -> Reply {
    let ids = match inputs(request) {
        Ok(ids) => ids,
        Err(reply) => return reply,
    };
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for id in ids {
        match state.deals.get(&id).filter(|d| !d.companies.is_empty()) {
            Some(deal) => {
                let to: Vec<Value> = deal.companies.iter().map(|(company, primary)| {
                    let mut types = vec![json!({"category": "HUBSPOT_DEFINED", "typeId": 341, "label": null})];
                    if *primary {
                        types.insert(0, json!({"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"}));
                    }
                    json!({"toObjectId": company.parse::<u64>().unwrap_or(0), "associationTypes": types})
                }).collect();
                results.push(json!({"from": {"id": id}, "to": to}));
            }
            None => errors.push(json!({"status": "error", "category": "OBJECT_NOT_FOUND", "message": format!("No deal {id} associations"), "context": {"fromObjectId": [id]}})),
        }
    }
    let status = if errors.is_empty() { 200 } else { 207 };
    let mut body = json!({"status": "COMPLETE", "results": results, "startedAt": "2025-03-15T11:05:01.204Z", "completedAt": "2025-03-15T11:05:01.231Z"});
    if !errors.is_empty() {
        body["numErrors"] = json!(errors.len());
        body["errors"] = json!(errors);
    }
    Reply::json(status, &body)
}

fn batch_read(state: &mut State, request: &Request, deals: bool) -> Reply {
    let ids = match inputs(request) {
        Ok(ids) => ids,
        Err(reply) => return reply,
    };
    let wanted: Vec<String> = request
        .json()
        .and_then(|b| b["properties"].as_array().cloned())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect();
    let results: Vec<Value> = ids
        .iter()
        .filter_map(|id| {
            if deals {
                state
                    .deals
                    .get(id)
                    .map(|d| record(id, selected(d, &wanted), &updated(d)))
            } else {
                state.companies.get(id).map(|c| {
                    let props: Map<String, Value> = wanted
                        .iter()
                        .filter_map(|n| c.get(n).map(|v| (n.clone(), json!(v))))
                        .collect();
                    record(id, props, COMPANY_UPDATED)
                })
            }
        })
        .collect();
    Reply::json(
        200,
        &json!({"status": "COMPLETE", "results": results, "startedAt": "2025-03-15T11:05:01.402Z", "completedAt": "2025-03-15T11:05:01.437Z"}),
    )
}

fn read_deal(state: &mut State, request: &Request, id: &str) -> Reply {
    let Some(deal) = state.deals.get(id) else {
        return error(
            404,
            "OBJECT_NOT_FOUND",
            "Object not found.  objectId are usually numeric.",
        );
    };
    let wanted: Vec<String> = request
        .param("properties")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    let mut value = record(id, selected(deal, &wanted), &updated(deal));
    if request.param("associations") == Some("companies") && !deal.companies.is_empty() {
        let results: Vec<Value> = deal
            .companies
            .iter()
            .map(|(c, _)| json!({"id": c, "type": "deal_to_company"}))
            .collect();
        value["associations"] = json!({"companies": {"results": results}});
    }
    Reply::json(200, &value)
}

fn patch(state: &mut State, request: &Request, id: &str) -> Reply {
    let Some(body) = request.json() else {
        return error(400, "VALIDATION_ERROR", "Invalid input JSON");
    };
    let properties = body["properties"].as_object().cloned().unwrap_or_default();
    if let Some(unknown) = properties
        .keys()
        .find(|k| !state.defined.contains(k) || state.undefined.contains(k))
    {
        return error(
            400,
            "VALIDATION_ERROR",
            &format!(
                "Property values were not valid: [{{\"isValid\":false,\"message\":\"Property \\\"{unknown}\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"{unknown}\"}}]"
            ),
        );
    }
    if let Some(bad) = properties.values().find(|v| !v.is_string()) {
        return error(
            400,
            "VALIDATION_ERROR",
            &format!("Property values must be strings, not {bad}"),
        );
    }
    state.clock += 1000;
    let now = iso(state.clock);
    let Some(deal) = state.deals.get_mut(id) else {
        return error(404, "OBJECT_NOT_FOUND", "Object not found.");
    };
    for (name, value) in &properties {
        let value = value.as_str().filter(|v| !v.is_empty()).map(str::to_string);
        deal.properties.insert(name.clone(), value);
    }
    deal.properties
        .insert("hs_lastmodifieddate".into(), Some(now));
    let mut wanted: Vec<String> = properties.keys().cloned().collect();
    wanted.push("hs_lastmodifieddate".into());
    let answer = record(id, selected(deal, &wanted), &updated(deal));
    state.patches.push((id.to_string(), body));
    Reply::json(200, &answer)
}
