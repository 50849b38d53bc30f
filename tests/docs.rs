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
