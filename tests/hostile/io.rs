//! Hostile input, round two (issue 23 items 4-6, issue 22 item 5), through the real binary:
//! output files that name each other or an input, temporary files killed runs leave behind,
//! untrusted text on the terminal, and input detection that never splits a document (and vendor
//! envelopes read as their records).

use serde_json::json;

use super::*;

/// A batch of deals with one of each outcome: written, skipped (another stage), rejected.
fn mixed_batch(dir: &Path) -> PathBuf {
    let path = dir.join("deals.ndjson");
    let lines = [
        deal_line(1, |_| {}),
        deal_line(2, |d| d["properties"]["dealstage"] = "contractsent".into()),
        deal_line(3, |d| d["properties"]["amount"] = Value::Null),
    ];
    std::fs::write(&path, lines.join("\n") + "\n").expect("write deals");
    path
}

fn apply_in(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["apply".to_string(), reference_map().display().to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    mapctl(dir, &all)
}

/// The bytes a terminal would act on, or that change how text reads, and their names.
const RAW_HOSTILE: &[(char, &str)] = &[
    ('\u{1b}', "ESC"),
    ('\u{7}', "BEL"),
    ('\u{0}', "NUL"),
    ('\u{9b}', "CSI"),
    ('\u{202e}', "RLO"),
    ('\u{2066}', "LRI"),
    ('\u{200b}', "ZWSP"),
    ('\u{feff}', "BOM"),
];

/// Asserts that `text` holds none of [`RAW_HOSTILE`] and no carriage return outside a `\r\n`.
fn assert_terminal_safe(what: &str, text: &str) {
    for (c, name) in RAW_HOSTILE {
        assert!(
            !text.contains(*c),
            "{what}: a raw {name} reached the terminal:\n{text}"
        );
    }
    assert!(
        !text.replace("\r\n", "\n").contains('\r'),
        "{what}: a lone carriage return reached the terminal:\n{text}"
    );
}

// ------------------------------------------------------------------------------------------------
// Item 4: output files
// ------------------------------------------------------------------------------------------------

#[test]
fn out_and_rejects_naming_one_file_are_refused_and_the_old_file_is_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deals = mixed_batch(dir.path());
    let both = dir.path().join("both.ndjson");
    std::fs::write(&both, "{\"previous\": true}\n").expect("old file");
    let same = dir.path().join(".").join("both.ndjson");
    let (both_arg, same_arg) = (both.display().to_string(), same.display().to_string());
    let deals_arg = deals.display().to_string();
    for args in [
        vec![
            deals_arg.as_str(),
            "--out",
            &both_arg,
            "--rejects",
            &both_arg,
        ],
        vec![
            deals_arg.as_str(),
            "--out",
            &both_arg,
            "--rejects",
            &same_arg,
        ],
        vec![
            deals_arg.as_str(),
            "--rejects",
            &both_arg,
            "--log",
            &same_arg,
        ],
        vec![
            deals_arg.as_str(),
            "--out",
            "both.ndjson",
            "--log",
            &both_arg,
        ],
    ] {
        let run = apply_in(dir.path(), &args);
        run.assert_exit(&[2]);
        assert!(run.stderr.contains("M520"), "{}: {}", run.what, run.stderr);
        assert!(run.stderr.contains("same file"), "{}", run.stderr);
        assert_eq!(
            std::fs::read_to_string(&both).expect("kept"),
            "{\"previous\": true}\n",
            "{}: the old file was touched",
            run.what
        );
    }
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn an_output_naming_an_input_is_refused_also_through_links_and_stdin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deals = mixed_batch(dir.path());
    let before = std::fs::read(&deals).expect("deals");
    let linked = dir.path().join("linked.ndjson");
    std::fs::hard_link(&deals, &linked).expect("hard link");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&deals, dir.path().join("alias.ndjson")).expect("symlink");
    let clients = dir.path().join("clients.json");
    std::fs::write(&clients, "[]").expect("clients");
    for args in [
        vec!["deals.ndjson", "--out", "deals.ndjson"],
        vec!["deals.ndjson", "--rejects", "linked.ndjson"],
        vec!["deals.ndjson", "--log", "alias.ndjson"],
        vec![
            "deals.ndjson",
            "--clients",
            "clients.json",
            "--out",
            "clients.json",
        ],
    ] {
        let run = apply_in(dir.path(), &args);
        run.assert_exit(&[2]);
        assert!(
            run.stderr.contains("M520") && run.stderr.contains("replace what this run reads"),
            "{}: {}",
            run.what,
            run.stderr
        );
        assert_eq!(
            std::fs::read(&deals).expect("deals"),
            before,
            "{}",
            run.what
        );
    }
    let mapping = reference_map();
    let run = apply_in(
        dir.path(),
        &["deals.ndjson", "--out", &mapping.display().to_string()],
    );
    run.assert_exit(&[2]);
    assert!(run.stderr.contains("the mapping"), "{}", run.stderr);
    // Standard input redirected from the file the output names.
    let child = Command::new(BIN)
        .args([
            "apply",
            &mapping.display().to_string(),
            "--out",
            "deals.ndjson",
        ])
        .current_dir(dir.path())
        .stdin(std::fs::File::open(&deals).expect("stdin"))
        .output()
        .expect("run");
    assert_eq!(child.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&child.stderr).contains("M520"));
    assert_eq!(std::fs::read(&deals).expect("deals"), before);
    // Distinct outputs in the same folder are fine.
    let run = apply_in(
        dir.path(),
        &[
            "deals.ndjson",
            "--out",
            "out.ndjson",
            "--rejects",
            "rejects.ndjson",
            "--log",
            "runs.log",
        ],
    );
    run.assert_exit(&[1]);
    assert_eq!(
        parse_summary(&run.stderr),
        Some([3, 1, 1, 1]),
        "{}",
        run.stderr
    );
}

#[test]
fn temporary_files_of_killed_runs_are_removed_at_start_and_live_ones_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deals = mixed_batch(dir.path());
    // Process ids above the kernel's maximum (2^22) are never running.
    let dead = [
        ".out.ndjson.mapctl-999999901-0.tmp",
        ".rejects.ndjson.mapctl-999999902-3.tmp",
        ".runs.log.mapctl-999999903-0.spool",
        ".other.json.mapctl-999999904-1.tmp",
    ];
    let live = format!(".out.ndjson.mapctl-{}-0.tmp", std::process::id());
    let foreign = [
        ".out.ndjson.tmp",
        "notes.mapctl-999999905-0.tmp",
        ".x.mapctl-abc.tmp",
    ];
    for name in dead.iter().chain([&live.as_str()]).chain(foreign.iter()) {
        std::fs::write(dir.path().join(name), "partial line without an en").expect("plant");
    }
    // A leftover that is a symbolic link is never followed or removed.
    #[cfg(unix)]
    std::os::unix::fs::symlink(&deals, dir.path().join(".link.mapctl-999999906-0.tmp"))
        .expect("symlink");
    let run = apply_in(
        dir.path(),
        &[
            &deals.display().to_string(),
            "--out",
            "out.ndjson",
            "--rejects",
            "rejects.ndjson",
            "--log",
            "runs.log",
        ],
    );
    run.assert_exit(&[1]);
    for name in dead {
        assert!(!dir.path().join(name).exists(), "{name} was not removed");
    }
    assert!(
        dir.path().join(&live).exists(),
        "a live run's file was removed"
    );
    for name in foreign {
        assert!(
            dir.path().join(name).exists(),
            "{name} is not mapctl's and was removed"
        );
    }
    #[cfg(unix)]
    assert!(dir.path().join(".link.mapctl-999999906-0.tmp").is_symlink());
    assert!(std::fs::read_to_string(&deals).is_ok_and(|t| t.lines().count() == 3));
}

#[test]
fn a_killed_run_leaves_the_old_output_and_the_next_run_removes_its_temporary_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let big = dir.path().join("big.ndjson");
    let mut text = String::new();
    for n in 0..60_000 {
        text.push_str(&deal_line(n, |_| {}));
        text.push('\n');
    }
    std::fs::write(&big, text).expect("big batch");
    let out = dir.path().join("out.ndjson");
    std::fs::write(&out, "{\"previous\": true}\n").expect("old output");
    let mapping = reference_map().display().to_string();
    let temporaries = || -> Vec<PathBuf> {
        std::fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".tmp"))
            .collect()
    };
    let mut child = Command::new(BIN)
        .args(["apply", &mapping, "big.ndjson", "--out", "out.ndjson"])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let started = Instant::now();
    while temporaries().is_empty() && started.elapsed() < HANG_GUARD {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    assert_eq!(
        std::fs::read_to_string(&out).expect("old output"),
        "{\"previous\": true}\n"
    );
    let left = temporaries();
    assert_eq!(left.len(), 1, "the killed run's temporary file: {left:?}");
    let small = mixed_batch(dir.path());
    let run = apply_in(
        dir.path(),
        &[&small.display().to_string(), "--out", "out.ndjson"],
    );
    run.assert_exit(&[1]);
    assert!(temporaries().is_empty(), "left behind: {:?}", temporaries());
    assert_eq!(
        std::fs::read_to_string(&out).expect("new").lines().count(),
        1
    );
}

// ------------------------------------------------------------------------------------------------
// Item 5: untrusted text on the terminal
// ------------------------------------------------------------------------------------------------

#[test]
fn control_bidi_and_zero_width_characters_in_deals_are_escaped_on_the_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let evil_id = "\u{1b}]0;pwned\u{7}\u{202e}\u{9b}31m\rX";
    let lines = [
        deal_line(1, |d| d["id"] = evil_id.into()),
        deal_line(2, |d| {
            d["properties"]["dealstage"] = "closed\u{200b}won\u{0}\rX\u{2066}".into();
            d["properties"]["amount"] = Value::Null;
        }),
        deal_line(3, |d| {
            d["properties"]["amount"] = "\u{feff}12\u{1b}[2J".into()
        }),
    ];
    let input = dir.path().join("evil.ndjson");
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    // Without --rejects, every outcome is described on stderr.
    let run = apply_in(dir.path(), &["evil.ndjson"]);
    run.assert_exit(&[1]);
    assert_terminal_safe(&run.what, &run.stderr);
    assert!(
        run.stderr.contains("\\u{001B}]0;pwned\\u{0007}\\u{202E}"),
        "{}",
        run.stderr
    );
    // Values quoted as JSON in messages escape C0 controls JSON's way; the rest is escaped too.
    assert!(
        run.stderr.contains("\\u{009B}31m\\u{000D}X"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("closed\\u{200B}won"), "{}", run.stderr);
    assert!(run.stderr.contains("\\u{2066}"), "{}", run.stderr);
    // The rejects file is JSON: exact.
    let run = apply_in(dir.path(), &["evil.ndjson", "--rejects", "rejects.ndjson"]);
    run.assert_exit(&[1]);
    let rejects = std::fs::read_to_string(dir.path().join("rejects.ndjson")).expect("rejects");
    let first: Value = serde_json::from_str(rejects.lines().next().expect("a line")).expect("json");
    assert_eq!(first["deal_id"], evil_id);
}

#[test]
fn mapping_excerpts_show_hidden_characters_escaped_at_their_true_positions() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("schemas")).expect("schemas");
    for name in ["crm_deal.schema.json", "psa_project.schema.json"] {
        std::fs::copy(
            root().join("tests/check/schemas").join(name),
            dir.path().join("schemas").join(name),
        )
        .expect("copy schema");
    }
    let mapping = "mapping crm_to_psa\n\
        source deal    = schema \"schemas/crm_deal.schema.json\"\n\
        target project = schema \"schemas/psa_project.schema.json\"\n\
        trigger when deal.properties.dealstage == \"closed\u{202e}won\u{1b}]0;x\u{7}\"\n\
        # a comment with a lone \r carriage return and a NUL \u{0}\n";
    std::fs::write(dir.path().join("evil.map"), mapping).expect("mapping");
    let run = mapctl(dir.path(), &["check", "evil.map"]);
    run.assert_exit(&[1]);
    assert_terminal_safe(&run.what, &run.stderr);
    assert!(
        run.stderr
            .contains("closed\\u{202E}won\\u{001B}]0;x\\u{0007}"),
        "{}",
        run.stderr
    );
    // The heading's column is the character's place in the file (line 4, byte column 50).
    assert!(run.stderr.contains("[evil.map:4:50]"), "{}", run.stderr);
    let json = mapctl(dir.path(), &["check", "--format", "json", "evil.map"]);
    let doc: Value = serde_json::from_slice(&json.stdout).expect("json output");
    let messages: Vec<&str> = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains('\u{202e}')),
        "JSON keeps the text exact: {messages:?}"
    );
}

#[test]
fn monitor_and_plan_print_untrusted_names_escaped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let entry = json!({
        "ts": "2026-11-26T04:05:16.112Z", "mapping": "evil\u{1b}]0;title\u{7}\u{202e}",
        "mapping_sha256": "00", "run": "1-1", "deal_id": "1\u{200b}", "outcome": "written",
        "codes": [], "file": "deals.ndjson\u{9b}", "line": 1
    });
    std::fs::write(dir.path().join("runs.log"), format!("{entry}\n")).expect("log");
    let run = mapctl(
        dir.path(),
        &["monitor", "runs.log", "--now", "2026-11-27T00:00:00Z"],
    );
    run.assert_no_crash();
    let shown = run.stdout_text() + &run.stderr;
    assert_terminal_safe(&run.what, &shown);
    assert!(
        shown.contains("evil\\u{001B}]0;title\\u{0007}\\u{202E}"),
        "{shown}"
    );
    let json = mapctl(
        dir.path(),
        &[
            "monitor",
            "runs.log",
            "--now",
            "2026-11-27T00:00:00Z",
            "--format",
            "json",
        ],
    );
    assert!(
        json.stdout_text()
            .contains("\\u001b]0;title\\u0007\u{202e}"),
        "{}",
        json.stdout_text()
    );

    let shipped = root().join("mappings");
    let deal = std::fs::read_to_string(shipped.join("samples/zoho/deal_won.json")).expect("deal");
    let mut deal: Value = serde_json::from_str(&deal).expect("deal json");
    deal["Deal_Name"] = "Won \u{1b}[31mred\u{202e}".into();
    std::fs::write(dir.path().join("edited.json"), deal.to_string()).expect("edited");
    let plan = mapctl(
        dir.path(),
        &[
            "apply",
            "--plan",
            &shipped.join("zoho_to_custom.map").display().to_string(),
            "edited.json",
            "--existing",
            &shipped
                .join("samples/zoho/reconcile/projects.json")
                .display()
                .to_string(),
            "--clients",
            &shipped
                .join("samples/zoho/clients.json")
                .display()
                .to_string(),
        ],
    );
    plan.assert_no_crash();
    let shown = plan.stdout_text() + &plan.stderr;
    assert_terminal_safe(&plan.what, &shown);
    assert!(shown.contains("[31mred\\u{202E}"), "{shown}");
}

// ------------------------------------------------------------------------------------------------
// Item 6: input detection
// ------------------------------------------------------------------------------------------------

#[test]
fn a_pretty_printed_broken_document_is_one_deal_with_its_real_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut deal = template_deal();
    deal["properties"]["amount"] = "AMOUNT".into();
    let pretty = serde_json::to_string_pretty(&deal)
        .expect("pretty")
        .replace("\"AMOUNT\"", "1e999");
    let lines = pretty.lines().count();
    assert!(lines > 10, "the document spans many lines");
    let input = dir.path().join("pretty.json");
    std::fs::write(&input, format!("\n{pretty}\n")).expect("write");
    let a = apply(&input);
    a.run.assert_exit(&[1]);
    assert_eq!(a.summary(), [1, 0, 0, 1], "{}", a.run.stderr);
    let reject = &a.rejects[0];
    assert_eq!(codes(reject), ["M501"]);
    assert_eq!(position(reject), 2, "the document starts on line 2");
    let text = reasons_text(reject);
    let amount_line = pretty
        .lines()
        .position(|l| l.contains("1e999"))
        .expect("line")
        + 2;
    assert!(
        text.contains("number out of range") && text.contains(&format!("line {amount_line}")),
        "{text}"
    );
    // A syntax error in the middle of a pretty document: still one deal.
    let broken = serde_json::to_string_pretty(&template_deal())
        .expect("pretty")
        .replacen(",\n", "\n", 3);
    std::fs::write(&input, broken).expect("write");
    let a = apply(&input);
    assert_eq!(a.summary(), [1, 0, 0, 1], "{}", a.run.stderr);
    assert!(
        reasons_text(&a.rejects[0]).contains("expected"),
        "{}",
        a.rejects_text
    );
    // NDJSON whose first line is broken is still NDJSON: each line is a deal.
    let ndjson = format!(
        "{{\"id\":\n{}\n{}\n",
        deal_line(2, |_| {}),
        deal_line(3, |_| {})
    );
    std::fs::write(&input, ndjson).expect("write");
    let a = apply(&input);
    assert_eq!(a.summary()[0], 3, "{}", a.run.stderr);
}

#[test]
fn empty_and_whitespace_only_inputs_are_m521_and_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in [
        ("empty.ndjson", ""),
        ("blank.json", "\n  \n\t\r\n"),
        ("bom.json", "\u{feff}\n"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let run = apply_in(dir.path(), &[name, "--out", "out.ndjson"]);
        run.assert_exit(&[2]);
        assert!(
            run.stderr.contains("M521") && run.stderr.contains(name),
            "{}: {}",
            run.what,
            run.stderr
        );
        assert!(
            !dir.path().join("out.ndjson").exists(),
            "an output for an empty input"
        );
    }
    let run = Command::new(BIN)
        .args(["apply", &reference_map().display().to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("M521"));
    // An empty batch written as such is zero deals.
    std::fs::write(dir.path().join("none.json"), "[]\n").expect("write");
    let run = apply_in(dir.path(), &["none.json"]);
    run.assert_exit(&[0]);
    assert_eq!(parse_summary(&run.stderr), Some([0, 0, 0, 0]));
}

#[test]
fn vendor_pages_are_read_as_the_records_the_mapping_declares() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mapping = reference_text();
    let declaration = mapping
        .lines()
        .find(|l| l.starts_with("source deal"))
        .expect("the primary source")
        .to_string();
    let enveloped = mapping.replacen(&declaration, &format!("{declaration} in \"/results\""), 1);
    assert_ne!(enveloped, mapping, "the declaration was edited");
    std::fs::create_dir(dir.path().join("schemas")).expect("schemas");
    for entry in std::fs::read_dir(root().join("bench/schemas"))
        .expect("bench schemas")
        .flatten()
    {
        std::fs::copy(
            entry.path(),
            dir.path().join("schemas").join(entry.file_name()),
        )
        .expect("copy schema");
    }
    let map_path = dir.path().join("pages.map");
    std::fs::write(&map_path, &enveloped).expect("mapping");
    let page = |ids: &[u64]| {
        let deals: Vec<Value> = ids
            .iter()
            .map(|n| serde_json::from_str(&deal_line(*n, |_| {})).expect("deal"))
            .collect();
        json!({"results": deals, "paging": {"next": {"after": "x"}}})
    };
    let single = dir.path().join("page.json");
    std::fs::write(
        &single,
        serde_json::to_string_pretty(&page(&[1, 2, 3])).unwrap(),
    )
    .expect("page");
    let pages = dir.path().join("pages.ndjson");
    std::fs::write(
        &pages,
        format!(
            "{}\n{}\n{}\n",
            page(&[4]),
            json!({"message": "rate limited"}),
            page(&[5, 6])
        ),
    )
    .expect("pages");
    let a = apply_with(&map_path, &[&single], &[]);
    let b = apply_with(&map_path, &[&pages], &["--jobs", "2"]);
    let plain = apply_with(&reference_map(), &[&single], &[]);
    assert_eq!(a.summary(), [3, 3, 0, 0], "{}", a.run.stderr);
    assert_eq!(deal_ids(&a).len(), 3);
    assert_eq!(b.summary(), [4, 3, 0, 1], "{}", b.run.stderr);
    let missing = b.reject_at(2);
    assert_eq!(codes(missing), ["M522"], "{}", b.rejects_text);
    assert!(
        reasons_text(missing).contains("`/results`"),
        "{}",
        b.rejects_text
    );
    // `run --from FILE` reads the pages the same way.
    let run = mapctl(
        dir.path(),
        &[
            "run",
            &map_path.display().to_string(),
            "--from",
            &pages.display().to_string(),
            "--to",
            "delivered.ndjson",
            "--ledger",
            "ledger.db",
            "--no-log",
        ],
    );
    run.assert_no_crash();
    assert!(run.stderr.contains("M522"), "{}", run.stderr);
    let delivered =
        std::fs::read_to_string(dir.path().join("delivered.ndjson")).unwrap_or_default();
    assert_eq!(delivered.lines().count(), 3, "{}\n{delivered}", run.stderr);
    // Without the declaration, the page is one document that is not a deal.
    assert_eq!(plain.summary()[0], 1, "{}", plain.run.stderr);
    assert_eq!(plain.summary()[1], 0);
}
