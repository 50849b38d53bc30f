//! Reading a saved vendor response with every problem named by its file and JSON pointer.
//!
//! The importers walk responses through [`Node`]s: each knows the file it came from and the
//! pointer to where it is, so "expected a string" always says which file and which member.

use std::fmt;

use serde_json::Value;

use crate::schema::locate::escape_segment;

/// A parsed metadata response and the name it is shown by.
#[derive(Debug, Clone)]
pub struct Input {
    /// The file name as the user gave it (shown in errors).
    pub name: String,
    /// The parsed JSON.
    pub value: Value,
}

impl Input {
    /// Parses `text` (the content of the file shown as `name`) as JSON.
    pub fn parse(name: &str, text: &str) -> Result<Input, ImportError> {
        let value = serde_json::from_str(text).map_err(|e| ImportError {
            file: name.to_string(),
            pointer: String::new(),
            message: format!(
                "not valid JSON: {} (line {}, column {})",
                strip_position(&e.to_string()),
                e.line(),
                e.column()
            ),
        })?;
        Ok(Input {
            name: name.to_string(),
            value,
        })
    }

    /// The whole document.
    pub fn root(&self) -> Node<'_> {
        Node {
            file: &self.name,
            pointer: String::new(),
            value: &self.value,
        }
    }
}

/// serde_json's message without its trailing " at line L column C".
fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// Why a response could not be imported: the file, the JSON pointer, and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file's name.
    pub file: String,
    /// Where in it (RFC 6901; empty for the whole document).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "`{}`: {}", self.file, self.message)
        } else {
            write!(f, "`{}` at `{}`: {}", self.file, self.pointer, self.message)
        }
    }
}

impl std::error::Error for ImportError {}

/// A value inside a response, with where it is.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    file: &'a str,
    pointer: String,
    value: &'a Value,
}

impl<'a> Node<'a> {
    /// An error located at this value.
    pub fn error(&self, message: impl Into<String>) -> ImportError {
        ImportError {
            file: self.file.to_string(),
            pointer: self.pointer.clone(),
            message: message.into(),
        }
    }

    /// The JSON value.
    pub fn value(&self) -> &'a Value {
        self.value
    }

    /// The member `key`, when this is an object that has it (null counts as absent).
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        let found = self.value.as_object()?.get(key)?;
        (!found.is_null()).then(|| self.child(escape_segment(key), found))
    }

    /// The member `key`, which must be present.
    pub fn field(&self, key: &str) -> Result<Node<'a>, ImportError> {
        if !self.value.is_object() {
            return Err(self.error(format!("expected an object, found {}", kind(self.value))));
        }
        self.get(key)
            .ok_or_else(|| self.error(format!("the member `{key}` is missing")))
    }

    /// This value as a string.
    pub fn str(&self) -> Result<&'a str, ImportError> {
        self.value
            .as_str()
            .ok_or_else(|| self.error(format!("expected a string, found {}", kind(self.value))))
    }

    /// The string member `key`, which must be present.
    pub fn text(&self, key: &str) -> Result<&'a str, ImportError> {
        self.field(key)?.str()
    }

    /// The string member `key`, or `None` when absent or null.
    pub fn opt_text(&self, key: &str) -> Result<Option<&'a str>, ImportError> {
        self.get(key).map(|n| n.str()).transpose()
    }

    /// The boolean member `key`; absent or null is `false`.
    pub fn flag(&self, key: &str) -> Result<bool, ImportError> {
        match self.get(key) {
            None => Ok(false),
            Some(node) => node.value.as_bool().ok_or_else(|| {
                node.error(format!(
                    "expected true or false, found {}",
                    kind(node.value)
                ))
            }),
        }
    }

    /// The boolean member `key`, or `None` when absent or null.
    pub fn opt_flag(&self, key: &str) -> Result<Option<bool>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.flag(key).map(Some),
        }
    }

    /// The elements of this array.
    pub fn items(&self) -> Result<Vec<Node<'a>>, ImportError> {
        let array = self
            .value
            .as_array()
            .ok_or_else(|| self.error(format!("expected an array, found {}", kind(self.value))))?;
        Ok(array
            .iter()
            .enumerate()
            .map(|(i, v)| self.child(i.to_string(), v))
            .collect())
    }

    /// The elements of the array member `key`, which must be present.
    pub fn list(&self, key: &str) -> Result<Vec<Node<'a>>, ImportError> {
        self.field(key)?.items()
    }

    /// The elements of the array member `key`; absent or null is empty.
    pub fn opt_list(&self, key: &str) -> Result<Vec<Node<'a>>, ImportError> {
        self.get(key).map_or(Ok(Vec::new()), |n| n.items())
    }

    /// This value as a whole number: a JSON integer, or a string of digits (Accelo sends every
    /// scalar as a string).
    pub fn integer(&self) -> Result<i64, ImportError> {
        let parsed = match self.value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse::<i64>().ok(),
            _ => None,
        };
        parsed.ok_or_else(|| {
            self.error(format!(
                "expected a whole number, found {}",
                kind(self.value)
            ))
        })
    }

    /// The member `key` as a whole number, which must be present.
    pub fn int_field(&self, key: &str) -> Result<i64, ImportError> {
        self.field(key)?.integer()
    }

    /// The member `key` as a number for ordering (`displayOrder`, `sequence_number`, `rank`);
    /// absent, null or not a number orders last.
    pub fn order(&self, key: &str) -> i64 {
        self.get(key)
            .and_then(|n| n.integer().ok())
            .unwrap_or(i64::MAX)
    }

    fn child(&self, segment: String, value: &'a Value) -> Node<'a> {
        Node {
            file: self.file,
            pointer: format!("{}/{segment}", self.pointer),
            value,
        }
    }
}

/// A JSON value's kind in words, for messages.
pub fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => "a string".into(),
        Value::String(s) => format!("the string {}", Value::String(s.clone())),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Which known metadata response a document looks like, for "wrong file" errors.
pub fn looks_like(value: &Value) -> Option<&'static str> {
    let first = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .cloned()
    };
    let has =
        |element: &Option<Value>, key: &str| element.as_ref().is_some_and(|e| e.get(key).is_some());
    let results = first("results");
    if has(&results, "fieldType") {
        return Some("HubSpot properties (GET /crm/v3/properties/{object})");
    }
    if has(&results, "stages") {
        return Some("HubSpot pipelines (GET /crm/v3/pipelines/deals)");
    }
    if value.get("fields").is_some() {
        return Some("Zoho fields metadata (GET /crm/v7/settings/fields)");
    }
    if value.get("layouts").is_some() {
        return Some("Zoho layouts metadata (GET /crm/v7/settings/layouts)");
    }
    if value.get("pipeline").is_some() {
        return Some("Zoho pipelines (GET /crm/v7/settings/pipeline)");
    }
    if value.get("meta").is_some() && value.get("response").is_some() {
        return Some("an Accelo API response");
    }
    if value.get("clients").is_some() {
        return Some("Harvest clients (GET /v2/clients)");
    }
    if value.get("projects").is_some() {
        return Some("Harvest projects (GET /v2/projects)");
    }
    let element = value.as_array().and_then(|a| a.first()).cloned();
    if has(&element, "data_type") && has(&element, "available_on") {
        return Some("Copper custom field definitions (GET /custom_field_definitions)");
    }
    if has(&element, "stages") {
        return Some("Copper pipelines (GET /pipelines)");
    }
    if value.get("$schema").is_some() || value.get("properties").is_some() {
        return Some("a JSON Schema");
    }
    None
}

/// The root of `input` as the response `expected` (e.g. "HubSpot properties"), checked with
/// `fits`; otherwise an error that says what the file looks like instead.
pub fn expect_shape<'a>(
    input: &'a Input,
    expected: &str,
    fits: impl Fn(&Value) -> bool,
) -> Result<Node<'a>, ImportError> {
    let root = input.root();
    if fits(&input.value) {
        return Ok(root);
    }
    let instead = match looks_like(&input.value) {
        Some(other) => format!("; it looks like {other}"),
        None => String::new(),
    };
    Err(root.error(format!("this is not {expected}{instead}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> Input {
        Input::parse("f.json", text).unwrap()
    }

    #[test]
    fn errors_name_the_file_and_the_pointer() {
        let doc = input(r#"{"results": [{"name": 1}, {"a/b": {"c": true}}]}"#);
        let items = doc.root().list("results").unwrap();
        let error = items[0].text("name").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`f.json` at `/results/0/name`: expected a string, found the number 1"
        );
        let missing = items[1].text("label").unwrap_err();
        assert_eq!(missing.pointer, "/results/1");
        assert!(missing.message.contains("`label` is missing"));
        let nested = items[1].field("a/b").unwrap().text("c").unwrap_err();
        assert_eq!(nested.pointer, "/results/1/a~1b/c");
    }

    #[test]
    fn bad_json_says_where() {
        let error = Input::parse("x.json", "{\"a\": [1,}").unwrap_err();
        assert_eq!(error.file, "x.json");
        assert!(error.message.contains("line 1"), "{error}");
    }

    #[test]
    fn integers_come_as_numbers_or_digit_strings() {
        let doc = input(r#"{"a": "17", "b": 5, "c": "x7", "d": 1.5}"#);
        let root = doc.root();
        assert_eq!(root.int_field("a").unwrap(), 17);
        assert_eq!(root.int_field("b").unwrap(), 5);
        assert!(root.int_field("c").is_err());
        assert!(root.int_field("d").is_err());
    }

    #[test]
    fn wrong_files_are_recognised() {
        let zoho = input(r#"{"fields": [{"api_name": "Stage"}]}"#);
        let error =
            expect_shape(&zoho, "HubSpot properties", |v| v.get("results").is_some()).unwrap_err();
        assert!(error.message.contains("Zoho fields metadata"), "{error}");
        let unknown = input("[1, 2]");
        let error = expect_shape(&unknown, "Copper pipelines", |_| false).unwrap_err();
        assert_eq!(error.message, "this is not Copper pipelines");
    }
}
