//! Documentation stays true: the transform reference in `docs/language.md` is generated from the
//! transform declarations (re-bless with `MAPCTL_BLESS=1`).

const START: &str = "<!-- transforms:start -->\n";
const END: &str = "<!-- transforms:end -->";

#[test]
fn language_reference_lists_every_transform_as_declared() {
    let path = "docs/language.md";
    let text = std::fs::read_to_string(path).expect("docs/language.md");
    let start = text.find(START).expect("start marker") + START.len();
    let end = text.find(END).expect("end marker");
    let generated = mapctl::transforms::registry::markdown();
    if std::env::var_os("MAPCTL_BLESS").is_some() {
        let updated = format!("{}{generated}{}", &text[..start], &text[end..]);
        std::fs::write(path, updated).expect("write docs/language.md");
        return;
    }
    assert_eq!(
        &text[start..end],
        generated,
        "docs/language.md's transform section is out of date: run MAPCTL_BLESS=1 cargo test --test docs"
    );
}

/// Runs every command shown in the README and the docs, in a scratch copy of `mappings/`, with
/// `mapctl` on the PATH. Fenced blocks tagged `file=PATH` (or `append=PATH`) are written first, in
/// document order; `sh` blocks are run line by line, each expected to exit 0 unless the line ends
/// with `# exit: N`. `cargo run ... --` is replaced by `mapctl`; `cargo install` and `cargo test`
/// are not re-run (the test suite is what runs this, with mapctl already built).
#[test]
fn commands_in_readme_and_docs_work_as_shown() {
    let mut failures = Vec::new();
    for doc in [
        "README.md",
        "docs/tutorial.md",
        "docs/cli.md",
        "docs/language.md",
        "docs/runtime.md",
        "docs/schemas.md",
    ] {
        failures.extend(run_doc(doc));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn run_doc(doc: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(doc)).expect("doc");
    let work = tempfile::tempdir().expect("temp dir");
    copy_dir(&root.join("mappings"), &work.path().join("mappings"));
    let bin = work.path().join(".bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::fs::copy(env!("CARGO_BIN_EXE_mapctl"), bin.join("mapctl")).expect("copy mapctl");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    for (info, body) in fenced_blocks(&text) {
        if let Some(file) = attribute(&info, "file=") {
            std::fs::create_dir_all(work.path().join(&file).parent().expect("parent"))
                .expect("mkdir");
            std::fs::write(work.path().join(&file), &body).expect("write doc file");
        } else if let Some(file) = attribute(&info, "append=") {
            let previous = std::fs::read_to_string(work.path().join(&file)).unwrap_or_default();
            std::fs::write(work.path().join(&file), previous + &body).expect("append doc file");
        } else if info.trim() == "sh" {
            for (command, expected) in commands(&body) {
                let output = std::process::Command::new("sh")
                    .args(["-c", &command])
                    .current_dir(work.path())
                    .env("PATH", &path)
                    .env("NO_COLOR", "1")
                    .env("MAPCTL_CACHE_DIR", "")
                    .output()
                    .expect("sh runs");
                let code = output.status.code().unwrap_or(-1);
                if code != expected {
                    failures.push(format!(
                        "{doc}: `{command}` exited {code}, expected {expected}\n{}{}",
                        String::from_utf8_lossy(&output.stdout),
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
            }
        }
    }
    failures
}

/// `(info string, body)` of every fenced code block.
fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut body = String::new();
        for inner in lines.by_ref() {
            if inner.starts_with("```") {
                break;
            }
            body.push_str(inner);
            body.push('\n');
        }
        blocks.push((info.to_string(), body));
    }
    blocks
}

fn attribute(info: &str, key: &str) -> Option<String> {
    info.split_whitespace()
        .find_map(|word| word.strip_prefix(key).map(str::to_string))
}

/// The runnable commands of an `sh` block, with their expected exit codes.
fn commands(body: &str) -> Vec<(String, i32)> {
    let joined = body.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.starts_with("cargo install") && !l.starts_with("cargo test"))
        .map(|line| {
            let (command, expected) = match line.split_once("# exit:") {
                Some((command, code)) => (command.trim(), code.trim().parse().unwrap_or(0)),
                None => (line, 0),
            };
            let command = command
                .replace("cargo run --release --locked --", "mapctl")
                .replace("cargo run --locked --", "mapctl");
            (command, expected)
        })
        .collect()
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// The VS Code extension's grammar snapshots are taken of the shipped mappings as they are
/// (`npm run test:fresh` in CI fails otherwise, long after `cargo test` passed): a shipped
/// mapping edited without `npm run snap:update` in `editors/vscode` fails here first.
#[test]
fn the_extension_snapshots_copy_the_shipped_mappings() {
    let snaps = std::path::Path::new("editors/vscode/test/snap");
    for entry in std::fs::read_dir("mappings").expect("mappings/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "map") {
            continue;
        }
        let name = path.file_name().expect("name");
        let shipped = std::fs::read(&path).expect("shipped mapping");
        let copy = std::fs::read(snaps.join(name)).unwrap_or_default();
        assert!(
            shipped == copy,
            "editors/vscode/test/snap/{} is stale: run `npm run snap:update` in editors/vscode",
            name.to_string_lossy()
        );
    }
}
