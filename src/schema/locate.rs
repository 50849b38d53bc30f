//! Finding where a JSON pointer is written in a schema file, so that diagnostics can point into
//! the schema (the `required` entry, the property, the `$ref`).
//!
//! JSON files are scanned exactly, without recursion. YAML files are searched by indentation, a
//! close approximation that is only used for labels.

/// The byte span of the value (or, for object members, the key) at `pointer` in a JSON text.
pub fn json(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let segments = pointer_segments(pointer);
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    let mut key_span = None;
    for segment in &segments {
        match bytes.get(pos)? {
            b'{' => {
                let (key, value_start) = find_member(bytes, pos, segment)?;
                key_span = Some(key);
                pos = value_start;
            }
            b'[' => {
                let index: usize = segment.parse().ok()?;
                pos = find_element(bytes, pos, index)?;
                key_span = None;
            }
            _ => return None,
        }
    }
    match key_span {
        Some(key) => Some(key),
        None => Some((pos, skip_value(bytes, pos)?)),
    }
}

/// Decodes a JSON pointer (`/a/b~1c`) into its segments; a leading `#` is ignored.
pub fn pointer_segments(pointer: &str) -> Vec<String> {
    let pointer = pointer.strip_prefix('#').unwrap_or(pointer);
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Encodes one segment for a JSON pointer.
pub fn escape_segment(segment: &str) -> String {
    if segment.contains(['~', '/']) {
        segment.replace('~', "~0").replace('/', "~1")
    } else {
        segment.to_string()
    }
}

/// The value at `pointer` (RFC 6901, as `serde_json::Value::pointer`) without building a string
/// per segment: schemas are looked up this way once per subschema when they are compiled.
pub fn value_at<'v>(root: &'v serde_json::Value, pointer: &str) -> Option<&'v serde_json::Value> {
    use serde_json::Value;
    if pointer.is_empty() {
        return Some(root);
    }
    let mut value = root;
    for raw in pointer.strip_prefix('/')?.split('/') {
        let segment: std::borrow::Cow<'_, str> = if raw.contains('~') {
            raw.replace("~1", "/").replace("~0", "~").into()
        } else {
            raw.into()
        };
        value = match value {
            Value::Object(map) => crate::value::member(map, &segment)?,
            Value::Array(items) => items.get(array_index(&segment)?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// An array index segment: decimal digits without a sign or leading zeros.
fn array_index(segment: &str) -> Option<usize> {
    let canonical = !segment.starts_with('+') && (segment == "0" || !segment.starts_with('0'));
    canonical.then(|| segment.parse().ok()).flatten()
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\r' | b'\n') {
        pos += 1;
    }
    pos
}

/// In the object starting at `pos`, the span of the key `name` and the start of its value.
fn find_member(bytes: &[u8], pos: usize, name: &str) -> Option<((usize, usize), usize)> {
    let mut pos = skip_ws(bytes, pos + 1);
    while *bytes.get(pos)? == b'"' {
        let key_end = skip_string(bytes, pos)?;
        let key: String = serde_json::from_slice(&bytes[pos..key_end]).ok()?;
        pos = skip_ws(bytes, key_end);
        if *bytes.get(pos)? != b':' {
            return None;
        }
        let value_start = skip_ws(bytes, pos + 1);
        if key == name {
            return Some((
                (pos_of_key(key_end, &bytes[..key_end]), key_end),
                value_start,
            ));
        }
        pos = skip_ws(bytes, skip_value(bytes, value_start)?);
        if *bytes.get(pos)? == b',' {
            pos = skip_ws(bytes, pos + 1);
        }
    }
    None
}

/// The start of the string literal that ends at `end`.
fn pos_of_key(end: usize, bytes: &[u8]) -> usize {
    let mut i = end - 1;
    loop {
        if i == 0 {
            return 0;
        }
        i -= 1;
        if bytes[i] == b'"' && (i == 0 || bytes[i - 1] != b'\\') {
            return i;
        }
    }
}

fn find_element(bytes: &[u8], pos: usize, index: usize) -> Option<usize> {
    let mut pos = skip_ws(bytes, pos + 1);
    for _ in 0..index {
        pos = skip_ws(bytes, skip_value(bytes, pos)?);
        if *bytes.get(pos)? != b',' {
            return None;
        }
        pos = skip_ws(bytes, pos + 1);
    }
    (*bytes.get(pos)? != b']').then_some(pos)
}

fn skip_string(bytes: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end of the JSON value starting at `pos`, found without recursion.
fn skip_value(bytes: &[u8], pos: usize) -> Option<usize> {
    match bytes.get(pos)? {
        b'"' => skip_string(bytes, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = pos;
            while i < bytes.len()
                && !matches!(bytes[i], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                i += 1;
            }
            Some(i)
        }
    }
}

/// The span of the key at `pointer` in a YAML text, found by indentation (approximate).
pub fn yaml(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let mut found = None;
    let mut search_from = 0usize;
    let mut parent_indent: isize = -1;
    for segment in pointer_segments(pointer) {
        let (start, end, indent) = find_yaml_key(text, search_from, parent_indent, &segment)?;
        found = Some((start, end));
        search_from = end;
        parent_indent = indent as isize;
    }
    found
}

fn find_yaml_key(
    text: &str,
    from: usize,
    parent_indent: isize,
    key: &str,
) -> Option<(usize, usize, usize)> {
    let mut line_start = text[from..].find('\n').map_or(text.len(), |i| from + i + 1);
    if from == 0 {
        line_start = 0;
    }
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line = &text[line_start..line_end];
        let content = line.trim_start_matches([' ', '-']);
        let indent = line.len() - content.len();
        if !content.is_empty() && !content.starts_with('#') {
            if (indent as isize) <= parent_indent {
                return None;
            }
            for candidate in [key.to_string(), format!("\"{key}\""), format!("'{key}'")] {
                if content.starts_with(&candidate)
                    && content[candidate.len()..].trim_start().starts_with(':')
                {
                    let start = line_start + indent;
                    return Some((start, start + candidate.len(), indent));
                }
            }
        }
        line_start = line_end + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn value_at_agrees_with_serde_json_pointer() {
        let doc = serde_json::json!({"a": {"b~c": 1, "d/e": [10, {"f": "x"}], "": 2, "01": 3}});
        for pointer in [
            "",
            "/",
            "/a",
            "/a/b~0c",
            "/a/d~1e/1/f",
            "/a/d~1e/01",
            "/a/d~1e/+1",
            "/a/d~1e/0",
            "/a/",
            "/a/01",
            "a",
            "/a/d~1e/2",
            "/a/b~0c/x",
            "/a/~2",
        ] {
            assert_eq!(value_at(&doc, pointer), doc.pointer(pointer), "{pointer:?}");
        }
    }

    proptest! {
        #[test]
        fn value_at_agrees_with_serde_json_on_any_pointer(pointer in "(/[a-c~01/+]{0,3}){0,4}") {
            let doc = serde_json::json!({"a": [{"b": 1}, 2], "~": {"/": [3]}, "0": {"1": 4}, "": {"": 5}});
            prop_assert_eq!(value_at(&doc, &pointer), doc.pointer(&pointer));
        }
    }

    #[test]
    fn finds_keys_and_elements_in_json() {
        let text = r#"{"a": {"b~c": 1, "d/e": [10, {"f": "x"}]}, "required": ["p", "q"]}"#;
        let (s, e) = json(text, "/a/b~0c").unwrap();
        assert_eq!(&text[s..e], "\"b~c\"");
        let (s, e) = json(text, "/a/d~1e/1/f").unwrap();
        assert_eq!(&text[s..e], "\"f\"");
        let (s, e) = json(text, "/required/1").unwrap();
        assert_eq!(&text[s..e], "\"q\"");
        assert!(json(text, "/a/zz").is_none());
    }

    #[test]
    fn finds_keys_in_yaml_by_indentation() {
        let text =
            "type: object\nproperties:\n  name:\n    type: string\n  budget:\n    type: number\n";
        let (s, e) = yaml(text, "/properties/budget").unwrap();
        assert_eq!(&text[s..e], "budget");
    }
}
