//! Guarantees that are properties of the build rather than of a run (docs/guarantees.md).

/// No HTTP client, TLS stack or async runtime is compiled into mapctl: it cannot fetch anything.
#[test]
fn no_network_code_is_compiled_in() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
        .expect("Cargo.lock");
    let network = [
        "reqwest",
        "hyper",
        "rustls",
        "native-tls",
        "openssl",
        "ureq",
        "tokio",
        "curl",
        "h2",
        "isahc",
        "attohttpc",
    ];
    let found: Vec<&str> = lock
        .lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .map(|name| name.trim_end_matches('"'))
        .filter(|name| network.contains(name))
        .collect();
    assert!(found.is_empty(), "network crates in Cargo.lock: {found:?}");
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
