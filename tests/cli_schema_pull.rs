//! `mapctl schema pull VENDOR` through the real binary against loopback fakes that answer the
//! documented metadata calls with the committed response samples: the schema pulled is, to the
//! byte, the golden `schema import` of the same responses (tests/schema/import/*/expected.out);
//! Harvest's clients are followed along `links.next`; a 429 with `Retry-After` and a 500 are
//! waited out; a refused token (401), a vendor that keeps failing (503) and a missing variable
//! stop the command with exit 2, a clear message, no secret shown and no file written.

#[path = "runtime_support/loopback.rs"]
mod loopback;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use loopback::{Handler, Loopback, Reply, Request};
use serde_json::{Value, json};

const TOKEN: &str = "pat-na1-schema-pull-test-token";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample(path: &str) -> Value {
    let text = std::fs::read(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&text).unwrap()
}

fn golden(case: &str) -> String {
    std::fs::read_to_string(
        root()
            .join("tests/schema/import")
            .join(case)
            .join("expected.out"),
    )
    .unwrap()
}

/// A fake that answers by `route` (method, path, query) after the queued faults, and records
/// every request's path and query.
struct Fake {
    server: Loopback,
    seen: Arc<Mutex<Vec<String>>>,
}

type Route = dyn Fn(&Request) -> Reply + Send + Sync;

fn fake(faults: Vec<Reply>, route: Box<Route>) -> Fake {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let faults = Arc::new(Mutex::new(faults));
    let log = Arc::clone(&seen);
    let handler: Handler = Arc::new(move |request| {
        let query: Vec<String> = request
            .query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        log.lock().unwrap().push(format!(
            "{} {}?{}",
            request.method,
            request.path,
            query.join("&")
        ));
        let mut faults = faults.lock().unwrap();
        if !faults.is_empty() {
            return faults.remove(0);
        }
        route(request)
    });
    Fake {
        server: Loopback::start(handler),
        seen,
    }
}

fn mapctl(env: &[(&str, String)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mapctl"));
    command.env("NO_COLOR", "1");
    for variable in [
        "HUBSPOT_TOKEN",
        "MAPCTL_HUBSPOT_URL",
        "COPPER_TOKEN",
        "COPPER_USER_EMAIL",
        "MAPCTL_COPPER_URL",
        "ZOHO_CLIENT_ID",
        "ZOHO_CLIENT_SECRET",
        "ZOHO_REFRESH_TOKEN",
        "MAPCTL_ZOHO_URL",
        "MAPCTL_ZOHO_ACCOUNTS_URL",
        "ACCELO_CLIENT_ID",
        "ACCELO_CLIENT_SECRET",
        "ACCELO_DEPLOYMENT",
        "MAPCTL_ACCELO_URL",
        "HARVEST_TOKEN",
        "HARVEST_ACCOUNT_ID",
        "HARVEST_CONTACT",
        "MAPCTL_HARVEST_URL",
    ] {
        command.env_remove(variable);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
        .args(["schema", "pull"])
        .args(args)
        .args(["--backoff-ms", "1"])
        .output()
        .expect("mapctl runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn hubspot_fake(faults: Vec<Reply>) -> Fake {
    let case = "tests/schema/import/hubspot_deals_two_pipelines";
    let properties = sample(&format!("{case}/properties.json"));
    let pipelines = sample(&format!("{case}/pipelines.json"));
    fake(
        faults,
        Box::new(move |request| {
            if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
                return Reply::json(
                    401,
                    &json!({"status": "error", "message": "Authentication credentials not found.", "category": "INVALID_AUTHENTICATION"}),
                );
            }
            match request.path.as_str() {
                "/crm/v3/properties/deals" if request.param("archived") == Some("false") => {
                    Reply::json(200, &properties)
                }
                "/crm/v3/pipelines/deals" => Reply::json(200, &pipelines),
                _ => Reply::json(404, &json!({"status": "error", "message": "not found"})),
            }
        }),
    )
}

#[test]
fn hubspot_properties_and_pipelines_become_the_golden_import() {
    let hub = hubspot_fake(Vec::new());
    let env = [
        ("HUBSPOT_TOKEN", TOKEN.to_string()),
        ("MAPCTL_HUBSPOT_URL", hub.server.base()),
    ];
    let output = mapctl(&env, &["hubspot", "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), golden("hubspot_deals_two_pipelines"));
    assert!(stderr(&output).contains("pulled 2 response(s) from hubspot in 2 API call(s)"));
    assert!(!stderr(&output).contains(TOKEN));

    // A file appears only when complete.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deal.schema.json");
    let output = mapctl(&env, &["hubspot", "-o", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        golden("hubspot_deals_two_pipelines")
    );
}

#[test]
fn a_refused_token_stops_the_pull_naming_the_call_and_writing_nothing() {
    let hub = hubspot_fake(Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deal.schema.json");
    let env = [
        ("HUBSPOT_TOKEN", "pat-na1-wrong-token-value".to_string()),
        ("MAPCTL_HUBSPOT_URL", hub.server.base()),
    ];
    let output = mapctl(&env, &["hubspot", "-o", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(
        error.contains("HubSpot GET /crm/v3/properties/deals answered 401")
            && error.contains("INVALID_AUTHENTICATION")
            && error.contains("check HUBSPOT_TOKEN"),
        "{error}"
    );
    assert!(!error.contains("wrong-token-value"), "{error}");
    assert!(!file.exists(), "nothing is written on failure");

    let missing = mapctl(&[], &["hubspot", "-o", "-"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("set HUBSPOT_TOKEN"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn a_vendor_that_keeps_failing_is_reported_after_the_retries() {
    let failing: Vec<Reply> = (0..10)
        .map(|_| Reply::json(503, &json!({"status": "error", "message": "Service Unavailable", "category": "SERVICE_UNAVAILABLE"})))
        .collect();
    let hub = hubspot_fake(failing);
    let env = [
        ("HUBSPOT_TOKEN", TOKEN.to_string()),
        ("MAPCTL_HUBSPOT_URL", hub.server.base()),
    ];
    let output = mapctl(&env, &["hubspot", "-o", "-"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("answered 503: SERVICE_UNAVAILABLE: Service Unavailable"),
        "{}",
        stderr(&output)
    );
    assert_eq!(hub.seen.lock().unwrap().len(), 6, "six tries of the read");
    assert!(stdout(&output).is_empty());
}

#[test]
fn copper_waits_out_a_429_and_a_500_and_gives_the_golden_import() {
    let case = "tests/schema/import/copper_opportunity";
    let fields = sample(&format!("{case}/custom_fields.json"));
    let pipelines = sample(&format!("{case}/pipelines.json"));
    let faults = vec![
        Reply::json(429, &json!({"message": "Too many requests"})).with_header("Retry-After", "1"),
        Reply::json(500, &json!({"message": "Internal Server Error"})),
    ];
    let copper = fake(
        faults,
        Box::new(move |request| {
            let headers_ok = request.header("x-pw-accesstoken") == Some("cu-key")
                && request.header("x-pw-application") == Some("developer_api")
                && request.header("x-pw-useremail") == Some("ops@ourfirm.example");
            match (headers_ok, request.path.as_str()) {
                (false, _) => Reply::json(401, &json!({"message": "Invalid credentials"})),
                (_, "/developer_api/v1/custom_field_definitions") => Reply::json(200, &fields),
                (_, "/developer_api/v1/pipelines") => Reply::json(200, &pipelines),
                _ => Reply::json(404, &json!({"message": "Not found"})),
            }
        }),
    );
    let env = [
        ("COPPER_TOKEN", "cu-key".to_string()),
        ("COPPER_USER_EMAIL", "ops@ourfirm.example".to_string()),
        ("MAPCTL_COPPER_URL", copper.server.base()),
    ];
    let output = mapctl(&env, &["copper", "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), golden("copper_opportunity"));
    assert!(
        stderr(&output).contains("pulled 2 response(s) from copper in 4 API call(s)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn zoho_asks_for_a_token_and_reads_fields_layouts_and_the_layouts_pipelines() {
    let case = "tests/schema/import/zoho_deals";
    let (fields, layouts, pipelines) = (
        sample(&format!("{case}/fields.json")),
        sample(&format!("{case}/layouts.json")),
        sample(&format!("{case}/pipelines.json")),
    );
    let layout = layouts["layouts"][0]["id"].as_str().unwrap().to_string();
    let base: Arc<Mutex<String>> = Arc::new(Mutex::new(String::new()));
    let api_domain = Arc::clone(&base);
    let zoho = fake(
        Vec::new(),
        Box::new(move |request| {
            if request.path == "/oauth/v2/token" {
                let form = request.form();
                let ok = form.contains(&("refresh_token".into(), "1000.refresh".into()))
                    && form.contains(&("client_secret".into(), "zoho-secret".into()));
                return match ok {
                    true => Reply::json(
                        200,
                        &json!({"access_token": "1000.access", "api_domain": *api_domain.lock().unwrap(), "token_type": "Bearer", "expires_in": 3600}),
                    ),
                    false => Reply::json(200, &json!({"error": "invalid_client"})),
                };
            }
            if request.header("authorization") != Some("Zoho-oauthtoken 1000.access") {
                return Reply::json(
                    401,
                    &json!({"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}),
                );
            }
            match (
                request.path.as_str(),
                request.param("module"),
                request.param("layout_id"),
            ) {
                ("/crm/v7/settings/fields", Some("Deals"), _) => Reply::json(200, &fields),
                ("/crm/v7/settings/layouts", Some("Deals"), _) => Reply::json(200, &layouts),
                ("/crm/v7/settings/pipeline", _, Some(id)) if id == layout => {
                    Reply::json(200, &pipelines)
                }
                _ => Reply::json(
                    400,
                    &json!({"code": "INVALID_DATA", "details": {}, "message": "invalid data", "status": "error"}),
                ),
            }
        }),
    );
    *base.lock().unwrap() = zoho.server.base();
    let env = [
        ("ZOHO_CLIENT_ID", "1000.client".to_string()),
        ("ZOHO_CLIENT_SECRET", "zoho-secret".to_string()),
        ("ZOHO_REFRESH_TOKEN", "1000.refresh".to_string()),
        ("MAPCTL_ZOHO_ACCOUNTS_URL", zoho.server.base()),
    ];
    let output = mapctl(&env, &["zoho", "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), golden("zoho_deals"));
    let seen = zoho.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "token, fields, layouts, pipelines: {seen:?}");
    for secret in ["zoho-secret", "1000.refresh", "1000.access"] {
        assert!(!stderr(&output).contains(secret));
    }
}

#[test]
fn harvest_clients_are_followed_along_links_next() {
    let case = "tests/schema/import/harvest_projects_two_pages";
    let (first, second) = (
        sample(&format!("{case}/clients_page1.json")),
        sample(&format!("{case}/clients_page2.json")),
    );
    let harvest = fake(
        Vec::new(),
        Box::new(move |request| {
            let ok = request.header("authorization") == Some("Bearer hv-token")
                && request.header("harvest-account-id") == Some("1121398")
                && request
                    .header("user-agent")
                    .is_some_and(|a| a.contains("ops@ourfirm.example"));
            match (ok, request.path.as_str(), request.param("cursor")) {
                (false, _, _) => Reply::json(401, &json!({"error": "invalid_token"})),
                (_, "/v2/clients", None) => Reply::json(200, &first),
                (_, "/v2/clients", Some(_)) => Reply::json(200, &second),
                _ => Reply::json(404, &json!({"message": "Not Found"})),
            }
        }),
    );
    let env = [
        ("HARVEST_TOKEN", "hv-token".to_string()),
        ("HARVEST_ACCOUNT_ID", "1121398".to_string()),
        ("HARVEST_CONTACT", "ops@ourfirm.example".to_string()),
        ("MAPCTL_HARVEST_URL", harvest.server.base()),
    ];
    let output = mapctl(&env, &["harvest", "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), golden("harvest_projects_two_pages"));
    let seen = harvest.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[1].contains("cursor=eyJhZnRlciI6eyJpZCI6ODQxMDIzMH19"),
        "{seen:?}"
    );
    let wrong = mapctl(&env, &["harvest", "--object", "tasks", "-o", "-"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("projects, clients"),
        "{}",
        stderr(&wrong)
    );
}

#[test]
fn accelo_reference_data_is_read_list_by_list_and_gives_the_golden_import() {
    let case = "tests/schema/import/accelo_jobs";
    let list = |name: &str| sample(&format!("{case}/{name}.json"))["response"].clone();
    let mut staff = list("staff_page0").as_array().unwrap().clone();
    staff.extend(list("staff_page1").as_array().unwrap().iter().cloned());
    let lists = [
        ("/api/v0/jobs/types", list("job_types")),
        ("/api/v0/jobs/statuses", list("statuses")),
        ("/api/v0/staff", Value::Array(staff)),
        ("/api/v0/jobs/profiles/fields", list("profile_fields")),
        ("/api/v0/companies", list("companies")),
    ];
    let basic = format!(
        "Basic {}",
        mapctl::connect::encode::base64(b"svc-id:svc-secret")
    );
    let accelo = fake(
        Vec::new(),
        Box::new(move |request| {
            if request.path == "/oauth2/v0/token" {
                return match request.header("authorization") == Some(basic.as_str()) {
                    true => Reply::json(
                        200,
                        &json!({"access_token": "acc-tok", "expires_in": "2592000", "token_type": "bearer"}),
                    ),
                    false => Reply::json(
                        401,
                        &json!({"meta": {"status": "invalid_client", "message": "Client authentication failed."}}),
                    ),
                };
            }
            let page = request.param("_page").unwrap_or("0");
            match lists.iter().find(|(path, _)| *path == request.path) {
                Some((_, items)) if page == "0" => Reply::json(
                    200,
                    &json!({"meta": {"status": "ok", "message": "Everything executed as expected."}, "response": items}),
                ),
                Some(_) => Reply::json(200, &json!({"meta": {"status": "ok"}, "response": []})),
                None => Reply::json(
                    400,
                    &json!({"meta": {"status": "invalid_request", "message": "unknown resource"}}),
                ),
            }
        }),
    );
    let env = [
        ("ACCELO_CLIENT_ID", "svc-id".to_string()),
        ("ACCELO_CLIENT_SECRET", "svc-secret".to_string()),
        ("MAPCTL_ACCELO_URL", accelo.server.base()),
    ];
    let output = mapctl(&env, &["accelo", "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), golden("accelo_jobs"));
    let seen = accelo.seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        6,
        "the token and one page of each list: {seen:?}"
    );
    assert!(
        seen[1].contains("_fields=standing,has_custom_id"),
        "{seen:?}"
    );
    assert!(!stderr(&output).contains("svc-secret"));
}
