//! A mapping with thousands of problems (issue 23, item 2): `check` shows a budget of them, says
//! how many it left out, and counts them all exactly in every format. Included from
//! `tests/hostile.rs`, whose helpers it uses.

use super::*;

/// `reference.map` with its title assignment written `copies` times (M302 for all but one).
fn duplicate_targets(ws: &Path, copies: usize) -> String {
    let line = "  project.title        = deal.properties.dealname ?? null\n";
    variant(ws, "duplicates.map", line, &line.repeat(copies));
    "duplicates.map".to_string()
}

#[test]
fn eight_thousand_duplicate_targets_show_the_budget_and_count_the_rest() {
    let (_dir, ws) = workspace();
    let mapping = duplicate_targets(&ws, 8000);
    let human = check_human(&ws, &mapping);
    human.assert_exit(&[1]);
    assert_eq!(
        human.stderr.matches("M302").count(),
        100,
        "{}",
        tail(&human.stderr)
    );
    assert!(
        human
            .stderr
            .contains("... and 7899 more (7899 errors, 0 warnings) not shown"),
        "{}",
        tail(&human.stderr)
    );
    assert!(
        human.stderr.contains("7999 errors, 0 warnings in 1 file"),
        "{}",
        tail(&human.stderr)
    );
    assert!(human.stderr.len() < 200_000, "{} bytes", human.stderr.len());

    let run = mapctl(&ws, &["check", "--format", "json", &mapping]);
    run.assert_exit(&[1]);
    let doc: Value = serde_json::from_slice(&run.stdout).expect("json");
    assert_eq!(doc["diagnostics"].as_array().map(Vec::len), Some(100));
    let summary = &doc["summary"];
    assert_eq!(summary["errors"], 7999, "{summary}");
    assert_eq!(summary["shown"], 100, "{summary}");
    assert_eq!(summary["omitted"], 7899, "{summary}");
    assert_eq!(summary["omitted_errors"], 7899, "{summary}");

    let run = mapctl(&ws, &["check", "--format", "sarif", &mapping]);
    run.assert_exit(&[1]);
    let doc: Value = serde_json::from_slice(&run.stdout).expect("sarif");
    let sarif_run = &doc["runs"][0];
    assert_eq!(sarif_run["results"].as_array().map(Vec::len), Some(100));
    assert_eq!(sarif_run["properties"]["errors"], 7999);
    assert_eq!(sarif_run["properties"]["omittedResults"], 7899);
    let notes = sarif_run["invocations"][0]["toolExecutionNotifications"].to_string();
    assert!(notes.contains("7899 more"), "{notes}");

    let run = mapctl(&ws, &["check", "--format", "github", &mapping]);
    run.assert_exit(&[1]);
    let text = run.stdout_text();
    assert_eq!(text.matches("::error ").count(), 100, "{}", tail(&text));
    assert!(
        text.contains("::notice") && text.contains("7899 more"),
        "{}",
        tail(&text)
    );
}

#[test]
fn max_diagnostics_sets_the_budget_and_zero_shows_all() {
    let (_dir, ws) = workspace();
    let mapping = duplicate_targets(&ws, 300);
    let (run, diagnostics) = check_json(&ws, &mapping, &["--max-diagnostics", "7"]);
    run.assert_exit(&[1]);
    assert_eq!(diagnostics.len(), 7);
    let (run, diagnostics) = check_json(&ws, &mapping, &["--max-diagnostics", "0"]);
    run.assert_exit(&[1]);
    assert_eq!(diagnostics.len(), 299);
    let doc: Value = serde_json::from_slice(&run.stdout).expect("json");
    assert_eq!(doc["summary"]["omitted"], 0);
}

#[test]
fn a_select_of_4000_branches_and_a_4000_line_block_are_checked_and_formatted() {
    // Speed is measured by `benches/hostile.rs`; this holds the results.
    let (_dir, ws) = workspace();
    let branches: String = (0..4000)
        .map(|k| format!("  when deal.properties.dealname == \"name {k}\" => \"enterprise\"\n"))
        .collect();
    let repeated = "  when deal.properties.dealname == \"name 17\" => \"enterprise\"\n";
    let first = "select project.template {\n";
    variant(
        &ws,
        "select.map",
        first,
        &format!("{first}{branches}{repeated}"),
    );
    let (run, diagnostics) = check_json(&ws, "select.map", &[]);
    run.assert_exit(&[0]);
    let d = find_code(&diagnostics, "M309");
    assert_eq!(codes_of(&diagnostics), ["M309"], "{diagnostics:?}");
    let text = std::fs::read_to_string(ws.join("select.map")).expect("read");
    let (line, _) = line_col(&text, text.rfind(repeated).expect("repeated") + 7);
    assert_eq!(d["line"].as_u64(), Some(line), "{d}");
    let run = mapctl(&ws, &["fmt", "--check", "select.map"]);
    run.assert_exit(&[0, 1]);
    let run = mapctl(&ws, &["fmt", "select.map"]);
    run.assert_exit(&[0]);
    let (run, _) = check_json(&ws, "select.map", &[]);
    run.assert_exit(&[0]);
}

#[test]
fn an_unterminated_string_does_not_hide_a_bad_escape_later_in_the_item() {
    let (_dir, ws) = workspace();
    let title = "  project.title        = deal.properties.dealname ?? null\n";
    variant(
        &ws,
        "escapes.map",
        title,
        "  project.title        = deal.properties.dealname ?? \"unterminated\n  project.title_note = \"bad \\q escape\"\n",
    );
    let (run, diagnostics) = check_json(&ws, "escapes.map", &[]);
    run.assert_exit(&[1]);
    let text = std::fs::read_to_string(ws.join("escapes.map")).expect("read");
    let unclosed = find_code(&diagnostics, "M101");
    let (line, _) = line_col(&text, text.find("\"unterminated").expect("string"));
    assert_eq!(unclosed["line"].as_u64(), Some(line), "{unclosed}");
    let escape = find_code(&diagnostics, "M102");
    let (line, column) = line_col(&text, text.find("\\q").expect("escape"));
    assert_place(escape, "escapes.map", line, Some(column));
}

/// "One syntax error per item hides the rest": three broken statements of one `map` block (an
/// unclosed string, a stray `)`, a stray token) and a bad escape after them are all reported
/// in one run, each on its own line, and nothing else is.
#[test]
fn every_broken_statement_of_one_block_is_reported_in_one_run() {
    let (_dir, ws) = workspace();
    let block = "map {\n  project.client.name  = \"Acme\n  project.title        = deal.properties.dealname | trim)\n  project.budget       = deal.properties.amount | number @\n  project.start_date   = \"2026\\q\"\n  project.billing_type = deal.properties.dealtype | lookup(billing) ?? \"time_and_materials\"\n}\n";
    let text = reference_text();
    let start = text.find("map {\n").expect("first map block");
    let end = start + text[start..].find("}\n").expect("block end") + 2;
    std::fs::write(
        ws.join("broken_block.map"),
        format!("{}{block}{}", &text[..start], &text[end..]),
    )
    .expect("write mapping");
    let (run, diagnostics) = check_json(&ws, "broken_block.map", &[]);
    run.assert_exit(&[1]);
    let found: Vec<(String, u64)> = diagnostics
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let first = text[..start].lines().count() as u64 + 2;
    let expected: Vec<(String, u64)> = [
        ("M101", first),
        ("M101", first + 1),
        ("M101", first + 2),
        ("M102", first + 3),
    ]
    .iter()
    .map(|(code, line)| (code.to_string(), *line))
    .collect();
    assert_eq!(found, expected, "{diagnostics:?}");
}
