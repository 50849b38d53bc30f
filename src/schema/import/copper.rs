//! Copper: `GET /custom_field_definitions` (and, optionally, `GET /pipelines`) -> the schema of
//! an opportunity as search, get and update return it.
//!
//! The opportunity's own fields are fixed (docs/connectors/copper.md, section 4.2). Its
//! `custom_fields` array holds one `{custom_field_definition_id, value}` per custom field
//! available on opportunities; each definition becomes one branch of the items' `anyOf`, typed
//! by its `data_type` (section 6) and told apart by `custom_field_definition_id`, plus a last
//! branch for fields defined after the import. Mappings read a custom field as
//! `deal.custom_fields[custom_field_definition_id == 5001].value`, which this shape keeps.
//! Pipelines type `pipeline_id` and `pipeline_stage_id`, each stage annotated with its pipeline.

use serde_json::{Map, Value, json};

use super::input::expect_shape;
use super::{
    CURRENCY, Choice, ImportError, Input, Node, PIPELINES, Provenance, ROLE, VENDOR_TYPE, document,
    enumerate, json_type, object,
};

/// A custom date as the prose describes it (the examples send Unix seconds instead).
const CUSTOM_DATE_PATTERN: &str = "^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$";

/// The schema of a Copper opportunity, from the custom field definitions response and,
/// optionally, the pipelines response.
pub fn import(custom_fields: &Input, pipelines: Option<&Input>) -> Result<Value, ImportError> {
    let definitions = read_definitions(custom_fields)?;
    let mut properties = fixed_fields();
    properties.insert("custom_fields".into(), custom_fields_schema(&definitions)?);
    let mut responses = vec!["GET /developer_api/v1/custom_field_definitions"];
    if let Some(input) = pipelines {
        add_pipelines(&mut properties, input)?;
        responses.push("GET /developer_api/v1/pipelines");
    }
    let body = object(vec![
        ("type", json!("object")),
        ("properties", Value::Object(properties)),
        ("required", json!(["id", "name"])),
    ]);
    Ok(document(
        "https://schemas.mapctl.invalid/copper/opportunity.schema.json",
        "Copper CRM opportunity",
        "An opportunity as the Copper Developer API returns it (GET /developer_api/v1/opportunities/{id}, search and update return the same shape). Other keys are allowed.",
        &Provenance {
            vendor: "copper",
            object: "opportunities",
            responses,
        },
        body,
    ))
}

/// The definitions available on opportunities, by id.
fn read_definitions(input: &Input) -> Result<Vec<Node<'_>>, ImportError> {
    let root = expect_shape(
        input,
        "a Copper custom field definitions response (the array GET /custom_field_definitions returns)",
        |v| {
            v.as_array().is_some_and(|a| {
                a.iter()
                    .all(|d| d.get("data_type").is_some() || !d.is_object())
            })
        },
    )?;
    let mut kept = Vec::new();
    for definition in root.items()? {
        let id = definition.int_field("id")?;
        definition.text("name")?;
        definition.text("data_type")?;
        let mut on_opportunities = false;
        for place in definition.list("available_on")? {
            on_opportunities |= place.str()? == "opportunity";
        }
        if !on_opportunities {
            continue;
        }
        if kept.iter().any(|(other, _)| *other == id) {
            return Err(definition.error(format!("the definition id {id} is listed twice")));
        }
        kept.push((id, definition));
    }
    kept.sort_by_key(|(id, _)| *id);
    Ok(kept.into_iter().map(|(_, d)| d).collect())
}

/// `custom_fields`: an array of values, each typed by its definition.
fn custom_fields_schema(definitions: &[Node<'_>]) -> Result<Value, ImportError> {
    let mut branches = Vec::new();
    let mut ids = Vec::new();
    for definition in definitions {
        let id = definition.int_field("id")?;
        ids.push(json!(id));
        let mut branch = object(vec![
            ("title", json!(definition.text("name")?)),
            (
                "properties",
                json!({
                    "custom_field_definition_id": {"const": id},
                    "value": Value::Object(value_schema(definition)?),
                }),
            ),
            (VENDOR_TYPE, json!(definition.text("data_type")?)),
        ]);
        if let Some(currency) = definition.opt_text("currency")? {
            branch.insert(CURRENCY.into(), json!(currency));
        }
        branches.push(Value::Object(branch));
    }
    branches.push(json!({
        "description": "A custom field defined after this import: any value.",
        "properties": {"custom_field_definition_id": {"not": {"enum": ids}}},
    }));
    Ok(json!({
        "type": "array",
        "description": "Custom field values: one entry for every custom field available on opportunities, null when empty.",
        "items": {
            "type": "object",
            "properties": {
                "custom_field_definition_id": {"type": "integer", "description": "Id of the custom field definition."},
                "value": {"description": "The value, typed by the definition (see anyOf)."},
            },
            "required": ["custom_field_definition_id", "value"],
            "additionalProperties": false,
            "anyOf": branches,
        },
    }))
}

/// The schema of a custom field's value by `data_type`. A type the docs do not describe
/// (`Connect`, or one added later) is left open.
fn value_schema(definition: &Node<'_>) -> Result<Map<String, Value>, ImportError> {
    let nullable = |name: &str| object(vec![("type", json_type(name, true))]);
    Ok(match definition.text("data_type")? {
        "String" | "Text" | "URL" => nullable("string"),
        "Checkbox" => object(vec![("type", json!("boolean"))]),
        "Float" | "Currency" => nullable("number"),
        "Percentage" => object(vec![
            ("type", json_type("number", true)),
            ("minimum", json!(0)),
            ("maximum", json!(100)),
        ]),
        "Date" => object(vec![
            ("type", json!(["integer", "string", "null"])),
            ("pattern", json!(CUSTOM_DATE_PATTERN)),
        ]),
        "Dropdown" => {
            let mut schema = nullable("integer");
            enumerate(&mut schema, &options(definition)?, true);
            schema
        }
        "MultiSelect" => {
            let mut items = object(vec![("type", json!("integer"))]);
            enumerate(&mut items, &options(definition)?, false);
            object(vec![
                ("type", json!("array")),
                ("items", Value::Object(items)),
            ])
        }
        _ => Map::new(),
    })
}

/// A dropdown's options by `rank`, as choices.
fn options(definition: &Node<'_>) -> Result<Vec<Choice>, ImportError> {
    let mut listed = Vec::new();
    for option in definition.list("options")? {
        let id = option.int_field("id")?;
        let label = option.text("name")?;
        listed.push((option.order("rank"), id, Choice::labelled(json!(id), label)));
    }
    listed.sort_by_key(|(rank, id, _)| (*rank, *id));
    Ok(listed.into_iter().map(|(_, _, c)| c).collect())
}

/// Types `pipeline_id` and `pipeline_stage_id` from the pipelines response.
fn add_pipelines(properties: &mut Map<String, Value>, input: &Input) -> Result<(), ImportError> {
    let root = expect_shape(
        input,
        "a Copper pipelines response (the array GET /pipelines returns)",
        |v| {
            v.as_array().is_some_and(|a| {
                a.iter()
                    .all(|p| p.get("stages").is_some() || !p.is_object())
            })
        },
    )?;
    let mut pipelines = Vec::new();
    let mut stages = Vec::new();
    let mut membership = Map::new();
    for pipeline in root.items()? {
        let id = pipeline.int_field("id")?;
        pipelines.push(Choice::labelled(json!(id), pipeline.text("name")?));
        for stage in pipeline.list("stages")? {
            let stage_id = stage.int_field("id")?;
            stages.push(Choice::labelled(json!(stage_id), stage.text("name")?));
            if let Value::Array(list) = membership
                .entry(stage_id.to_string())
                .or_insert_with(|| json!([]))
            {
                list.push(json!(id));
            }
        }
    }
    let mut pipeline = object(vec![
        ("type", json!("integer")),
        ("description", json!("Pipeline id.")),
        (ROLE, json!("pipeline")),
    ]);
    enumerate(&mut pipeline, &pipelines, false);
    properties.insert("pipeline_id".into(), Value::Object(pipeline));
    let mut stage = object(vec![
        ("type", json!("integer")),
        ("description", json!("Pipeline stage id.")),
        (ROLE, json!("stage")),
        (PIPELINES, Value::Object(membership)),
    ]);
    enumerate(&mut stage, &stages, false);
    properties.insert("pipeline_stage_id".into(), Value::Object(stage));
    Ok(())
}

/// The opportunity's own fields (docs/connectors/copper.md, section 4.2).
fn fixed_fields() -> Map<String, Value> {
    let fields = json!({
        "id": {"type": "integer", "description": "Opportunity id."},
        "name": {"type": "string", "description": "Opportunity name."},
        "assignee_id": {"type": ["integer", "null"], "description": "Id of the owning user, or null when unassigned."},
        "close_date": {"type": ["string", "null"], "pattern": "^(0?[1-9]|1[0-2])/(0?[1-9]|[12][0-9]|3[01])/[0-9]{4}$", "examples": ["3/14/2025"], "description": "Expected close date as M/D/YYYY (the account's date setting; DD/MM/YYYY accounts need their own pattern), or null."},
        "company_id": {"type": ["integer", "null"], "description": "Id of the primary company, or null (typed \"string\" in the docs' table; every example is a number)."},
        "company_name": {"type": ["string", "null"], "description": "Name of the primary company, or null."},
        "customer_source_id": {"type": ["integer", "null"], "description": "Id of the customer source, or null."},
        "date_created": {"type": "integer", "description": "Creation time as Unix seconds."},
        "date_last_contacted": {"type": ["integer", "null"], "description": "Last contact time as Unix seconds, or null."},
        "date_lead_created": {"type": ["integer", "null"], "description": "Creation time of the source lead as Unix seconds, or null."},
        "date_modified": {"type": "integer", "description": "Last modification time as Unix seconds."},
        "date_stage_changed": {"type": ["integer", "null"], "description": "Last stage change as Unix seconds, or null."},
        "details": {"type": ["string", "null"], "description": "Free-text description, or null."},
        "interaction_count": {"type": "integer", "minimum": 0, "description": "Number of logged interactions."},
        "leads_converted_from": {"type": "array", "description": "Leads this opportunity was converted from, if any."},
        "loss_reason_id": {"type": ["integer", "null"], "description": "Id of the loss reason when status is Lost, else null."},
        "monetary_unit": {"type": ["string", "null"], "description": "Currency code of monetary_value, e.g. USD."},
        "monetary_value": {"type": ["number", "null"], "description": "Opportunity value, or null when not set."},
        "pipeline_id": {"type": "integer", "description": "Pipeline id."},
        "pipeline_stage_id": {"type": "integer", "description": "Pipeline stage id."},
        "primary_contact_id": {"type": ["integer", "null"], "description": "Id of the primary contact person, or null."},
        "priority": {"type": "string", "enum": ["None", "Low", "Medium", "High"], "description": "Priority label."},
        "status": {"type": "string", "enum": ["Open", "Won", "Lost", "Abandoned"], "description": "Opportunity status label."},
        "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags as plain strings."},
        "win_probability": {"type": ["integer", "null"], "minimum": 0, "maximum": 100, "description": "Win probability in percent, 0-100."},
    });
    match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
