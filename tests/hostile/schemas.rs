//! Hostile schemas, round two (issue 23): reference cycles and chains that used to overflow the
//! stack or take quadratic time, and the budgets that now refuse them with their own codes.
//! Included from `tests/hostile.rs`, whose helpers it uses.

use super::*;

/// The bench deal schema with `edit` applied, written as `schemas/NAME` in `ws`; returns the
/// mapping (`reference.map` reading it) written beside it.
fn edited_deal_schema(ws: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let text = std::fs::read_to_string(ws.join("schemas/deal.schema.json")).expect("deal schema");
    let mut schema: Value = serde_json::from_str(&text).expect("deal schema is JSON");
    edit(&mut schema);
    let pretty = serde_json::to_string_pretty(&schema).expect("serialise");
    std::fs::write(ws.join("schemas").join(name), pretty).expect("write schema");
    with_deal_schema(ws, name)
}

/// The template deal, pretty-printed as one JSON document (read whole, not as NDJSON lines).
fn single_document_deal(ws: &Path) -> PathBuf {
    let path = ws.join("one_deal.json");
    let text = serde_json::to_string_pretty(&template_deal()).expect("serialise");
    std::fs::write(&path, text).expect("write deal");
    path
}

/// `apply` of a mapping whose schema check refuses: exit 2, the code on stderr, no crash.
fn assert_apply_refused(ws: &Path, mapping: &str, code: &str) {
    let deal = single_document_deal(ws);
    for input in [deal, deals("template.ndjson")] {
        let run = mapctl(ws, &["apply", mapping, &input.display().to_string()]);
        run.assert_exit(&[2]);
        assert!(
            run.stderr.contains(code),
            "{}: {}",
            run.what,
            tail(&run.stderr)
        );
    }
}

const DEALNAME: &str = "/properties/properties/properties/dealname";

fn dealname(schema: &mut Value) -> &mut Value {
    &mut schema["properties"]["properties"]["properties"]["dealname"]
}

#[test]
fn pure_ref_cycle_is_m608_naming_its_pointers_and_apply_does_not_overflow() {
    let (_dir, ws) = workspace();
    let mapping = edited_deal_schema(&ws, "deal_pure_cycle.schema.json", |s| {
        s["$defs"] = serde_json::json!({"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}});
        *dealname(s) = serde_json::json!({"$ref": "#/$defs/a"});
    });
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let d = find_code(&diagnostics, "M608");
    let message = d["message"].as_str().unwrap_or("");
    assert!(
        message.contains("#/$defs/a -> #/$defs/b -> #/$defs/a"),
        "{message}"
    );
    assert_apply_refused(&ws, &mapping, "M608");
}

#[test]
fn field_whose_ref_names_itself_is_m608_and_apply_does_not_overflow() {
    let (_dir, ws) = workspace();
    let mapping = edited_deal_schema(&ws, "deal_self_ref.schema.json", |s| {
        *dealname(s) = serde_json::json!({"$ref": format!("#{DEALNAME}")});
    });
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let d = find_code(&diagnostics, "M608");
    assert!(
        d["message"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("#{DEALNAME} -> #{DEALNAME}")),
        "{d}"
    );
    assert_apply_refused(&ws, &mapping, "M608");
}

#[test]
fn ref_loop_through_all_of_and_any_of_is_m608() {
    let (_dir, ws) = workspace();
    let mapping = edited_deal_schema(&ws, "deal_allof_cycle.schema.json", |s| {
        s["$defs"] = serde_json::json!({
            "a": {"allOf": [{"type": "string"}, {"$ref": "#/$defs/b"}]},
            "b": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/a"}]}
        });
        *dealname(s) = serde_json::json!({"$ref": "#/$defs/a"});
    });
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let message = find_code(&diagnostics, "M608")["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        message.contains("#/$defs/a") && message.contains("#/$defs/b/anyOf/1"),
        "{message}"
    );
}

/// A deal schema whose `dealname` is a `$ref` chain of `links` links ending in a string schema.
fn ref_chain(ws: &Path, links: usize) -> String {
    edited_deal_schema(ws, &format!("deal_chain_{links}.schema.json"), |s| {
        let mut defs = serde_json::Map::new();
        for i in 0..links {
            defs.insert(
                format!("n{i}"),
                serde_json::json!({"$ref": format!("#/$defs/n{}", i + 1)}),
            );
        }
        defs.insert(
            format!("n{links}"),
            serde_json::json!({"type": ["string", "null"]}),
        );
        s["$defs"] = Value::Object(defs);
        *dealname(s) = serde_json::json!({"$ref": "#/$defs/n0"});
    })
}

#[test]
fn ref_chain_of_6000_links_is_m610_without_a_stack_overflow() {
    let (_dir, ws) = workspace();
    let mapping = ref_chain(&ws, 6000);
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let d = find_code(&diagnostics, "M610");
    let message = d["message"].as_str().unwrap_or("");
    assert!(
        message.contains(DEALNAME) && message.contains("more than 64"),
        "{message}"
    );
    assert_apply_refused(&ws, &mapping, "M610");
}

#[test]
fn ref_chain_within_the_budget_checks_and_applies_on_both_paths() {
    let (_dir, ws) = workspace();
    let mapping = ref_chain(&ws, 60);
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[0]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let a = apply_with(&ws.join(&mapping), &[&deals("template.ndjson")], &[]);
    assert_laws(&a, 1);
    assert_eq!(a.records.len(), 1, "{}", a.rejects_text);
    let run = mapctl(
        &ws,
        &[
            "apply",
            &mapping,
            &single_document_deal(&ws).display().to_string(),
        ],
    );
    run.assert_exit(&[0]);
    let broken = ws.join("broken.ndjson");
    std::fs::write(
        &broken,
        deal_line(1, |d| d["properties"]["dealname"] = Value::from(7)) + "\n",
    )
    .expect("write");
    let a = apply_with(&ws.join(&mapping), &[&broken], &[]);
    assert_laws(&a, 1);
    assert_eq!(
        a.outcomes("rejected").get(&1).map(|c| c[0].as_str()),
        Some("M502")
    );
}

#[test]
fn property_chain_of_6000_levels_checks_in_one_pass() {
    // A chain that reads one level deeper at each link is fine (a tree), however long; before,
    // every `$ref` was located in the file from its start (quadratic).
    let (_dir, ws) = workspace();
    let mapping = edited_deal_schema(&ws, "deal_property_chain.schema.json", |s| {
        let mut defs = serde_json::Map::new();
        for i in 0..6000 {
            defs.insert(
                format!("n{i}"),
                serde_json::json!({"type": "object", "properties": {"c": {"$ref": format!("#/$defs/n{}", i + 1)}}}),
            );
        }
        defs.insert("n6000".into(), serde_json::json!({"type": "string"}));
        s["$defs"] = Value::Object(defs);
        s["properties"]["tree"] = serde_json::json!({"$ref": "#/$defs/n0"});
    });
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[0]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let tree = ws.join("tree.ndjson");
    std::fs::write(
        &tree,
        deal_line(1, |d| d["tree"] = serde_json::json!({"c": {"c": "leaf"}}))
            + "\n"
            + &deal_line(2, |d| d["tree"] = serde_json::json!({"c": {"c": 5}}))
            + "\n",
    )
    .expect("write");
    let a = apply_with(&ws.join(&mapping), &[&tree], &[]);
    assert_laws(&a, 2);
    assert_eq!(
        a.outcomes("rejected").get(&2).map(|c| c[0].as_str()),
        Some("M502")
    );
    let run = mapctl(
        &ws,
        &[
            "apply",
            &mapping,
            &single_document_deal(&ws).display().to_string(),
        ],
    );
    run.assert_exit(&[0]);
}

#[test]
fn duplicate_keys_in_a_schema_are_m603_at_the_second_key() {
    let (_dir, ws) = workspace();
    let text = std::fs::read_to_string(ws.join("schemas/deal.schema.json")).expect("read");
    let anchor = "\"dealname\": {";
    assert!(text.contains(anchor), "bench deal schema changed");
    let doubled = text.replacen(
        anchor,
        &format!("\"dealname\": {{\"type\": \"integer\"}}, {anchor}"),
        1,
    );
    std::fs::write(ws.join("schemas/deal_duplicate_key.schema.json"), &doubled).expect("write");
    let mapping = with_deal_schema(&ws, "deal_duplicate_key.schema.json");
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let d = find_code(&diagnostics, "M603");
    assert_message_contains(d, "\"dealname\" appears twice");
    let second = doubled
        .match_indices("\"dealname\"")
        .nth(1)
        .expect("second key")
        .0;
    let (line, column) = line_col(&doubled, second);
    assert_place(d, "deal_duplicate_key.schema.json", line, Some(column));
}

#[test]
fn a_huge_counted_repetition_is_refused_in_mappings_and_schema_patterns() {
    let (_dir, ws) = workspace();
    let pattern = "(?:){4294967295}";
    let mapping = variant(
        &ws,
        "repetition.map",
        "trigger when deal.properties.dealstage == \"closedwon\"",
        &format!(
            "trigger when deal.properties.dealstage == \"closedwon\" and deal.properties.dealname matches \"{pattern}\""
        ),
    );
    let name = mapping
        .file_name()
        .and_then(OsStr::to_str)
        .unwrap_or("")
        .to_string();
    let (run, diagnostics) = check_json(&ws, &name, &[]);
    run.assert_exit(&[1]);
    let d = find_code(&diagnostics, "M107");
    assert!(
        d["labels"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("{4294967295} is larger than 1000")),
        "{d}"
    );

    let mapping = edited_deal_schema(&ws, "deal_repetition.schema.json", |s| {
        *dealname(s) = serde_json::json!({"type": "string", "pattern": pattern});
    });
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[1]);
    let d = find_code(&diagnostics, "M107");
    let message = d["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&format!("{DEALNAME}/pattern")) && message.contains("4294967295"),
        "{d}"
    );
}

#[test]
fn a_homoglyph_in_a_name_is_named_by_its_code_point() {
    let (_dir, ws) = workspace();
    variant(
        &ws,
        "homoglyph.map",
        "trigger when deal.properties.dealstage",
        "trigger when deal.properties.de\u{0430}lstage",
    );
    let (run, diagnostics) = check_json(&ws, "homoglyph.map", &[]);
    run.assert_exit(&[1]);
    let d = find_code(&diagnostics, "M101");
    let message = d["message"].as_str().unwrap_or("");
    assert!(
        message.contains("U+0430") && message.contains("looks like `a`"),
        "{d}"
    );
}

#[test]
fn a_mapping_starting_with_a_byte_order_mark_checks_and_formats() {
    let (_dir, ws) = workspace();
    let text = format!("\u{feff}{}", reference_text());
    std::fs::write(ws.join("bom.map"), &text).expect("write");
    let (run, _) = check_json(&ws, "bom.map", &[]);
    run.assert_exit(&[0]);
    let run = mapctl(&ws, &["fmt", "bom.map"]);
    run.assert_exit(&[0]);
    let formatted = std::fs::read_to_string(ws.join("bom.map")).expect("read");
    assert!(
        formatted.starts_with('\u{feff}'),
        "fmt keeps the byte order mark"
    );
    let run = mapctl(&ws, &["fmt", "--check", "bom.map"]);
    run.assert_exit(&[0]);
    let (run, _) = check_json(&ws, "bom.map", &[]);
    run.assert_exit(&[0]);
}

#[test]
fn a_relative_ref_is_resolved_against_the_id_around_it() {
    let (_dir, ws) = workspace();
    std::fs::create_dir_all(ws.join("schemas/sub")).expect("mkdir");
    std::fs::write(ws.join("schemas/sub/node.json"), r#"{"type": "string"}"#).expect("write");
    // A decoy where the reference would point without its `$id` base.
    std::fs::write(ws.join("schemas/node.json"), r#"{"type": "integer"}"#).expect("write");
    let mapping = edited_deal_schema(&ws, "deal_id_base.schema.json", |s| {
        s["properties"]["tree"] = serde_json::json!({"$id": "sub/", "$ref": "node.json"});
    });
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[0]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let input = ws.join("trees.ndjson");
    std::fs::write(
        &input,
        deal_line(1, |d| d["tree"] = Value::from("text"))
            + "\n"
            + &deal_line(2, |d| d["tree"] = Value::from(5))
            + "\n",
    )
    .expect("write");
    let a = apply_with(&ws.join(&mapping), &[&input], &[]);
    assert_laws(&a, 2);
    assert_eq!(deal_ids(&a), ["18000000001"]);
    assert_eq!(
        a.outcomes("rejected").get(&2).map(|c| c[0].as_str()),
        Some("M502")
    );
    // The base never lets a reference out of the schema's folder.
    let mapping = edited_deal_schema(&ws, "deal_id_escape.schema.json", |s| {
        s["properties"]["tree"] =
            serde_json::json!({"$id": "../../", "$ref": "outside/secret.schema.json"});
    });
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    assert!(
        codes_of(&diagnostics)
            .iter()
            .any(|c| c == "M607" || c == "M601"),
        "{diagnostics:?}"
    );
    assert!(!run.stdout_text().contains("SECRET-OUTSIDE"));
}

/// "An invalid schema file exits 1 instead of 2": a schema file the mapping names that is not a
/// JSON Schema, not JSON or missing means the mapping could not be checked: `check` exits 2 in
/// every format and names the file's own code; `apply` names that code too (not only the type
/// errors it causes in the rules), and exits 2.
#[test]
fn unusable_schema_file_exits_2_and_apply_names_it() {
    let (_dir, ws) = workspace();
    let cases: [(&str, Option<&str>, &str); 3] = [
        (
            "deal_not_a_schema.schema.json",
            Some(r#"{"type": 5}"#),
            "M603",
        ),
        ("deal_not_json.schema.json", Some(r#"{"type": "#), "M602"),
        ("deal_missing.schema.json", None, "M601"),
    ];
    for (name, text, code) in cases {
        if let Some(text) = text {
            std::fs::write(ws.join("schemas").join(name), text).expect("write schema");
        }
        let mapping = with_deal_schema(&ws, name);
        let (run, diagnostics) = check_json(&ws, &mapping, &[]);
        run.assert_exit(&[2]);
        find_code(&diagnostics, code);
        let human = mapctl(&ws, &["check", mapping.as_str()]);
        human.assert_exit(&[2]);
        assert!(human.stderr.contains(code), "{}", tail(&human.stderr));
        assert_apply_refused(&ws, &mapping, code);
    }
}

/// A schema folder shared by several mappings (issue 22): inside a git repository, a mapping may
/// name `../common/deal.schema.json` and that schema may `$ref` a file in another folder of the
/// repository; a path out of the repository is still M607 and never read, and outside any
/// repository the mapping's own folder stays the limit.
#[test]
fn a_shared_schema_folder_inside_the_repository_is_allowed_and_nothing_outside_it() {
    let (_dir, ws) = workspace();
    for folder in ["common", "defs", "mappings"] {
        std::fs::create_dir_all(ws.join(folder)).expect("mkdir");
    }
    std::fs::write(
        ws.join("defs/name.schema.json"),
        r#"{"type": "string", "maxLength": 200}"#,
    )
    .expect("write defs");
    let text = std::fs::read_to_string(ws.join("schemas/deal.schema.json")).expect("deal schema");
    let mut deal: Value = serde_json::from_str(&text).expect("JSON");
    *dealname(&mut deal) = serde_json::json!({"$ref": "../defs/name.schema.json"});
    std::fs::write(ws.join("common/deal.schema.json"), deal.to_string()).expect("write deal");
    std::fs::copy(
        ws.join("schemas/project.schema.json"),
        ws.join("common/project.schema.json"),
    )
    .expect("copy project");
    let shared = reference_text().replace("\"schemas/", "\"../common/");
    std::fs::write(ws.join("mappings/shared.map"), &shared).expect("write mapping");
    let escaping = shared.replacen("\"../common/deal", "\"../../outside/deal", 1);
    std::fs::write(ws.join("mappings/escaping.map"), escaping).expect("write mapping");

    // Outside a repository: the mapping's folder is the limit, as before.
    let (run, diagnostics) = check_json(&ws, "mappings/shared.map", &[]);
    run.assert_exit(&[2]);
    find_code(&diagnostics, "M607");

    std::fs::create_dir_all(ws.join(".git")).expect("mark the repository");
    let (run, diagnostics) = check_json(&ws, "mappings/shared.map", &[]);
    run.assert_exit(&[0]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let input = deals("template.ndjson");
    let a = apply_with(&ws.join("mappings/shared.map"), &[&input], &[]);
    assert_laws(&a, 1);
    assert_eq!(a.records.len(), 1, "{}", tail(&a.run.stderr));

    let (run, diagnostics) = check_json(&ws, "mappings/escaping.map", &[]);
    run.assert_exit(&[2]);
    let d = find_code(&diagnostics, "M607");
    assert_message_contains(d, "outside the repository");
    assert!(!run.stdout_text().contains("SECRET-OUTSIDE"));
}
