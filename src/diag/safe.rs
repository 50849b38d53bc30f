//! Text from outside (deal ids, CRM values, file names, mapping and schema text) made safe to
//! print on a terminal: the one function every human output goes through.
//!
//! A character that a terminal acts on or that changes how the text reads is shown escaped, as
//! `\u{202E}`, never emitted: C0 controls other than line feed and tab (NUL, BEL, ESC, a carriage
//! return not followed by a line feed), DEL and the C1 controls (U+0080–U+009F), the bidirectional
//! controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), the zero-width characters
//! (U+200B–U+200D, U+2060, U+FEFF) and the line and paragraph separators (U+2028, U+2029).
//! So a deal id `"\u001b]0;pwned\u0007"` cannot set the terminal's title, and `U+202E` cannot
//! make a message read backwards. JSON outputs are not passed through here: they stay exact.

use std::borrow::Cow;

/// True for the characters [`terminal_safe`] escapes.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// `c` as shown in place of itself: `\u{202E}`.
pub fn escaped(c: char) -> String {
    format!("\\u{{{:04X}}}", u32::from(c))
}

/// `text` with every unsafe character escaped (see the module documentation). A carriage return
/// directly before a line feed is a line ending and kept; a lone one is escaped. Borrows when
/// there is nothing to escape.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let needs = text.char_indices().any(|(at, c)| unsafe_at(text, at, c));
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (at, c) in text.char_indices() {
        if unsafe_at(text, at, c) {
            out.push_str(&escaped(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether the character `c` at byte `at` of `text` is escaped: an unsafe one, except a carriage
/// return that ends a line.
fn unsafe_at(text: &str, at: usize, c: char) -> bool {
    if c == '\r' {
        return text.as_bytes().get(at + 1) != Some(&b'\n');
    }
    is_unsafe(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn controls_bidi_and_zero_width_characters_are_escaped() {
        assert_eq!(
            terminal_safe("\u{1b}]0;pwned\u{7}"),
            "\\u{001B}]0;pwned\\u{0007}"
        );
        assert_eq!(terminal_safe("abc\u{202e}def"), "abc\\u{202E}def");
        assert_eq!(terminal_safe("Ac\u{200b}me\u{0}"), "Ac\\u{200B}me\\u{0000}");
        assert_eq!(terminal_safe("a\rb\r\nc"), "a\\u{000D}b\r\nc");
        assert_eq!(
            terminal_safe("\u{85}\u{feff}\u{2066}"),
            "\\u{0085}\\u{FEFF}\\u{2066}"
        );
        assert!(matches!(
            terminal_safe("plain\ttext\n é 😀"),
            Cow::Borrowed(_)
        ));
    }

    proptest! {
        #[test]
        fn safe_text_holds_no_unsafe_character_and_keeps_the_rest(text in any::<String>()) {
            let safe = terminal_safe(&text);
            let kept: String = text.chars().filter(|c| !is_unsafe(*c)).collect();
            let shown: String = safe.chars().filter(|c| *c != '\r').collect();
            prop_assert!(!safe.chars().any(|c| is_unsafe(c) && c != '\r'));
            prop_assert!(!safe.contains('\r') || safe.contains("\r\n"));
            // Every safe character of the input is still there, in order.
            let mut rest = shown.chars();
            for c in kept.chars().filter(|c| *c != '\r') {
                prop_assert!(rest.any(|s| s == c));
            }
        }
    }
}
