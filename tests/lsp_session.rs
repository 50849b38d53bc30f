//! Editing sessions with `mapctl lsp` over the raw protocol, as an editor drives it: quick fixes
//! applied as edits and checked again, schema files edited on disk while the mapping stays
//! untouched, renames, the outline, references, folding, semantic tokens, signature help,
//! incremental changes and versions, and odd input that must not stop the server.

#[path = "support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{Client, apply_edits, position_of, uri_of, workspace};
use serde_json::{Value, json};

/// A client that watches files for the server (dynamic registration).
fn watching() -> Value {
    json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}})
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The quick fixes offered for `diagnostic`.
fn actions_for(client: &mut Client, uri: &str, diagnostic: &Value) -> Vec<Value> {
    let answer = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": diagnostic["range"],
               "context": {"diagnostics": [diagnostic]}}),
    );
    let all = answer.as_array().cloned().unwrap_or_default();
    all.into_iter()
        .filter(|a| a["diagnostics"][0] == *diagnostic)
        .collect()
}

fn titles(actions: &[Value]) -> Vec<String> {
    actions
        .iter()
        .map(|a| a["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_stage_typo_is_fixed_by_a_code_action_that_checks_clean() {
    let dir = workspace();
    let path = dir.path().join("hubspot_to_accelo.map");
    let uri = uri_of(&path);
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "require at stage \"closedwon\"",
        "require at stage \"closedwn\"",
        1,
    );
    let (mut client, _) = Client::start(json!({}));
    client.open(&uri, &text);
    let (version, diagnostics) = client.diagnostics(&uri);
    assert_eq!(version, 1, "diagnostics carry the document's version");
    let typo = diagnostics
        .iter()
        .find(|d| d["code"] == "M205")
        .expect("M205 for the stage");
    let actions = actions_for(&mut client, &uri, typo);
    assert_eq!(titles(&actions), ["Replace with `\"closedwon\"`"]);
    assert_eq!(actions[0]["isPreferred"], true);
    let edits = actions[0]["edit"]["changes"][&uri]
        .as_array()
        .unwrap()
        .clone();
    let fixed = client.edit(&uri, 2, &text, &edits);
    assert!(fixed.contains("require at stage \"closedwon\" {"));
    let (version, diagnostics) = client.diagnostics(&uri);
    assert_eq!(version, 2);
    assert_eq!(diagnostics, Vec::<Value>::new(), "the fix checks clean");
    client.finish();
}

#[test]
fn enum_values_template_names_and_conversions_get_verified_fixes() {
    let dir = workspace();
    let path = dir.path().join("hubspot_to_accelo.map");
    let uri = uri_of(&path);
    let clean = std::fs::read_to_string(&path).unwrap();
    let text = clean
        .replacen(
            "contract_type == \"retainer\"",
            "contract_type == \"retaner\"",
            1,
        )
        .replacen("=> \"Fixed fee, small\"", "=> \"Fixed fee, smal\"", 1)
        .replacen(
            "deal.properties.amount | number\n",
            "deal.properties.amount\n",
            1,
        );
    let (mut client, _) = Client::start(json!({}));
    client.open(&uri, &text);
    let (_, diagnostics) = client.diagnostics(&uri);
    let mut expected = vec![
        ("M206", "Replace with `\"retainer\"`"),
        ("M305", "Replace with `\"Fixed fee, small\"`"),
        (
            "M304",
            "Change to `job.budget = deal.properties.amount | number`",
        ),
    ];
    let mut fixed = text.clone();
    for diagnostic in &diagnostics {
        let code = diagnostic["code"].as_str().unwrap();
        let Some(index) = expected.iter().position(|(c, _)| *c == code) else {
            continue;
        };
        let (_, title) = expected.remove(index);
        let actions = actions_for(&mut client, &uri, diagnostic);
        assert_eq!(titles(&actions), [title], "{code}");
        let edits = actions[0]["edit"]["changes"][&uri].as_array().unwrap();
        fixed = apply_edits(&fixed, edits);
    }
    assert!(expected.is_empty(), "not diagnosed: {expected:?}");
    // Each fix was computed on the same text; applied together they restore the mapping (as
    // `mapctl fmt` lays it out: the rewritten rule is not aligned).
    let formatted = mapctl::syntax::format::format(&fixed).expect("the fixed mapping parses");
    assert_eq!(formatted, clean);
    client.replace(&uri, 9, &fixed);
    let (version, after) = client.diagnostics(&uri);
    assert_eq!((version, after), (json!(9), Vec::new()));
    client.finish();
}

#[test]
fn a_suggestion_that_would_not_check_clean_is_not_offered() {
    let dir = workspace();
    let path = dir.path().join("hubspot_to_accelo.map");
    let uri = uri_of(&path);
    // `amount` is the name the help suggests, but it is a string: writing it into the numeric
    // budget would be a type error, so no fix is offered.
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "deal.properties.amount | number\n",
        "deal.properties.amout\n",
        1,
    );
    let (mut client, _) = Client::start(json!({}));
    client.open(&uri, &text);
    let (_, diagnostics) = client.diagnostics(&uri);
    let unknown = diagnostics
        .iter()
        .find(|d| d["code"] == "M201")
        .expect("M201 for `amout`");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `amount`?")
    );
    let actions = actions_for(&mut client, &uri, unknown);
    assert!(
        titles(&actions).iter().all(|t| !t.starts_with("Replace")),
        "{:?}",
        titles(&actions)
    );
    client.finish();
}

#[test]
fn a_required_field_that_takes_null_gets_a_null_stub() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("deal.json"),
        r#"{"type": "object", "required": ["stage"], "properties": {
             "stage": {"type": "string", "enum": ["won", "lost"]}, "name": {"type": "string"}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("project.json"),
        r#"{"type": "object", "required": ["title", "budget"], "properties": {
             "title": {"type": "string"}, "budget": {"type": ["number", "null"]}}}"#,
    )
    .unwrap();
    let text = "mapping stubs\nsource deal = schema \"deal.json\"\ntarget project = schema \"project.json\"\n\
        trigger when deal.stage == \"won\"\nmap {\n  project.title = deal.stage\n}\n";
    let path = dir.path().join("stubs.map");
    std::fs::write(&path, text).unwrap();
    let uri = uri_of(&path);
    let (mut client, _) = Client::start(json!({}));
    client.open(&uri, text);
    let (_, diagnostics) = client.diagnostics(&uri);
    assert_eq!(codes(&diagnostics), ["M303"]);
    let actions = actions_for(&mut client, &uri, &diagnostics[0]);
    assert_eq!(titles(&actions), ["Add `project.budget = null`"]);
    let edits = actions[0]["edit"]["changes"][&uri]
        .as_array()
        .unwrap()
        .clone();
    let fixed = client.edit(&uri, 2, text, &edits);
    assert!(fixed.contains("  project.budget = null  # TODO"), "{fixed}");
    assert_eq!(client.diagnostics(&uri).1, Vec::<Value>::new());
    client.finish();
}

#[test]
fn a_schema_edit_is_rechecked_without_touching_the_mapping() {
    let dir = workspace();
    let path = dir.path().join("hubspot_to_accelo.map");
    let uri = uri_of(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut client, _) = Client::start(watching());
    let registration = client.wait_for(|m| m["method"] == "client/registerCapability");
    let registered = &registration["params"]["registrations"][0];
    assert_eq!(registered["method"], "workspace/didChangeWatchedFiles");
    let globs: Vec<&str> = registered["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["globPattern"].as_str().unwrap())
        .collect();
    assert!(
        globs.contains(&"**/*.json") && globs.contains(&"**/*.csv"),
        "{globs:?}"
    );
    client.send(&json!({"jsonrpc": "2.0", "id": registration["id"], "result": null}));
    client.open(&uri, &text);
    assert_eq!(client.diagnostics(&uri).1, Vec::<Value>::new());

    let schema = dir.path().join("schemas/hubspot/deal.schema.json");
    let original = std::fs::read_to_string(&schema).unwrap();
    std::fs::write(&schema, original.replacen("\"closedwon\",", "", 1)).unwrap();
    let schema_uri = uri_of(&schema);
    let unrelated = uri_of(&dir.path().join("schemas/zoho/deal.schema.json"));
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": unrelated, "type": 2}, {"uri": schema_uri, "type": 2}]}),
    );
    let (version, diagnostics) = client.diagnostics(&uri);
    assert_eq!(version, 1, "the mapping itself did not change");
    assert!(
        codes(&diagnostics).contains(&"M205".to_string()),
        "{diagnostics:?}"
    );

    std::fs::write(&schema, original).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": schema_uri, "type": 2}]}),
    );
    assert_eq!(client.diagnostics(&uri).1, Vec::<Value>::new());
    client.finish();
}

#[test]
fn without_a_watching_client_the_server_notices_schema_edits_itself() {
    let dir = workspace();
    let path = dir.path().join("copper_to_harvest.map");
    let uri = uri_of(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut client, _) = Client::start(json!({}));
    assert!(
        client
            .pending
            .iter()
            .all(|m| m["method"] != "client/registerCapability"),
        "no registration with a client that cannot watch"
    );
    client.open(&uri, &text);
    assert_eq!(client.diagnostics(&uri).1, Vec::<Value>::new());
    let schema = dir.path().join("schemas/harvest/project.schema.json");
    let original = std::fs::read_to_string(&schema).unwrap();
    let broken = original.replacen(
        "\n  \"required\": [",
        "\n  \"required\": [\"no_such_field_either\", ",
        1,
    );
    assert_ne!(broken, original);
    std::fs::write(&schema, broken).unwrap();
    let (_, diagnostics) = client.diagnostics(&uri);
    assert!(!diagnostics.is_empty(), "the edit on disk is noticed");
    client.finish();
}

#[test]
fn a_table_is_renamed_across_the_file() {
    let dir = workspace();
    let path = dir.path().join("hubspot_to_accelo.map");
    let uri = uri_of(&path);
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        ", {deal.properties.contract_type}\\n",
        ", {deal.properties.service_line | lookup(job_types) ?? \"no job_types\"}\\n",
        1,
    );
    let (mut client, _) = Client::start(json!({}));
    client.open(&uri, &text);
    client.diagnostics(&uri);
    let at = position_of(&text, "lookup(job_types)", 9);
    let prepared = client.request(
        "textDocument/prepareRename",
        json!({"textDocument": {"uri": uri}, "position": at}),
    );
    assert_eq!(prepared["placeholder"], "job_types");
    let refused = client.call(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": at, "newName": "owners"}),
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("taken"),
        "{refused}"
    );
    let keyword = client.call(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": at, "newName": "map"}),
    );
    assert_eq!(keyword["error"]["code"], -32602, "{keyword}");

    let renamed = client.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": at, "newName": "service_types"}),
    );
    let edits = renamed["changes"][&uri].as_array().unwrap();
    assert_eq!(
        edits.len(),
        3,
        "the declaration and both lookups: {edits:?}"
    );
    let after = apply_edits(&text, edits);
    assert!(after.contains("table service_types {"));
    assert_eq!(after.matches("lookup(service_types)").count(), 2);
    assert!(
        after.contains("\"no job_types\""),
        "a word in a string is not a use"
    );
    client.replace(&uri, 2, &after);
    assert_eq!(client.diagnostics(&uri).1, Vec::<Value>::new());

    let references = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": position_of(&after, "deal.properties.service_line", 20),
               "context": {"includeDeclaration": true}}),
    );
    assert_eq!(references.as_array().unwrap().len(), 2, "{references}");
    let record = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": position_of(&after, "source company", 8),
               "context": {"includeDeclaration": false}}),
    );
    // `company.id` in the join, `company.properties.name` in the description and the client match.
    assert_eq!(record.as_array().unwrap().len(), 3, "{record}");
    client.finish();
}

#[test]
fn the_outline_folding_and_tokens_come_from_the_syntax_tree() {
    let dir = workspace();
    let path = dir.path().join("hubspot_to_accelo.map");
    let uri = uri_of(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut client, _) = Client::start(json!({}));
    client.open(&uri, &text);
    client.diagnostics(&uri);
    let outline = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names: Vec<&str> = outline
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "hubspot_to_accelo",
            "deal",
            "company",
            "job",
            "trigger",
            "client_name",
            "require at stage \"closedwon\"",
            "never transfer",
            "owners",
            "job_types",
            "map",
            "match client",
            "select job.job_type_name",
            "sync back",
            "checklist"
        ]
    );
    let symbols = outline.as_array().unwrap();
    let map = &symbols[10];
    let rules: Vec<&str> = map["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(rules[0], "job.title");
    assert_eq!(rules.len(), 9);
    assert_eq!(symbols[6]["children"].as_array().unwrap().len(), 7);
    assert_eq!(symbols[12]["children"].as_array().unwrap().len(), 5);

    let folds = client.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": uri}}),
    );
    let map_line = text[..text.find("map {").unwrap()].matches('\n').count();
    assert!(
        folds
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["startLine"] == map_line && f["endLine"] == map_line + 9),
        "{folds}"
    );
    assert!(
        folds
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "comment" && f["startLine"] == 0)
    );

    let tokens = client.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": uri}}),
    );
    let decoded = decode_tokens(&text, tokens["data"].as_array().unwrap());
    assert!(
        decoded.contains(&("lookup".to_string(), 2)),
        "transforms are functions"
    );
    assert!(
        decoded.contains(&("job_types".to_string(), 3)),
        "tables are variables"
    );
    assert!(
        decoded.contains(&("\"closedwon\"".to_string(), 4)),
        "stages are enum members"
    );
    assert!(
        decoded.contains(&("\"Retainer\"".to_string(), 4)),
        "template names too"
    );
    assert!(
        !decoded.iter().any(|(t, _)| t == "fires"),
        "nothing in comments"
    );
    client.finish();
}

/// Semantic tokens as (text, type) pairs.
fn decode_tokens(text: &str, data: &[Value]) -> Vec<(String, u64)> {
    let lines: Vec<&str> = text.split('\n').collect();
    let (mut line, mut column) = (0usize, 0usize);
    let number = |v: &Value| v.as_u64().unwrap() as usize;
    data.chunks(5)
        .map(|t| {
            if number(&t[0]) > 0 {
                line += number(&t[0]);
                column = number(&t[1]);
            } else {
                column += number(&t[1]);
            }
            let units: Vec<u16> = lines[line].encode_utf16().collect();
            let piece = String::from_utf16_lossy(&units[column..column + number(&t[2])]);
            (piece, t[3].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn hovers_on_tables_and_values_and_signature_help_while_typing() {
    let dir = workspace();
    let path = dir.path().join("hubspot_to_accelo.map");
    let uri = uri_of(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut client, _) = Client::start(json!({}));
    client.open(&uri, &text);
    client.diagnostics(&uri);
    let hover = |client: &mut Client, text: &str, needle: &str, shift: usize| {
        let answer = client.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": position_of(text, needle, shift)}),
        );
        answer["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let table = hover(&mut client, &text, "lookup(job_types)", 9);
    assert!(
        table.starts_with("**table `job_types`** — 4 rows"),
        "{table}"
    );
    assert!(table.contains("`\"training\"` → `9`"), "{table}");
    let line = text[..text.find("lookup(job_types)").unwrap()]
        .matches('\n')
        .count()
        + 1;
    assert!(
        table.contains(&format!("looked up at line {line}")),
        "{table}"
    );
    let stage = hover(&mut client, &text, "stage \"closedwon\"", 8);
    assert!(
        stage.contains("a stage of `deal.properties.dealstage`"),
        "{stage}"
    );
    assert!(stage.contains("used on lines"), "{stage}");
    let template = hover(&mut client, &text, "=> \"Retainer\"", 4);
    assert!(
        template.contains("a value of `job.job_type_name`"),
        "{template}"
    );

    let typing = text.replacen("| truncate(190)", "| truncate(", 1);
    client.replace(&uri, 2, &typing);
    client.diagnostics(&uri);
    let help = client.request(
        "textDocument/signatureHelp",
        json!({"textDocument": {"uri": uri}, "position": position_of(&typing, "truncate(", 9)}),
    );
    let signature = &help["signatures"][0];
    assert!(
        signature["label"]
            .as_str()
            .unwrap()
            .starts_with("truncate(length)"),
        "{help}"
    );
    assert_eq!(help["activeParameter"], 0);
    assert_eq!(signature["parameters"][0]["label"], json!([9, 15]));
    client.finish();
}

#[test]
fn incremental_edits_merge_versions_hold_and_other_languages_are_left_alone() {
    let dir = workspace();
    let path = dir.path().join("hubspot_to_accelo.map");
    let uri = uri_of(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut client, _) = Client::start(json!({}));
    let schema_uri = uri_of(&dir.path().join("schemas/hubspot/deal.schema.json"));
    client.open_as(&schema_uri, "json", "{ not a mapping");
    client.open(&uri, &text);
    assert_eq!(client.diagnostics(&uri), (json!(1), Vec::new()));
    assert!(
        client
            .pending
            .iter()
            .all(|m| m["params"]["uri"] != schema_uri),
        "a JSON document is not checked as a mapping"
    );

    // 21 keystrokes typed into `dealname`, sent as fast as the pipe takes them.
    let at =
        text.find("= deal.properties.dealname |").unwrap() + "= deal.properties.dealname".len();
    let start = mapctl::lsp::position::to_position(&text, at);
    let mut typed = text.clone();
    for (i, letter) in "_and_twenty_more_keys".chars().enumerate() {
        let position = json!({"line": start.line, "character": start.character as usize + i});
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": i + 2},
                   "contentChanges": [{"range": {"start": position, "end": position}, "text": letter.to_string()}]}),
        );
        typed.insert(at + i, letter);
    }
    let mut versions = Vec::new();
    loop {
        let (version, diagnostics) = client.diagnostics(&uri);
        versions.push(version.as_i64().unwrap());
        if version == 22 {
            // HubSpot's schema types undeclared properties (custom ones), so the long name is
            // read as a custom property, which may be absent (M204) or empty (M320).
            assert_eq!(codes(&diagnostics), ["M204", "M320"]);
            break;
        }
    }
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "never an older text after a newer one: {versions:?}"
    );
    eprintln!(
        "21 edits, {} publishes (versions {versions:?})",
        versions.len()
    );
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(&typed, "dealname_and", 3)}),
    );
    assert!(
        hover["contents"]["value"].as_str().is_some_and(|v| v
            .contains("`deal.properties.dealname_and_twenty_more_keys`")
            && v.contains("did not list")),
        "requests see the newest text: the field is the schema's custom property: {hover}"
    );
    client.finish();
}

#[test]
fn odd_input_is_answered_and_never_stops_the_server() {
    let dir = workspace();
    let path = dir.path().join("zoho_to_custom.map");
    let uri = uri_of(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut client, _) = Client::start(json!({"workspace": 5}));
    client.notify("textDocument/didChange", json!({"textDocument": {"uri": "file:///nowhere.map", "version": 3}, "contentChanges": [{"text": "x"}]}));
    client.notify("textDocument/didOpen", json!({"textDocument": 17}));
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": "all"}));
    client.open(&uri, &text);
    client.diagnostics(&uri);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 900, "character": 4}, "end": {"line": 2, "character": 0}}, "text": "\u{1F600}"}]}),
    );
    client.diagnostics(&uri);
    for (method, params) in [
        ("textDocument/rename", json!({"textDocument": {"uri": uri}})),
        ("textDocument/references", json!(null)),
        (
            "textDocument/semanticTokens/full",
            json!({"textDocument": 3}),
        ),
    ] {
        let answer = client.call(method, params);
        assert_eq!(answer["error"]["code"], -32602, "{method}: {answer}");
    }
    for method in [
        "textDocument/documentSymbol",
        "textDocument/foldingRange",
        "textDocument/semanticTokens/full",
    ] {
        let answer = client.request(method, json!({"textDocument": {"uri": uri}}));
        assert!(
            answer.is_array() || answer.is_object(),
            "{method}: {answer}"
        );
    }
    let far = json!({"line": 99999, "character": 99999});
    for method in [
        "textDocument/signatureHelp",
        "textDocument/prepareRename",
        "textDocument/hover",
    ] {
        client.request(
            method,
            json!({"textDocument": {"uri": uri}, "position": far}),
        );
    }
    client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": far, "end": {"line": 0, "character": 0}},
               "context": {"diagnostics": [{"range": {"start": far, "end": far}, "message": "x", "code": "M205"}]}}),
    );
    client.finish();
}
