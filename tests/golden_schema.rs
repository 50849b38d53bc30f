//! Golden tests for `mapctl schema import` and `mapctl schema diff`, through the binary: every
//! folder `tests/schema/import/<case>/` and `tests/schema/diff/<case>/` holds a `cmd` file (the
//! arguments, run with the case folder as working directory), its inputs, and the expected
//! `expected.out` (stdout) and `expected.err` (stderr and exit code). Import cases write their
//! schema to standard output (`-o -`).
//!
//! Also: the schemas shipped in `mappings/schemas/` are exactly what `schema import` makes of
//! the metadata samples committed in `mappings/samples/vendor-api/`.
//!
//! Re-bless with `MAPCTL_BLESS=1 cargo test --test golden_schema`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn cases(kind: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(Path::new("tests/schema").join(kind))
        .expect("tests/schema/<kind> exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("cmd").is_file())
        .collect();
    cases.sort();
    cases
}

/// Runs `mapctl ARGS` in `dir`; returns (stdout, stderr + exit line).
fn run(args: &[String], dir: &Path) -> (String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("MAPCTL_CACHE_DIR", "")
        .output()
        .expect("mapctl runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    stderr.push_str(&format!("exit: {}\n", output.status.code().unwrap_or(-1)));
    (stdout, stderr)
}

fn args_of(case: &Path) -> Vec<String> {
    let cmd = std::fs::read_to_string(case.join("cmd")).expect("cmd file");
    cmd.split_whitespace().map(str::to_string).collect()
}

/// Compares (or, when blessing, writes) `actual` with the file at `path`.
fn expect(path: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("MAPCTL_BLESS").is_some() {
        std::fs::write(path, actual).expect("write expectation");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "--- {} differs (re-bless with MAPCTL_BLESS=1)\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ));
    }
}

fn check_cases(kind: &str) {
    let mut failures = Vec::new();
    let found = cases(kind);
    assert!(!found.is_empty(), "no cases in tests/schema/{kind}");
    for case in found {
        let (stdout, stderr) = run(&args_of(&case), &case);
        expect(&case.join("expected.out"), &stdout, &mut failures);
        expect(&case.join("expected.err"), &stderr, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn import_cases_match_their_expected_output() {
    check_cases("import");
}

#[test]
fn diff_cases_match_their_expected_output() {
    check_cases("diff");
}

/// Importing the same responses twice gives the same bytes (the output of every successful
/// import case, imported again from the same files).
#[test]
fn imports_are_deterministic() {
    for case in cases("import") {
        let args = args_of(&case);
        let (first, status) = run(&args, &case);
        if !status.ends_with("exit: 0\n") {
            continue;
        }
        let (second, _) = run(&args, &case);
        assert_eq!(first, second, "{} differs between two runs", case.display());
        assert!(
            first.ends_with("}\n"),
            "{}: no final newline",
            case.display()
        );
    }
}

/// The schema files under `mappings/schemas/` and the `schema import` arguments that make them
/// from `mappings/samples/vendor-api/` (run in `mappings/`).
const SHIPPED: &[(&str, &str)] = &[
    (
        "schemas/hubspot/deal.schema.json",
        "hubspot --properties samples/vendor-api/hubspot/deal_properties.json --pipelines samples/vendor-api/hubspot/pipelines_deals.json",
    ),
    (
        "schemas/hubspot/company.schema.json",
        "hubspot --object companies --properties samples/vendor-api/hubspot/company_properties.json",
    ),
    (
        "schemas/zoho/deal.schema.json",
        "zoho --fields samples/vendor-api/zoho/fields_deals.json --layouts samples/vendor-api/zoho/layouts_deals.json --pipelines samples/vendor-api/zoho/pipelines_deals.json",
    ),
    (
        "schemas/copper/opportunity.schema.json",
        "copper --custom-fields samples/vendor-api/copper/custom_field_definitions.json --pipelines samples/vendor-api/copper/pipelines.json",
    ),
    (
        "schemas/accelo/job.schema.json",
        "accelo --base schemas/accelo/job.schema.json --job-types samples/vendor-api/accelo/job_types.json --statuses samples/vendor-api/accelo/job_statuses.json --staff samples/vendor-api/accelo/staff.json --profile-fields samples/vendor-api/accelo/job_profile_fields.json --companies samples/vendor-api/accelo/companies.json",
    ),
    (
        "schemas/harvest/project.schema.json",
        "harvest --clients samples/vendor-api/harvest/clients.json",
    ),
];

#[test]
fn shipped_schemas_are_imported_from_the_committed_samples() {
    let mappings = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let mut failures = Vec::new();
    for (file, import) in SHIPPED {
        let mut args: Vec<String> = vec!["schema".into(), "import".into()];
        args.extend(import.split_whitespace().map(str::to_string));
        args.extend(["-o".to_string(), "-".to_string()]);
        let (stdout, stderr) = run(&args, &mappings);
        assert!(stderr.ends_with("exit: 0\n"), "{file}: {stderr}");
        expect(&mappings.join(file), &stdout, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The imported schemas, annotations and all, compile to the fast validator (`apply` would
/// otherwise fall back to the general one for every deal).
#[test]
fn imported_schemas_compile_to_the_fast_validator() {
    for mapping in [
        "mappings/hubspot_to_accelo.map",
        "mappings/zoho_to_custom.map",
        "mappings/copper_to_harvest.map",
    ] {
        let mut sources = mapctl::source::SourceMap::new();
        let limits = mapctl::syntax::Limits::default();
        let checked = mapctl::check::check_file(&mut sources, Path::new(mapping), &limits)
            .unwrap_or_else(|e| panic!("{mapping}: {}", e.0));
        assert!(
            checked.diagnostics.is_empty(),
            "{mapping}: {:?}",
            checked.diagnostics
        );
        for record in &checked.records {
            let root = record.root.expect("the schema loaded");
            let compiled = mapctl::reader::Shapes::new().compile(&checked.schemas, root);
            assert!(
                compiled.is_some(),
                "{mapping}: `{}` falls back",
                record.name
            );
        }
    }
}
