//! Guarantees that are properties of the build rather than of a run (docs/guarantees.md).
//!
//! "No network" for the offline commands: the HTTP, TLS and async crates are named only in
//! `src/net/` (the runtime's one HTTP module); the code `check`, `apply`, `test`, `fmt` and `lsp`
//! can reach never names `net`, nor the runtime modules built on it; and, where `strace` is
//! installed, running those commands opens no network socket.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// Crates that speak HTTP, TLS or async I/O: only `src/net/` may name them.
const NETWORK_CRATES: [&str; 8] = [
    "hyper",
    "hyper_util",
    "hyper_rustls",
    "http_body_util",
    "tokio",
    "tokio_rustls",
    "rustls",
    "webpki_roots",
];

/// Modules that lead to the network: `net` and the runtime built on it.
const NETWORK_MODULES: [&str; 4] = ["net", "connect", "deliver", "ledger"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments (line comments and doc comments), so that prose may
/// mention a crate.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("readable source file");
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `code` names `name` as a path start (`name::`), outside a longer identifier.
fn names_path(code: &str, name: &str) -> bool {
    let pattern = format!("{name}::");
    code.match_indices(&pattern).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

#[test]
fn only_src_net_names_the_http_tls_and_async_crates() {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let net = Path::new(SRC).join("net");
    let mut offenders = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&net)) {
        let code = code_of(file);
        for name in NETWORK_CRATES {
            if names_path(&code, name) || code.contains(&format!("extern crate {name}")) {
                offenders.push(format!("{} names `{name}`", file.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
    // The net module itself really is where they are (so this test is not vacuous).
    assert!(names_path(&code_of(&net.join("client.rs")), "hyper"));
}

#[test]
fn no_openssl_aws_lc_or_second_http_stack_is_in_the_build() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
        .expect("Cargo.lock");
    let forbidden = [
        "openssl",
        "openssl-sys",
        "native-tls",
        "aws-lc-rs",
        "aws-lc-sys",
        "reqwest",
        "ureq",
        "curl",
        "isahc",
        "attohttpc",
        "h2",
        "rustls-native-certs",
    ];
    let names: Vec<&str> = lock
        .lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .map(|name| name.trim_end_matches('"'))
        .collect();
    let found: Vec<&&str> = names.iter().filter(|n| forbidden.contains(n)).collect();
    assert!(
        found.is_empty(),
        "forbidden crates in Cargo.lock: {found:?}"
    );
    assert!(names.contains(&"rustls") && names.contains(&"ring"));
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("Cargo.toml");
    let jsonschema = manifest
        .lines()
        .find(|l| l.starts_with("jsonschema"))
        .expect("jsonschema dependency");
    assert!(
        jsonschema.contains("default-features = false"),
        "{jsonschema}"
    );
}

/// The top-level modules (or, within `cli/`, the sibling files) a file refers to.
fn references(file: &Path) -> Vec<PathBuf> {
    let code = code_of(file);
    let mut found = Vec::new();
    let src = Path::new(SRC);
    for (i, _) in code.match_indices("crate::") {
        let name: String = code[i + 7..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let dir = src.join(&name);
        let single = src.join(format!("{name}.rs"));
        if dir.is_dir() {
            found.push(dir);
        } else if single.is_file() {
            found.push(single);
        }
    }
    let in_cli = file.parent() == Some(&src.join("cli"));
    if in_cli {
        for (i, _) in code.match_indices("super::") {
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let sibling = src.join("cli").join(format!("{name}.rs"));
            if sibling.is_file() {
                found.push(sibling);
            }
        }
    }
    found
}

/// Every file reachable from `start` through `crate::` (and, in `cli/`, `super::`) references,
/// a folder standing for all its files.
fn reachable(start: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut queue: VecDeque<PathBuf> = start.iter().cloned().collect();
    while let Some(next) = queue.pop_front() {
        if !seen.insert(next.clone()) {
            continue;
        }
        let files = if next.is_dir() {
            let mut files = Vec::new();
            rust_files(&next, &mut files);
            files
        } else {
            vec![next]
        };
        for file in files {
            for reference in references(&file) {
                if !seen.contains(&reference) {
                    queue.push_back(reference);
                }
            }
        }
    }
    seen
}

#[test]
fn the_offline_commands_never_reach_the_network_modules() {
    let src = Path::new(SRC);
    let start: Vec<PathBuf> = [
        "cli/check.rs",
        "cli/apply.rs",
        "cli/test.rs",
        "cli/fmt.rs",
        "lsp",
    ]
    .iter()
    .map(|p| src.join(p))
    .collect();
    let reached = reachable(&start);
    let bad: Vec<&PathBuf> = reached
        .iter()
        .filter(|p| {
            NETWORK_MODULES.iter().any(|m| p.starts_with(src.join(m)))
                || p.starts_with(src.join("cli/run.rs"))
                || p.starts_with(src.join("cli/serve.rs"))
        })
        .collect();
    assert!(bad.is_empty(), "offline commands reach {bad:#?}");
    // Not vacuous: the closure does reach the engine, and `run` does reach the network.
    assert!(reached.contains(&src.join("engine")), "{reached:#?}");
    let run = reachable(&[src.join("cli/run.rs")]);
    assert!(run.contains(&src.join("net")), "{run:#?}");
    // The dispatcher's shared items (exit codes, formats, output) use no network module either.
    let dispatcher = code_of(&src.join("cli/mod.rs"));
    for module in NETWORK_MODULES {
        assert!(
            !names_path(&dispatcher, &format!("crate::{module}")),
            "cli/mod.rs uses {module}"
        );
    }
}

/// Where strace is installed: `check`, `apply`, `test`, `fmt` and `lsp` run on the shipped
/// mappings open no IPv4 or IPv6 socket and connect nowhere.
#[test]
fn the_offline_commands_open_no_network_socket_when_run() {
    let strace = ["/usr/bin/strace", "/bin/strace"]
        .into_iter()
        .find(|p| Path::new(p).is_file());
    let Some(strace) = strace else {
        eprintln!("strace is not installed: the run-time half of the no-network test is skipped");
        return;
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let initialize =
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
    let shutdown = r#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#;
    let exit = r#"{"jsonrpc":"2.0","method":"exit"}"#;
    let framed: String = [initialize, shutdown, exit]
        .iter()
        .map(|m| format!("Content-Length: {}\r\n\r\n{m}", m.len()))
        .collect();
    let commands: Vec<(Vec<&str>, Option<&str>)> = vec![
        (vec!["check", "mappings"], None),
        (
            vec![
                "apply",
                "mappings/hubspot_to_accelo.map",
                "--clients",
                "mappings/samples/hubspot/accelo_companies.json",
                "mappings/samples/hubspot/deal_won.json",
            ],
            None,
        ),
        (vec!["test", "mappings"], None),
        (vec!["fmt", "--check", "mappings"], None),
        (vec!["lsp"], Some(framed.as_str())),
    ];
    let dir = tempfile::tempdir().unwrap();
    // The control: a command that does connect (to a closed loopback port) shows in the trace.
    let ledger = dir.path().join("ledger.db").display().to_string();
    let control = vec![
        "run",
        "tests/runtime/handoff.map",
        "--from",
        "tests/runtime/deals.ndjson",
        "--to",
        "http://127.0.0.1:1/projects",
        "--max-attempts",
        "1",
        "--ledger",
        ledger.as_str(),
    ];
    let mut commands = commands;
    commands.push((control, None));
    let last = commands.len() - 1;
    for (n, (args, stdin)) in commands.into_iter().enumerate() {
        let trace = dir.path().join("trace");
        let mut child = std::process::Command::new(strace)
            .args(["-f", "-qq", "-e", "trace=socket,connect", "-o"])
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_mapctl"))
            .args(&args)
            .current_dir(root)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("strace runs");
        {
            use std::io::Write;
            let mut input = child.stdin.take().expect("stdin");
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).expect("write stdin");
            }
        }
        let status = child.wait().expect("strace ends");
        assert!(status.code().is_some(), "{args:?} did not end normally");
        let log = std::fs::read_to_string(&trace).unwrap_or_default();
        let network: Vec<&str> = log.lines().filter(|l| l.contains("AF_INET")).collect();
        if n == last {
            assert!(
                !network.is_empty(),
                "the control run shows no socket: {log}"
            );
        } else {
            assert!(
                network.is_empty(),
                "{args:?} touched the network: {network:#?}"
            );
        }
    }
}
