//! Deeply nested YAML and JSON inputs other than schemas (issue 23, item 3): tables and tests
//! files are refused before a parser recurses into them, with the schemas' code (M609).
//! Included from `tests/hostile.rs`, whose helpers it uses.

use super::*;

const DEEP: usize = 100_000;

/// YAML nested `DEEP` levels in flow style (`a: [[[...]]]`).
fn deep_flow_yaml(key: &str) -> String {
    format!("{key}: {}1{}\n", "[".repeat(DEEP), "]".repeat(DEEP))
}

/// YAML nested `DEEP` levels in compact block style (`a:\n  - - - ... x`).
fn deep_block_yaml(key: &str) -> String {
    format!("{key}:\n  {}x\n", "- ".repeat(DEEP))
}

#[test]
fn table_files_nested_100000_deep_are_m609_at_once() {
    for (name, text) in [
        ("deep_flow.yaml", deep_flow_yaml("newbusiness")),
        ("deep_block.yaml", deep_block_yaml("newbusiness")),
    ] {
        let (_dir, ws) = workspace();
        std::fs::write(ws.join(name), text).expect("write table");
        let mapping = variant(
            &ws,
            "deep_table.map",
            "table billing {",
            &format!("table billing = file \"{name}\"\ntable unused {{"),
        );
        let (run, diagnostics) = check_json(
            &ws,
            mapping.file_name().and_then(OsStr::to_str).unwrap_or(""),
            &[],
        );
        run.assert_exit(&[2]);
        let d = find_code(&diagnostics, "M609");
        assert!(d["file"].as_str().is_some_and(|f| f.ends_with(name)), "{d}");
        assert_message_contains(d, "128");
    }
}

#[test]
fn schema_yaml_nested_in_block_style_is_m609() {
    let (_dir, ws) = workspace();
    std::fs::write(
        ws.join("schemas/deal_block_deep.schema.yaml"),
        format!("type: object\nexamples:\n  {}x\n", "- ".repeat(DEEP)),
    )
    .expect("write schema");
    let mapping = with_deal_schema(&ws, "deal_block_deep.schema.yaml");
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    find_code(&diagnostics, "M609");
}

#[test]
fn tests_files_nested_100000_deep_are_refused_with_m609() {
    for text in [deep_flow_yaml("cases"), deep_block_yaml("cases")] {
        let (_dir, ws) = workspace();
        std::fs::write(
            ws.join("reference.tests.yaml"),
            format!("mapping: reference.map\n{text}"),
        )
        .expect("write tests file");
        let run = mapctl(&ws, &["test", "reference.tests.yaml"]);
        run.assert_exit(&[1, 2]);
        assert!(
            run.stderr.contains("M609") && run.stderr.contains("reference.tests.yaml"),
            "{}",
            tail(&run.stderr)
        );
    }
}
