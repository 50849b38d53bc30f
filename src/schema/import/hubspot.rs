//! HubSpot: `GET /crm/v3/properties/{deals|companies}` (and, for deals,
//! `GET /crm/v3/pipelines/deals`) -> the schema of a record as the v3 object reads return it.
//!
//! Every property value is a string on the wire (docs/connectors/hubspot.md, section 5), so the
//! type of a property is told by a pattern: numbers, dates and date-times are strings of their
//! shape (or `""`, what a cleared value reads as), booleans are `"true"`/`"false"`, enumerations
//! are enums of their option values with the labels as annotations. `dealstage` is the enum of
//! every stage of every (unarchived) pipeline, each stage annotated with its pipeline; the
//! properties response's own `dealstage` options are not used, since the docs do not say they
//! list every pipeline's stages. Calculated and read-only properties are `readOnly`.

use serde_json::{Map, Value, json};

use super::input::expect_shape;
use super::{
    CALCULATED, CUSTOM, Choice, GROUP, ImportError, Input, Node, PIPELINES, Provenance, REFERENCES,
    ROLE, VENDOR_TYPE, check_unique, document, enumerate, json_type, mark, object,
};

/// A decimal string, possibly with an exponent (HubSpot's docs allow scientific notation for
/// number properties), or `""`.
pub const NUMBER_PATTERN: &str = r"^(-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)?$";
/// An ISO 8601 date-time (HubSpot reads them as UTC with milliseconds), or `""`.
pub const DATETIME_PATTERN: &str = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2}))?$";
/// A date property: `YYYY-MM-DD` or milliseconds (the docs disagree, so both), or `""`.
pub const DATE_PATTERN: &str = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{13})?$";

/// The HubSpot object a properties response describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// Deals (`/crm/v3/properties/deals`, with the deal pipelines).
    Deals,
    /// Companies (`/crm/v3/properties/companies`).
    Companies,
}

impl Object {
    fn name(self) -> &'static str {
        match self {
            Object::Deals => "deals",
            Object::Companies => "companies",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            Object::Deals => "deal",
            Object::Companies => "company",
        }
    }
}

/// The schema of a HubSpot record of `object`, from its properties response and (deals only)
/// the pipelines response.
pub fn import(
    object: Object,
    properties: &Input,
    pipelines: Option<&Input>,
) -> Result<Value, ImportError> {
    let listed = read_properties(properties)?;
    let names = listed
        .iter()
        .map(|p| p.text("name"))
        .collect::<Result<Vec<_>, _>>()?;
    check_object(object, properties, &names)?;
    let pipelines = match (object, pipelines) {
        (Object::Deals, Some(input)) => Some(read_pipelines(input)?),
        (Object::Deals, None) => {
            return Err(properties.root().error(
                "the deal stages come from the pipelines response: pass `--pipelines` \
                 (GET /crm/v3/pipelines/deals)",
            ));
        }
        (Object::Companies, Some(input)) => {
            return Err(input
                .root()
                .error("companies have no pipelines: leave out `--pipelines`"));
        }
        (Object::Companies, None) => None,
    };
    let mut fields = Map::new();
    let mut seen = Vec::new();
    for property in &listed {
        let name = property.text("name")?;
        check_unique(&mut seen, name, property)?;
        fields.insert(name.to_string(), Value::Object(property_schema(property)?));
    }
    if let Some(pipelines) = &pipelines {
        add_pipelines(&mut fields, pipelines);
    }
    Ok(record_document(object, fields, pipelines.is_some()))
}

/// The `results` of a properties response.
fn read_properties(input: &Input) -> Result<Vec<Node<'_>>, ImportError> {
    let root = expect_shape(
        input,
        "a HubSpot properties response (`{\"results\": [...]}` of GET /crm/v3/properties/{object})",
        |v| {
            v.get("results").and_then(Value::as_array).is_some_and(|r| {
                r.iter()
                    .all(|p| p.get("fieldType").is_some() || !p.is_object())
            })
        },
    )?;
    root.list("results")
}

/// Refuses a companies response imported as deals and the other way round.
fn check_object(object: Object, input: &Input, names: &[&str]) -> Result<(), ImportError> {
    let has = |wanted: &str| names.contains(&wanted);
    let looks_like_deals = has("dealname") || has("dealstage");
    match object {
        Object::Deals if !looks_like_deals => Err(input.root().error(
            "these are not deal properties (no `dealname` or `dealstage`): for company \
             properties pass `--object companies`",
        )),
        Object::Companies if looks_like_deals => Err(input.root().error(
            "these are deal properties (`dealname`/`dealstage` are listed): leave out \
             `--object companies`",
        )),
        _ => Ok(()),
    }
}

/// The schema of one property's value.
fn property_schema(property: &Node<'_>) -> Result<Map<String, Value>, ImportError> {
    let label = property.text("label")?;
    let kind = property.text("type")?;
    let field_type = property.text("fieldType")?;
    let mut schema = value_schema(property, kind, field_type)?;
    schema.insert("title".into(), json!(label));
    if let Some(description) = property.opt_text("description")?.filter(|d| !d.is_empty()) {
        schema.insert("description".into(), json!(description));
    }
    let calculated = property.flag("calculated")? || field_type == "calculation_equation";
    let read_only_value = match property.get("modificationMetadata") {
        Some(meta) => meta.flag("readOnlyValue")?,
        None => false,
    };
    mark(&mut schema, "readOnly", calculated || read_only_value);
    mark(&mut schema, CALCULATED, calculated);
    mark(
        &mut schema,
        CUSTOM,
        property.opt_flag("hubspotDefined")? == Some(false),
    );
    if let Some(group) = property.opt_text("groupName")? {
        schema.insert(GROUP.into(), json!(group));
    }
    if let Some(referenced) = property.opt_text("referencedObjectType")? {
        schema.insert(REFERENCES.into(), json!(referenced));
    }
    schema.insert(VENDOR_TYPE.into(), json!(format!("{kind}/{field_type}")));
    Ok(schema)
}

/// The type part of a property's schema, by its HubSpot `type` (compared without case; unknown
/// types are read as strings, as the docs' internal `json` and `object_coordinates` are).
fn value_schema(
    property: &Node<'_>,
    kind: &str,
    field_type: &str,
) -> Result<Map<String, Value>, ImportError> {
    let text = |pattern: &str| {
        object(vec![
            ("type", json_type("string", true)),
            ("pattern", json!(pattern)),
        ])
    };
    Ok(match kind.to_ascii_lowercase().as_str() {
        "number" => text(NUMBER_PATTERN),
        "datetime" => text(DATETIME_PATTERN),
        "date" => text(DATE_PATTERN),
        "bool" | "boolean" => {
            let mut schema = object(vec![("type", json_type("string", true))]);
            let choices = [("true", "Yes"), ("false", "No")]
                .map(|(value, label)| Choice::labelled(json!(value), label));
            enumerate(&mut schema, &choices, true);
            schema
        }
        "enumeration" => enumeration(property, field_type)?,
        _ => object(vec![("type", json_type("string", true))]),
    })
}

/// An enumeration: an enum of its option values (a `checkbox` holds several, joined by `;`, so it
/// gets a pattern instead). Without options (owners and other external lists) it is a string.
fn enumeration(property: &Node<'_>, field_type: &str) -> Result<Map<String, Value>, ImportError> {
    let mut schema = object(vec![("type", json_type("string", true))]);
    let choices = options(property)?;
    if choices.is_empty() {
        return Ok(schema);
    }
    if field_type == "checkbox" {
        let one = choices
            .iter()
            .map(|c| regex::escape(c.value.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("|");
        schema.insert("pattern".into(), json!(format!("^(({one})(;({one}))*)?$")));
        let mut labels_only = Map::new();
        enumerate(&mut labels_only, &choices, false);
        labels_only.remove("enum");
        schema.extend(labels_only);
        return Ok(schema);
    }
    enumerate(&mut schema, &choices, true);
    Ok(schema)
}

/// A property's options in display order (ties by value), as choices.
fn options(property: &Node<'_>) -> Result<Vec<Choice>, ImportError> {
    let mut listed = Vec::new();
    for option in property.opt_list("options")? {
        let value = option.text("value")?;
        let label = option.opt_text("label")?;
        listed.push((
            option.order("displayOrder"),
            Choice {
                value: json!(value),
                label: label.map(str::to_string),
                hidden: option.flag("hidden")?,
            },
        ));
    }
    listed.sort_by(|a, b| (a.0, a.1.value.as_str()).cmp(&(b.0, b.1.value.as_str())));
    Ok(listed.into_iter().map(|(_, c)| c).collect())
}

/// A deal pipeline and its stages, in display order.
struct Pipeline {
    id: String,
    label: String,
    stages: Vec<(String, String)>,
}

/// The unarchived pipelines of a pipelines response, each with its unarchived stages.
fn read_pipelines(input: &Input) -> Result<Vec<Pipeline>, ImportError> {
    let root = expect_shape(
        input,
        "a HubSpot pipelines response (`{\"results\": [...]}` of GET /crm/v3/pipelines/deals)",
        |v| {
            v.get("results").and_then(Value::as_array).is_some_and(|r| {
                r.iter()
                    .all(|p| p.get("stages").is_some() || !p.is_object())
            })
        },
    )?;
    let mut pipelines = Vec::new();
    let mut seen = Vec::new();
    for node in root.list("results")? {
        let id = node.text("id")?;
        check_unique(&mut seen, id, &node)?;
        if node.flag("archived")? {
            continue;
        }
        let mut stages = Vec::new();
        for stage in node.list("stages")? {
            let stage_id = stage.text("id")?;
            let label = stage.text("label")?;
            if !stage.flag("archived")? {
                stages.push((
                    stage.order("displayOrder"),
                    stage_id.to_string(),
                    label.to_string(),
                ));
            }
        }
        stages.sort();
        pipelines.push((
            node.order("displayOrder"),
            Pipeline {
                id: id.to_string(),
                label: node.text("label")?.to_string(),
                stages: stages
                    .into_iter()
                    .map(|(_, id, label)| (id, label))
                    .collect(),
            },
        ));
    }
    pipelines.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    Ok(pipelines.into_iter().map(|(_, p)| p).collect())
}

/// Types `dealstage` and `pipeline` from the pipelines response.
fn add_pipelines(fields: &mut Map<String, Value>, pipelines: &[Pipeline]) {
    let mut stages = Vec::new();
    let mut membership: Map<String, Value> = Map::new();
    for pipeline in pipelines {
        for (id, label) in &pipeline.stages {
            stages.push(Choice::labelled(json!(id), label));
            let entry = membership.entry(id.clone()).or_insert_with(|| json!([]));
            if let Value::Array(list) = entry {
                list.push(json!(pipeline.id));
            }
        }
    }
    let stage_extras = vec![
        (ROLE, json!("stage")),
        (PIPELINES, Value::Object(membership)),
    ];
    set_choices(fields, "dealstage", "Deal Stage", &stages, stage_extras);
    let choices: Vec<Choice> = pipelines
        .iter()
        .map(|p| Choice::labelled(json!(p.id), &p.label))
        .collect();
    set_choices(
        fields,
        "pipeline",
        "Pipeline",
        &choices,
        vec![(ROLE, json!("pipeline"))],
    );
}

/// Replaces the enum, labels and hidden values of `name` (created when the properties response
/// lacks it) by `choices`, and adds `extras`.
fn set_choices(
    fields: &mut Map<String, Value>,
    name: &str,
    title: &str,
    choices: &[Choice],
    extras: Vec<(&str, Value)>,
) {
    let mut schema = match fields.remove(name) {
        Some(Value::Object(schema)) => schema,
        _ => object(vec![
            ("title", json!(title)),
            ("type", json_type("string", true)),
        ]),
    };
    for key in ["enum", super::LABELS, super::HIDDEN, "pattern"] {
        schema.remove(key);
    }
    enumerate(&mut schema, choices, true);
    schema.extend(object(extras));
    fields.insert(name.to_string(), Value::Object(schema));
}

/// The whole record: id, properties, timestamps, archived flag and associations.
fn record_document(object: Object, fields: Map<String, Value>, with_pipelines: bool) -> Value {
    let singular = object.singular();
    let mut associations = object_schema(vec![
        (
            "description",
            json!(
                "Associated record ids keyed by object type; present when ?associations= is requested."
            ),
        ),
        (
            "additionalProperties",
            json!({"$ref": "#/$defs/associationList"}),
        ),
    ]);
    if object == Object::Deals {
        associations.insert(
            "properties".into(),
            json!({"companies": {"$ref": "#/$defs/associationList", "description": "Companies associated with the deal."}}),
        );
    }
    let body = object_schema(vec![
        (
            "properties",
            json!({
                "id": {"type": "string", "pattern": "^[0-9]+$", "description": format!("The {singular}'s record id (a numeric string).")},
                "properties": {
                    "type": "object",
                    "description": format!("The requested {singular} properties by internal name; every value is a string or null."),
                    "properties": fields,
                    "additionalProperties": {"type": ["string", "null"], "description": "A property this import did not list (a sensitive one, or one created since)."},
                },
                "createdAt": {"type": "string", "format": "date-time", "description": "Record creation time, ISO 8601 UTC."},
                "updatedAt": {"type": "string", "format": "date-time", "description": "Record last update time, ISO 8601 UTC."},
                "archived": {"type": "boolean", "description": format!("True when the {singular} is in the recycling bin.")},
                "associations": associations,
            }),
        ),
        ("required", json!(["id", "properties"])),
        ("$defs", association_defs()),
    ]);
    let mut responses = vec![match object {
        Object::Deals => "GET /crm/v3/properties/deals",
        Object::Companies => "GET /crm/v3/properties/companies",
    }];
    if with_pipelines {
        responses.push("GET /crm/v3/pipelines/deals");
    }
    let provenance = Provenance {
        vendor: "hubspot",
        object: object.name(),
        responses,
    };
    document(
        &format!("https://schemas.mapctl.invalid/hubspot/{singular}.schema.json"),
        &format!("HubSpot CRM v3 {singular}"),
        &format!(
            "A {singular} as GET /crm/v3/objects/{}/{{id}} returns it (search and batch reads return the same shape). Every property value is a string or null.",
            object.name()
        ),
        &provenance,
        body,
    )
}

/// `{"type": "object", ...pairs}`.
fn object_schema(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    let mut schema = object(vec![("type", json!("object"))]);
    schema.extend(object(pairs));
    schema
}

/// The association list shapes of a v3 read with `?associations=`.
fn association_defs() -> Value {
    json!({
        "associationList": {
            "type": "object",
            "description": "Associated record ids for one target object type.",
            "properties": {
                "results": {"type": "array", "description": "Associated records of this object type.", "items": {"$ref": "#/$defs/associationRef"}},
                "paging": {"type": "object", "description": "Cursor for more associations when the list is long."}
            },
            "required": ["results"]
        },
        "associationRef": {
            "type": "object",
            "description": "One associated record as returned by the v3 object read endpoint.",
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9]+$", "description": "Record id of the associated object (numeric string)."},
                "type": {"type": "string", "description": "Association type label, e.g. deal_to_company."}
            },
            "required": ["id", "type"]
        }
    })
}
