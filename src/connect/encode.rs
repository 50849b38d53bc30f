//! Small encodings the connectors share: percent-encoding (RFC 3986), form bodies
//! (`application/x-www-form-urlencoded`), base64 (RFC 4648, standard alphabet, for HTTP Basic
//! and HubSpot's signatures), ISO 8601 timestamps as Unix milliseconds, and ids as text.

/// Percent-encodes everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A form body: `name=value` pairs joined by `&`, both sides percent-encoded (a space as `%20`,
/// which every form decoder reads like `+`).
pub fn form(pairs: &[(String, String)]) -> Vec<u8> {
    let parts: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect();
    parts.join("&").into_bytes()
}

/// Base64 with the standard alphabet and `=` padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An ISO 8601 / RFC 3339 date-time (`2025-03-14T09:31:02.004Z`) as Unix milliseconds.
pub fn iso_to_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// An id as text: vendors send ids as strings or numbers.
pub fn id_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A path below a record, for messages (`custom_fields[custom_field_definition_id == 6001].value`).
pub fn path_text(path: &[crate::value::path::PathStep]) -> String {
    use crate::value::path::PathStep;
    let mut text = String::new();
    for step in path {
        match step {
            PathStep::Field(name) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(name);
            }
            PathStep::Index(index) => text.push_str(&format!("[{index}]")),
            PathStep::Search { key, value } => text.push_str(&format!("[{key} == {value}]")),
        }
    }
    text
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    crate::ledger::now_ms()
}

/// A URL without `user:password@`, for messages.
pub fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn forms_and_timestamps() {
        let pairs = [
            ("title".to_string(), "Acme & Co [HS-1]".to_string()),
            ("scope".to_string(), "read(all)".to_string()),
        ];
        assert_eq!(
            String::from_utf8(form(&pairs)).unwrap(),
            "title=Acme%20%26%20Co%20%5BHS-1%5D&scope=read%28all%29"
        );
        assert_eq!(
            iso_to_ms("2025-03-14T09:31:02.004Z"),
            Some(1_741_944_662_004)
        );
        assert_eq!(iso_to_ms("yesterday"), None);
        assert_eq!(
            without_credentials("https://u:secret@psa.example/api?x=1"),
            "https://psa.example/api?x=1"
        );
    }
}
