//! `mapctl lsp` end to end: the real binary, spoken to over stdio in JSON-RPC as an editor
//! would (initialize, didOpen, didChange, hover, completion, definition, codeAction, formatting,
//! shutdown, exit). Diagnostics are snapshotted compactly as `CODE line:col-line:col`.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use mapctl::lsp::transport::{read_message, write_message};
use serde_json::{Value, json};

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
    notifications: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mapctl"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("mapctl lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut client = Client {
            child,
            stdin,
            stdout,
            next_id: 0,
            notifications: Vec::new(),
        };
        let result = client.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        assert_eq!(result["capabilities"]["hoverProvider"], true);
        client.notify("initialized", json!({}));
        client
    }

    fn notify(&mut self, method: &str, params: Value) {
        let message = json!({"jsonrpc": "2.0", "method": method, "params": params});
        write_message(&mut self.stdin, &message).unwrap();
        self.stdin.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        write_message(&mut self.stdin, &message).unwrap();
        self.stdin.flush().unwrap();
        loop {
            let message = read_message(&mut self.stdout).expect("a message");
            if message["id"] == json!(id) {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message["result"].clone();
            }
            self.notifications.push(message);
        }
    }

    /// The next diagnostics published for `uri` (waiting for them if needed).
    fn diagnostics_for(&mut self, uri: &str) -> Vec<Value> {
        loop {
            if let Some(index) = self.notifications.iter().position(|n| {
                n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
            }) {
                let message = self.notifications.remove(index);
                return message["params"]["diagnostics"].as_array().unwrap().clone();
            }
            let message = read_message(&mut self.stdout).expect("diagnostics");
            self.notifications.push(message);
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "mapctl", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    /// The completion items at `needle` (plus `shift` characters) in `text`, and their labels.
    fn complete(
        &mut self,
        uri: &str,
        text: &str,
        needle: &str,
        shift: usize,
    ) -> (Value, Vec<String>) {
        let result = self.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": position_of(text, needle, shift)}),
        );
        let labels = result
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect();
        (result, labels)
    }

    fn finish(mut self) {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert_eq!(status.code(), Some(0));
    }
}

fn uri_of(path: &Path) -> String {
    mapctl::lsp::uri::path_to_uri(path)
        .unwrap()
        .as_str()
        .to_string()
}

fn shipped(name: &str) -> (PathBuf, String, String) {
    let path = std::fs::canonicalize(Path::new("mappings").join(name)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = uri_of(&path);
    (path, text, uri)
}

/// `CODE line:col-line:col` (0-based, UTF-16) for each diagnostic.
fn compact(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| {
            let r = &d["range"];
            format!(
                "{} {}:{}-{}:{}",
                d["code"].as_str().unwrap(),
                r["start"]["line"],
                r["start"]["character"],
                r["end"]["line"],
                r["end"]["character"]
            )
        })
        .collect()
}

/// The LSP position of the `nth` occurrence of `needle` in `text`, plus `shift` characters.
fn position_of(text: &str, needle: &str, shift: usize) -> Value {
    let offset = text.find(needle).expect("needle") + shift;
    let position = mapctl::lsp::position::to_position(text, offset);
    json!({"line": position.line, "character": position.character})
}

#[test]
fn a_typo_gets_the_checks_diagnostic_and_a_fix_that_restores_the_name() {
    let (_, text, uri) = shipped("hubspot_to_accelo.map");
    let mut client = Client::start();
    client.open(&uri, &text);
    assert_eq!(
        client.diagnostics_for(&uri),
        Vec::<Value>::new(),
        "the shipped mapping is clean"
    );

    let typo = text.replacen(
        "= deal.properties.dealname |",
        "= deal.properties.dealnme |",
        1,
    );
    let started = Instant::now();
    client.change(&uri, 2, &typo);
    let diagnostics = client.diagnostics_for(&uri);
    let elapsed = started.elapsed();
    let at = typo.find("dealnme |").unwrap();
    let line = typo[..at].matches('\n').count();
    let column = at - typo[..at].rfind('\n').unwrap() - 1;
    assert_eq!(
        compact(&diagnostics),
        [format!(
            "M201 {line}:{column}-{line}:{}",
            column + "dealnme".len()
        )]
    );
    let diagnostic = &diagnostics[0];
    let message = diagnostic["message"].as_str().unwrap();
    assert!(
        message.starts_with("`deal.properties` has no field `dealnme`"),
        "{message}"
    );
    assert!(message.contains("did you mean `dealname`?"), "{message}");
    let related = diagnostic["relatedInformation"].as_array().unwrap();
    assert!(
        related[0]["location"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("deal.schema.json")
    );
    eprintln!("diagnostics after the change arrived in {elapsed:?} (debug build)");
    assert!(elapsed < Duration::from_secs(5));

    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": diagnostic["range"], "context": {"diagnostics": [diagnostic]}}),
    );
    let fix = &actions[0];
    assert_eq!(fix["title"], "Replace with `dealname`");
    let edit = &fix["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "dealname");
    assert_eq!(edit["range"], diagnostic["range"]);
    client.finish();
}

#[test]
fn the_same_diagnostics_as_mapctl_check() {
    let (path, text, uri) = shipped("zoho_to_custom.map");
    let broken = text
        .replacen("deal.Closing_Date | date", "deal.Closing_Dat | date", 1)
        .replacen("== \"Closed Won\"", "== \"Closed Wonn\"", 1);
    let dir = path.parent().unwrap();
    let copy = dir.join(".lsp-test-broken.map");
    std::fs::write(&copy, &broken).unwrap();
    let cli = Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(["check", "--format", "json"])
        .arg(&copy)
        .env("MAPCTL_CACHE_DIR", "")
        .output()
        .unwrap();
    std::fs::remove_file(&copy).unwrap();
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    let expected: Vec<String> = cli["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["code"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    let mut client = Client::start();
    client.open(&uri, &broken);
    let diagnostics = client.diagnostics_for(&uri);
    let got: Vec<String> = diagnostics
        .iter()
        .map(|d| {
            let message = d["message"].as_str().unwrap();
            format!(
                "{} {}",
                d["code"].as_str().unwrap(),
                message.split(": ").next().unwrap()
            )
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
    client.finish();
}

#[test]
fn hover_lists_the_stage_ids_and_completion_offers_them_in_the_trigger() {
    let (_, text, uri) = shipped("hubspot_to_accelo.map");
    let mut client = Client::start();
    client.open(&uri, &text);
    client.diagnostics_for(&uri);
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(&text, "dealstage ==", 3)}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(shown.contains("`deal.properties.dealstage`"), "{shown}");
    for stage in ["closedwon", "contractsent", "closedlost"] {
        assert!(shown.contains(stage), "{stage} missing from {shown}");
    }

    let typing = text.replacen("== \"closedwon\"", "== \"", 1);
    client.change(&uri, 2, &typing);
    client.diagnostics_for(&uri);
    let (_, labels) = client.complete(&uri, &typing, "dealstage == \"", 14);
    assert!(
        labels.iter().any(|l| l == "closedwon") && labels.iter().any(|l| l == "contractsent"),
        "{labels:?}"
    );
    client.finish();
}

#[test]
fn completion_of_fields_transforms_tables_and_template_names() {
    let (_, text, uri) = shipped("hubspot_to_accelo.map");
    let typing = text.replacen(
        "  job.standing     = \"pending\"\n",
        "  job.standing     = deal.properties.\n  job.budget_note = deal.properties.amount | \n  job.rate_id = deal.properties.x | lookup(\n",
        1,
    );
    let mut client = Client::start();
    client.open(&uri, &typing);
    client.diagnostics_for(&uri);
    let mut labels_at =
        |needle: &str, shift: usize| client.complete(&uri, &typing, needle, shift).1;
    let fields = labels_at("= deal.properties.\n", 18);
    assert!(fields.contains(&"dealname".to_string()) && fields.contains(&"amount".to_string()));
    let transforms = labels_at("amount | \n", 9);
    assert!(
        transforms.contains(&"number".to_string())
            && transforms.contains(&"company_name".to_string())
    );
    let tables = labels_at("lookup(\n", 7);
    assert_eq!(tables, ["owners", "job_types"]);

    let choosing = typing.replacen("=> \"Enterprise\"", "=> \"Ent", 1);
    client.change(&uri, 2, &choosing);
    client.diagnostics_for(&uri);
    let (result, templates) = client.complete(&uri, &choosing, "=> \"Ent", 7);
    assert!(
        templates.iter().any(|t| t == "Fixed fee, large")
            && templates.iter().any(|t| t == "Retainer"),
        "{templates:?}"
    );
    let replaced = &result[0]["textEdit"]["range"];
    assert_eq!(
        replaced["end"]["character"].as_u64().unwrap()
            - replaced["start"]["character"].as_u64().unwrap(),
        3
    );
    client.finish();
}

#[test]
fn positions_count_utf16_units_on_accented_lines() {
    let (_, text, uri) = shipped("hubspot_to_accelo.map");
    let accented = text.replacen(
        "  job.standing     = \"pending\"",
        "  job.standing     = \"Müller & Söhne GmbH\" | nosuch",
        1,
    );
    let mut client = Client::start();
    client.open(&uri, &accented);
    let diagnostics = client.diagnostics_for(&uri);
    let line = accented[..accented.find("| nosuch").unwrap()]
        .matches('\n')
        .count();
    let unknown: Vec<String> = compact(&diagnostics)
        .into_iter()
        .filter(|d| d.starts_with("M401"))
        .collect();
    // `  job.standing     = "Müller & Söhne GmbH" | ` is 45 UTF-16 units (47 bytes).
    assert_eq!(unknown, [format!("M401 {line}:45-{line}:51")]);
    client.finish();
}

#[test]
fn definition_jumps_into_the_schema_and_to_tables() {
    let (_, text, uri) = shipped("hubspot_to_accelo.map");
    let mut client = Client::start();
    client.open(&uri, &text);
    client.diagnostics_for(&uri);
    let location = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": position_of(&text, "dealstage ==", 2)}),
    );
    assert!(
        location["uri"]
            .as_str()
            .unwrap()
            .ends_with("hubspot/deal.schema.json")
    );
    let schema = std::fs::read_to_string("mappings/schemas/hubspot/deal.schema.json").unwrap();
    let line = schema[..schema.find("\"dealstage\"").unwrap()]
        .matches('\n')
        .count();
    assert_eq!(location["range"]["start"]["line"], line);
    let table = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": position_of(&text, "lookup(owners)", 8)}),
    );
    assert_eq!(table["uri"], uri);
    let declared = text[..text.find("table owners").unwrap()]
        .matches('\n')
        .count();
    assert_eq!(table["range"]["start"]["line"], declared);
    client.finish();
}

#[test]
fn quick_fixes_stub_a_required_field_and_protect_a_field() {
    let (_, text, uri) = shipped("hubspot_to_accelo.map");
    let missing = text.replacen("  job.against_type = \"company\"\n", "", 1);
    let mut client = Client::start();
    client.open(&uri, &missing);
    let diagnostics = client.diagnostics_for(&uri);
    let required = diagnostics
        .iter()
        .find(|d| d["code"] == "M303")
        .expect("M303 for against_type");
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": required["range"], "context": {"diagnostics": [required]}}),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    let stub = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Add a rule for `job.against_type` (its value to write)")
        .unwrap_or_else(|| panic!("a stub action among {titles:?}"));
    assert_eq!(
        stub["isPreferred"], false,
        "a stub to finish is not the fix of choice"
    );
    let edit = &stub["edit"]["changes"][&uri][0];
    let inserted = edit["newText"].as_str().unwrap();
    assert!(
        inserted.starts_with("  job.against_type = TODO  #"),
        "no value is invented for a field that takes no null: {inserted}"
    );

    let on_path = position_of(&missing, "deal.properties.dealtype", 5);
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": on_path, "end": on_path}, "context": {"diagnostics": []}}),
    );
    let protect = &actions[0];
    assert_eq!(
        protect["title"],
        "Never transfer `deal.properties.dealtype`"
    );
    let edit = &protect["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "  deal.properties.dealtype\n");
    let close = missing
        .find("  deal.properties.resource_assignments\n}")
        .unwrap()
        + "  deal.properties.resource_assignments\n".len();
    let expected_line = missing[..close].matches('\n').count();
    assert_eq!(edit["range"]["start"]["line"], expected_line);
    client.finish();
}

#[test]
fn formatting_and_schema_diagnostics_and_bad_requests() {
    let (_, text, uri) = shipped("copper_to_harvest.map");
    let messy = text.replacen("  project.name ", "project.name      ", 1);
    let mut client = Client::start();
    client.open(&uri, &messy);
    client.diagnostics_for(&uri);
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(edits[0]["newText"], text);
    client.next_id += 1;
    let id = client.next_id;
    write_message(
        &mut client.stdin,
        &json!({"jsonrpc": "2.0", "id": id, "method": "no/such", "params": {}}),
    )
    .unwrap();
    client.stdin.flush().unwrap();
    let answer = loop {
        let message = read_message(&mut client.stdout).unwrap();
        if message["id"] == json!(id) {
            break message;
        }
    };
    assert_eq!(answer["error"]["code"], -32601);
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///not/open.map"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(hover, Value::Null);
    client.finish();
}

/// A folder with a deal schema whose `fields` object is a dictionary (`additionalProperties`
/// only), a project schema, and a mapping that reads two of the dictionary's keys.
fn dictionary_workspace() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("deal.schema.json"),
        r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["id", "properties", "fields"],
  "properties": {
    "id": { "type": "string" },
    "properties": {
      "type": "object",
      "properties": {
        "dealname": { "type": "string" },
        "dealstage": { "type": "string", "enum": ["won", "lost"] }
      }
    },
    "fields": {
      "type": "object",
      "description": "Custom fields by key.",
      "additionalProperties": {
        "type": "string",
        "description": "A custom field's value, always text."
      }
    }
  }
}
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("project.schema.json"),
        r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["title"],
  "properties": {
    "title": { "type": "string" },
    "region": { "type": "string" },
    "status": { "type": "string", "enum": ["pending", "active"] }
  }
}
"#,
    )
    .unwrap();
    let text = r#"mapping dictionary
source deal    = schema "deal.schema.json"
target project = schema "project.schema.json"

trigger when deal.properties.dealstage == "won"

require at stage "won" {
  deal.fields.region   "every deal names its region"
}

table regions {
  "north" => "N"
  _ => "S"
}

map {
  project.title  = deal.fields.title ?? deal.id
  project.region = deal.fields.region | lookup(regions)
}
"#
    .to_string();
    let path = dir.path().join("dictionary.map");
    std::fs::write(&path, &text).unwrap();
    let uri = uri_of(&std::fs::canonicalize(&path).unwrap());
    (dir, text, uri)
}

#[test]
fn hover_on_a_key_of_an_additional_properties_dictionary_shows_its_schema() {
    let (_dir, text, uri) = dictionary_workspace();
    let mut client = Client::start();
    client.open(&uri, &text);
    assert_eq!(
        client.diagnostics_for(&uri),
        Vec::<Value>::new(),
        "the checker accepts any key of the dictionary"
    );
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(&text, "region | lookup", 2)}),
    );
    let shown = hover["contents"]["value"].as_str().expect("a hover");
    assert!(
        shown.starts_with("**`deal.fields.region`** — string"),
        "{shown}"
    );
    assert!(
        shown.contains("A custom field's value, always text."),
        "{shown}"
    );
    let schema = std::fs::read_to_string(_dir.path().join("deal.schema.json")).unwrap();
    let line = schema[..schema.find("\"additionalProperties\"").unwrap()]
        .matches('\n')
        .count()
        + 1;
    assert!(
        shown.contains(&format!("schema: `deal.schema.json:{line}`")),
        "{shown}"
    );
    let object = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(&text, "fields.region", 1)}),
    );
    let shown = object["contents"]["value"].as_str().expect("a hover");
    assert!(shown.contains("keys: any name, each string"), "{shown}");
    client.finish();
}

#[test]
fn completion_of_half_typed_paths_uses_the_checkers_schemas() {
    let (_dir, text, uri) = dictionary_workspace();
    let typing = text.replacen(
        "  project.title  = deal.fields.title ?? deal.id\n",
        "  project.title  = deal.fields.\n  project.status = deal.properties.deal\n  project.\n",
        1,
    );
    let mut client = Client::start();
    client.open(&uri, &typing);
    client.diagnostics_for(&uri);
    let (_, keys) = client.complete(&uri, &typing, "deal.fields.\n", 12);
    assert_eq!(keys, ["region"], "the keys the mapping uses elsewhere");
    let (result, fields) = client.complete(&uri, &typing, "deal.properties.deal\n", 20);
    assert_eq!(fields, ["dealname", "dealstage"]);
    let range = &result[0]["textEdit"]["range"];
    assert_eq!(
        range["end"]["character"].as_u64().unwrap() - range["start"]["character"].as_u64().unwrap(),
        4,
        "the typed `deal` is replaced"
    );
    let (_, targets) = client.complete(&uri, &typing, "  project.\n", 10);
    assert_eq!(targets, ["title", "region", "status"]);
    let (_, values) = {
        let choosing = typing.replacen(
            "project.status = deal.properties.deal",
            "project.status = \"p",
            1,
        );
        client.change(&uri, 2, &choosing);
        client.diagnostics_for(&uri);
        client.complete(&uri, &choosing, "project.status = \"p", 19)
    };
    assert_eq!(
        values,
        ["pending", "active"],
        "a string written into an enum field"
    );
    client.finish();
}

#[test]
fn completion_after_a_pipe_offers_transforms_in_any_item() {
    let (_dir, text, uri) = dictionary_workspace();
    let typing = text.replacen(
        "trigger when deal.properties.dealstage == \"won\"",
        "trigger when deal.properties.dealname | lo",
        1,
    );
    let mut client = Client::start();
    client.open(&uri, &typing);
    client.diagnostics_for(&uri);
    let (result, names) = client.complete(&uri, &typing, "dealname | lo", 13);
    assert!(
        names.iter().any(|n| n == "lower") && names.iter().any(|n| n == "lookup"),
        "{names:?}"
    );
    let range = &result[0]["textEdit"]["range"];
    assert_eq!(
        range["end"]["character"].as_u64().unwrap() - range["start"]["character"].as_u64().unwrap(),
        2
    );
    let inside_string = client.complete(&uri, &typing, "\"north\"", 3).1;
    assert!(
        inside_string.is_empty(),
        "no names inside a table key: {inside_string:?}"
    );
    client.finish();
}

#[test]
fn definition_of_a_table_name_works_on_a_line_that_does_not_parse() {
    let (_dir, text, uri) = dictionary_workspace();
    let broken = text.replacen(
        "deal.fields.region | lookup(regions)",
        "deal.fields.region | lookup(regions) |",
        1,
    );
    let mut client = Client::start();
    client.open(&uri, &broken);
    let diagnostics = client.diagnostics_for(&uri);
    assert!(compact(&diagnostics).iter().any(|d| d.starts_with("M101")));
    let declared = broken[..broken.find("table regions").unwrap()]
        .matches('\n')
        .count();
    for (needle, shift) in [("lookup(regions)", 9), ("table regions", 8)] {
        let location = client.request(
            "textDocument/definition",
            json!({"textDocument": {"uri": uri}, "position": position_of(&broken, needle, shift)}),
        );
        assert_eq!(location["uri"], uri, "{needle}");
        assert_eq!(location["range"]["start"]["line"], declared, "{needle}");
        assert_eq!(location["range"]["start"]["character"], 6, "{needle}");
    }
    client.finish();
}
