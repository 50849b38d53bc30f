//! Text inserted into a mapping: names as path segments, values as string literals.

/// A name as a path segment: bare when it is an identifier, else quoted.
pub fn name_or_quoted(name: &str) -> String {
    if crate::syntax::ast::is_plain_name(name) {
        name.to_string()
    } else {
        string_literal(name)
    }
}

/// Text as a string literal: quotes, backslashes and braces escaped (a brace would open an
/// interpolation in a template).
pub fn string_literal(text: &str) -> String {
    format!("\"{}\"", escape_in_string(text))
}

/// Text to insert inside a string literal.
pub fn escape_in_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\\' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_names_and_values_stay_valid_syntax() {
        assert_eq!(name_or_quoted("dealname"), "dealname");
        assert_eq!(name_or_quoted("Deal Name"), "\"Deal Name\"");
        assert_eq!(name_or_quoted("größe"), "\"größe\"");
        assert_eq!(name_or_quoted("2fa"), "\"2fa\"");
        assert_eq!(escape_in_string(r#"a"b\{x}"#), r#"a\"b\\\{x\}"#);
    }
}
