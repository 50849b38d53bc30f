//! Zoho CRM: `GET /crm/v7/settings/fields?module=Deals` (with, optionally, the layouts and the
//! pipelines of a layout) -> the schema of one Deals record as search and get-record return it.
//!
//! Types follow `data_type` (docs/connectors/zoho.md, section 5): picklists are enums of their
//! `actual_value`s (records hold those; `"-None-"` means unset and reads as null), lookups are
//! `{id, name}` objects (owners and users add `email`), money and decimals are numbers, dates
//! and date-times strings of their format. A type Zoho adds later is read by its `json_type`.
//! `Stage` is the enum of every pipeline's stages, each annotated with its pipelines. The
//! layouts say which fields are mandatory in which layout (annotated; `required` holds only what
//! Zoho guarantees in every record: `id` and the system-mandatory fields).

use serde_json::{Map, Value, json};

use super::input::expect_shape;
use super::{
    CALCULATED, CUSTOM, Choice, ImportError, Input, LAYOUT_REQUIRED, Node, PIPELINES, Provenance,
    REFERENCES, ROLE, VENDOR_TYPE, check_unique, document, enumerate, json_type, mark, object,
};

/// The picklist value Zoho shows for "nothing chosen" (an unset picklist reads as null).
const NONE_VALUE: &str = "-None-";

/// The schema of a Zoho Deals record, from the fields response and, optionally, the layouts
/// response and the pipelines response of the Deals layout.
pub fn import(
    fields: &Input,
    layouts: Option<&Input>,
    pipelines: Option<&Input>,
) -> Result<Value, ImportError> {
    let root = expect_shape(
        fields,
        "a Zoho fields response (`{\"fields\": [...]}` of GET /crm/v7/settings/fields?module=Deals)",
        |v| v.get("fields").is_some_and(Value::is_array),
    )?;
    let layout_required = match layouts {
        Some(input) => read_layouts(input)?,
        None => Map::new(),
    };
    let pipelines = pipelines.map(read_pipelines).transpose()?;
    let mut properties = Map::new();
    let mut required = vec!["id".to_string()];
    let mut seen = Vec::new();
    for field in root.list("fields")? {
        let name = field.text("api_name")?;
        check_unique(&mut seen, name, &field)?;
        let mandatory = field.flag("system_mandatory")? || name == "id";
        if mandatory && name != "id" {
            required.push(name.to_string());
        }
        let mut schema = field_schema(&field, !mandatory)?;
        if let Some(layouts) = layout_required.get(name) {
            schema.insert(LAYOUT_REQUIRED.into(), layouts.clone());
        }
        properties.insert(name.to_string(), Value::Object(schema));
    }
    if let Some(pipelines) = &pipelines {
        add_pipelines(&mut properties, pipelines);
    }
    required.sort();
    let mut responses = vec!["GET /crm/v7/settings/fields?module=Deals"];
    if layouts.is_some() {
        responses.push("GET /crm/v7/settings/layouts?module=Deals");
    }
    if pipelines.is_some() {
        responses.push("GET /crm/v7/settings/pipeline?layout_id={layout_id}");
    }
    let body = object(vec![
        ("type", json!("object")),
        ("properties", Value::Object(properties)),
        ("required", json!(required)),
    ]);
    Ok(document(
        "https://schemas.mapctl.invalid/zoho/deal.schema.json",
        "Zoho CRM deal",
        "One element of `data` as GET /crm/v7/Deals/search and GET /crm/v7/Deals/{id} return it, keyed by field API name. Other keys (Zoho's `$` metadata, fields created since) are allowed.",
        &Provenance {
            vendor: "zoho",
            object: "deals",
            responses,
        },
        body,
    ))
}

/// The schema of one field, with its annotations.
fn field_schema(field: &Node<'_>, nullable: bool) -> Result<Map<String, Value>, ImportError> {
    let data_type = field.text("data_type")?;
    let mut schema = value_schema(field, data_type, nullable)?;
    let label = match field.opt_text("display_label")? {
        Some(label) => Some(label),
        None => field.opt_text("field_label")?,
    };
    if let Some(label) = label {
        schema.insert("title".into(), json!(label));
    }
    let calculated = matches!(normalised(data_type).as_str(), "formula" | "rollupsummary");
    mark(&mut schema, "readOnly", calculated || read_only(field)?);
    mark(&mut schema, CALCULATED, calculated);
    mark(&mut schema, CUSTOM, field.flag("custom_field")?);
    if let Some(module) = field
        .get("lookup")
        .and_then(|l| l.get("module"))
        .map(|m| m.text("api_name"))
        .transpose()?
    {
        schema.insert(REFERENCES.into(), json!(module));
    }
    schema.insert(VENDOR_TYPE.into(), json!(data_type));
    Ok(schema)
}

/// True when the API can never write the field: always read-only, or neither create nor update
/// allowed by `operation_type`.
fn read_only(field: &Node<'_>) -> Result<bool, ImportError> {
    if field.flag("field_read_only")? {
        return Ok(true);
    }
    Ok(match field.get("operation_type") {
        Some(ops) => !ops.flag("api_create")? && !ops.flag("api_update")?,
        None => false,
    })
}

/// `owner_lookup` and `ownerlookup` name one type: compare without case and underscores.
fn normalised(data_type: &str) -> String {
    data_type.to_ascii_lowercase().replace('_', "")
}

/// The type part of a field's schema, by `data_type` (then `json_type`).
fn value_schema(
    field: &Node<'_>,
    data_type: &str,
    nullable: bool,
) -> Result<Map<String, Value>, ImportError> {
    let typed = |name: &str| object(vec![("type", json_type(name, nullable))]);
    Ok(match normalised(data_type).as_str() {
        "text" | "textarea" | "phone" | "website" | "autonumber" | "profileimage" => {
            typed("string")
        }
        "email" => object(vec![
            ("type", json_type("string", nullable)),
            ("format", json!("email")),
        ]),
        "picklist" => {
            let mut schema = typed("string");
            enumerate(&mut schema, &picklist(field)?, nullable);
            schema
        }
        "multiselectpicklist" => {
            let mut items = object(vec![("type", json!("string"))]);
            enumerate(&mut items, &picklist(field)?, false);
            let mut schema = typed("array");
            schema.insert("items".into(), Value::Object(items));
            schema
        }
        "integer" | "bigint" | "long" => by_json_type(field, nullable)?,
        "currency" | "double" | "decimal" | "percent" => typed("number"),
        "boolean" => typed("boolean"),
        "date" => object(vec![
            ("type", json_type("string", nullable)),
            ("format", json!("date")),
        ]),
        "datetime" => object(vec![
            ("type", json_type("string", nullable)),
            ("format", json!("date-time")),
        ]),
        "lookup" | "layout" => lookup(nullable, false),
        "ownerlookup" | "userlookup" => lookup(nullable, true),
        "formula" => match field.get("formula").and_then(|f| f.get("return_type")) {
            Some(kind) if normalised(kind.str()?) != "formula" => {
                value_schema(field, kind.str()?, true)?
            }
            _ => by_json_type(field, true)?,
        },
        "subform" | "multiselectlookup" | "fileupload" | "imageupload" | "territories" => {
            typed("array")
        }
        _ => by_json_type(field, nullable)?,
    })
}

/// A field typed by its `json_type` (Zoho's id is a bigint sent as a string of digits).
fn by_json_type(field: &Node<'_>, nullable: bool) -> Result<Map<String, Value>, ImportError> {
    let Some(node) = field.get("json_type") else {
        return Err(field.error(format!(
            "`data_type` {} is not one mapctl knows, and there is no `json_type` to read it by",
            json!(field.opt_text("data_type")?.unwrap_or_default())
        )));
    };
    let name = match node.str()? {
        "string" => {
            let mut schema = object(vec![("type", json_type("string", nullable))]);
            if matches!(
                normalised(field.text("data_type")?).as_str(),
                "bigint" | "integer" | "long"
            ) {
                schema.insert("pattern".into(), json!("^[0-9]+$"));
            }
            return Ok(schema);
        }
        "integer" => "integer",
        "double" => "number",
        "boolean" => "boolean",
        "jsonobject" => "object",
        "jsonarray" => "array",
        other => return Err(node.error(format!("unknown `json_type` {}", json!(other)))),
    };
    Ok(object(vec![("type", json_type(name, nullable))]))
}

/// A lookup value: `{id, name}` (and `email` for owners and users), or null.
fn lookup(nullable: bool, with_email: bool) -> Map<String, Value> {
    let mut members = json!({
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The linked record's id."},
        "name": {"type": ["string", "null"], "description": "The linked record's name."},
    });
    if with_email {
        members["email"] = json!({"type": ["string", "null"], "format": "email", "description": "The user's email address."});
    }
    object(vec![
        ("type", json_type("object", nullable)),
        ("properties", members),
        ("required", json!(["id"])),
    ])
}

/// A picklist's values in Zoho's order (`sequence_number`), without `"-None-"`; unused values
/// are hidden.
fn picklist(field: &Node<'_>) -> Result<Vec<Choice>, ImportError> {
    let mut listed = Vec::new();
    for entry in field.opt_list("pick_list_values")? {
        let value = entry.text("actual_value")?;
        if value == NONE_VALUE {
            continue;
        }
        let label = entry.opt_text("display_value")?.unwrap_or(value);
        let unused = entry.opt_text("type")? == Some("unused");
        listed.push((
            entry.order("sequence_number"),
            Choice {
                value: json!(value),
                label: Some(label.to_string()),
                hidden: unused,
            },
        ));
    }
    listed.sort_by(|a, b| (a.0, a.1.value.as_str()).cmp(&(b.0, b.1.value.as_str())));
    Ok(listed.into_iter().map(|(_, c)| c).collect())
}

/// For each field mandatory in an active layout, the names of those layouts.
fn read_layouts(input: &Input) -> Result<Map<String, Value>, ImportError> {
    let root = expect_shape(
        input,
        "a Zoho layouts response (`{\"layouts\": [...]}` of GET /crm/v7/settings/layouts?module=Deals)",
        |v| v.get("layouts").is_some_and(Value::is_array),
    )?;
    let mut required: Map<String, Value> = Map::new();
    for layout in root.list("layouts")? {
        let name = layout.text("name")?;
        if layout.opt_text("status")?.is_some_and(|s| s != "active") {
            continue;
        }
        for section in layout.opt_list("sections")? {
            for field in section.opt_list("fields")? {
                if field.flag("required")? {
                    let entry = required
                        .entry(field.text("api_name")?.to_string())
                        .or_insert_with(|| json!([]));
                    if let Value::Array(names) = entry
                        && !names.contains(&json!(name))
                    {
                        names.push(json!(name));
                    }
                }
            }
        }
    }
    Ok(required)
}

/// A pipeline and its stages (`actual_value`, `display_value`) in Zoho's order.
struct Pipeline {
    value: String,
    label: String,
    stages: Vec<(String, String)>,
}

/// The pipelines of a pipelines response, in the response's order.
fn read_pipelines(input: &Input) -> Result<Vec<Pipeline>, ImportError> {
    let root = expect_shape(
        input,
        "a Zoho pipelines response (`{\"pipeline\": [...]}` of GET /crm/v7/settings/pipeline?layout_id=...)",
        |v| v.get("pipeline").is_some_and(Value::is_array),
    )?;
    let mut pipelines = Vec::new();
    for node in root.list("pipeline")? {
        let value = node.text("actual_value")?;
        let mut stages = Vec::new();
        for stage in node.list("maps")? {
            let actual = stage.text("actual_value")?;
            let shown = stage.opt_text("display_value")?.unwrap_or(actual);
            stages.push((
                stage.order("sequence_number"),
                actual.to_string(),
                shown.to_string(),
            ));
        }
        stages.sort();
        pipelines.push(Pipeline {
            value: value.to_string(),
            label: node.opt_text("display_value")?.unwrap_or(value).to_string(),
            stages: stages.into_iter().map(|(_, a, s)| (a, s)).collect(),
        });
    }
    Ok(pipelines)
}

/// Types `Stage` and `Pipeline` from the pipelines response.
fn add_pipelines(properties: &mut Map<String, Value>, pipelines: &[Pipeline]) {
    let mut stages = Vec::new();
    let mut membership: Map<String, Value> = Map::new();
    for pipeline in pipelines {
        for (value, label) in &pipeline.stages {
            stages.push(Choice::labelled(json!(value), label));
            if let Value::Array(list) = membership.entry(value.clone()).or_insert_with(|| json!([]))
            {
                list.push(json!(pipeline.value));
            }
        }
    }
    let pipelines_choices: Vec<Choice> = pipelines
        .iter()
        .map(|p| Choice::labelled(json!(p.value), &p.label))
        .collect();
    set_choices(
        properties,
        "Stage",
        &stages,
        vec![
            (ROLE, json!("stage")),
            (PIPELINES, Value::Object(membership)),
        ],
    );
    set_choices(
        properties,
        "Pipeline",
        &pipelines_choices,
        vec![(ROLE, json!("pipeline"))],
    );
}

/// Replaces the enum of `name` (created as a nullable string when the fields lack it) by
/// `choices`, keeping whether it was nullable, and adds `extras`.
fn set_choices(
    properties: &mut Map<String, Value>,
    name: &str,
    choices: &[Choice],
    extras: Vec<(&str, Value)>,
) {
    let mut schema = match properties.remove(name) {
        Some(Value::Object(schema)) => schema,
        _ => object(vec![
            ("title", json!(name)),
            ("type", json_type("string", true)),
        ]),
    };
    let nullable = schema
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|t| t.contains(&json!("null")));
    for key in ["enum", super::LABELS, super::HIDDEN] {
        schema.remove(key);
    }
    enumerate(&mut schema, choices, nullable);
    schema.extend(object(extras));
    properties.insert(name.to_string(), Value::Object(schema));
}
