//! Laws of `schema import` + `schema diff`, as property tests over the committed HubSpot
//! metadata samples: the import of unchanged metadata differs in nothing, and one edit of the
//! metadata (a property deleted, an option added, removed or relabelled, a stage relabelled or
//! moved to another pipeline) is reported as exactly that one change, at that field. A trigger
//! that names its stages by a label breaks (M709) exactly when a stage it named is relabelled.
//! And no JSON document, however shaped, makes an importer panic: it is imported or refused.

use proptest::prelude::*;
use serde_json::{Value, json};

use mapctl::diag::Code;
use mapctl::ops::drift::{self, Record};
use mapctl::schema::diff::{Change, ChangeKind, Diff, Step, Version, compare};
use mapctl::schema::import::{Input, accelo, copper, harvest, hubspot, render, zoho};
use mapctl::schema::{LoadContext, SchemaSet};
use mapctl::source::{SourceMap, Span};

fn sample(name: &str) -> Value {
    let path = format!("mappings/samples/vendor-api/hubspot/{name}");
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("JSON")
}

/// The schema text imported from these responses.
fn imported(properties: &Value, pipelines: &Value) -> String {
    let properties = Input::parse("properties.json", &properties.to_string()).expect("parses");
    let pipelines = Input::parse("pipelines.json", &pipelines.to_string()).expect("parses");
    render(
        &hubspot::import(hubspot::Object::Deals, &properties, Some(&pipelines)).expect("imports"),
    )
}

/// The changes from the schema `old` to the schema `new` (both texts).
fn changes(old: &str, new: &str) -> Vec<Change> {
    versions(old, new).changes
}

/// The changes from the schema `old` to the schema `new`, with their labelled values.
fn versions(old: &str, new: &str) -> Diff {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("old.json"), old).expect("write");
    std::fs::write(dir.path().join("new.json"), new).expect("write");
    let mut sources = SourceMap::new();
    let mut problems = Vec::new();
    let mut load = |name: &str, set: &mut SchemaSet, sources: &mut SourceMap| {
        let mut ctx = LoadContext {
            sources,
            diagnostics: &mut problems,
        };
        set.load_root(
            &mut ctx,
            dir.path(),
            name,
            Span::new(mapctl::source::FileId(0), 0, 0),
        )
        .expect("the schema loads")
    };
    let (mut old_set, mut new_set) = (SchemaSet::new(), SchemaSet::new());
    let old_root = load("old.json", &mut old_set, &mut sources);
    let new_root = load("new.json", &mut new_set, &mut sources);
    compare(
        &sources,
        Version {
            set: &old_set,
            root: old_root,
        },
        Version {
            set: &new_set,
            root: new_root,
        },
    )
}

fn field(name: &str) -> Vec<Step> {
    vec![Step::Field("properties".into()), Step::Field(name.into())]
}

/// Indexes of the properties with at least two options (other than stage and pipeline, which
/// the pipelines response types).
fn with_options(properties: &Value) -> Vec<usize> {
    let listed = properties["results"].as_array().expect("results");
    (0..listed.len())
        .filter(|&i| {
            let p = &listed[i];
            !matches!(p["name"].as_str(), Some("dealstage" | "pipeline"))
                && p["options"].as_array().is_some_and(|o| o.len() >= 2)
        })
        .collect()
}

#[test]
fn unchanged_metadata_has_no_changes() {
    let schema = imported(
        &sample("deal_properties.json"),
        &sample("pipelines_deals.json"),
    );
    assert_eq!(changes(&schema, &schema), Vec::new());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn a_deleted_property_is_one_removal(pick in any::<prop::sample::Index>()) {
        let (properties, pipelines) = (sample("deal_properties.json"), sample("pipelines_deals.json"));
        let listed = properties["results"].as_array().unwrap();
        let index = pick.index(listed.len());
        let name = listed[index]["name"].as_str().unwrap().to_string();
        prop_assume!(name != "dealstage" && name != "pipeline" && name != "dealname");
        let mut edited = properties.clone();
        edited["results"].as_array_mut().unwrap().remove(index);
        let found = changes(&imported(&properties, &pipelines), &imported(&edited, &pipelines));
        prop_assert_eq!(found.len(), 1, "{:?}", found);
        prop_assert_eq!(&found[0].path, &field(&name));
        prop_assert_eq!(&found[0].kind, &ChangeKind::Removed);
    }

    #[test]
    fn an_option_edit_is_one_value_change(pick in any::<prop::sample::Index>(), option in any::<prop::sample::Index>(), edit in 0..3u8) {
        let (properties, pipelines) = (sample("deal_properties.json"), sample("pipelines_deals.json"));
        let candidates = with_options(&properties);
        let index = candidates[pick.index(candidates.len())];
        let mut edited = properties.clone();
        let property = &mut edited["results"][index];
        let name = property["name"].as_str().unwrap().to_string();
        let options = property["options"].as_array_mut().unwrap();
        let at = option.index(options.len());
        let value = options[at]["value"].clone();
        let expected = match edit {
            0 => {
                options.push(json!({"label": "Brand new", "value": "brand_new", "displayOrder": 99, "hidden": false}));
                ChangeKind::ValueAdded { value: json!("brand_new"), label: Some("Brand new".into()) }
            }
            1 => {
                let removed = options.remove(at);
                ChangeKind::ValueRemoved { value, label: removed["label"].as_str().map(str::to_string) }
            }
            _ => {
                let old = options[at]["label"].as_str().unwrap().to_string();
                options[at]["label"] = json!("Renamed in the CRM");
                ChangeKind::Relabelled { value, old, new: "Renamed in the CRM".into() }
            }
        };
        let found = changes(&imported(&properties, &pipelines), &imported(&edited, &pipelines));
        prop_assert_eq!(found.len(), 1, "{:?}", found);
        prop_assert_eq!(&found[0].path, &field(&name));
        prop_assert_eq!(&found[0].kind, &expected);
    }

    #[test]
    fn a_stage_edit_is_one_stage_change(pipeline in 0..2usize, stage in any::<prop::sample::Index>(), moved in any::<bool>()) {
        let (properties, pipelines) = (sample("deal_properties.json"), sample("pipelines_deals.json"));
        let mut edited = pipelines.clone();
        let stages = edited["results"][pipeline]["stages"].as_array_mut().unwrap();
        let at = stage.index(stages.len());
        let id = stages[at]["id"].clone();
        let ids = |p: usize| vec![pipelines["results"][p]["id"].as_str().unwrap().to_string()];
        let expected = if moved {
            let taken = stages.remove(at);
            edited["results"][1 - pipeline]["stages"].as_array_mut().unwrap().push(taken);
            ChangeKind::StageMoved { value: id, old: ids(pipeline), new: ids(1 - pipeline) }
        } else {
            let old = stages[at]["label"].as_str().unwrap().to_string();
            stages[at]["label"] = json!("Renamed stage");
            ChangeKind::Relabelled { value: id, old, new: "Renamed stage".into() }
        };
        let found = changes(&imported(&properties, &pipelines), &imported(&properties, &edited));
        prop_assert_eq!(found.len(), 1, "{:?}", found);
        prop_assert_eq!(&found[0].path, &field("dealstage"));
        prop_assert_eq!(&found[0].kind, &expected);
    }
}

/// The codes `schema diff --mapping` reports for a mapping whose trigger is `trigger`.
fn drift_codes(trigger: &str, diff: &Diff) -> Vec<Code> {
    let text = format!(
        "mapping m\nsource deal = schema \"deal.json\"\ntarget job = schema \"job.json\"\ntrigger when {trigger}\n"
    );
    let file = mapctl::source::FileId(0);
    let (ast, problems) = mapctl::syntax::parse(&text, file, &mapctl::syntax::Limits::default());
    assert!(problems.is_empty(), "{problems:?}");
    let record = Record {
        ast: &ast,
        name: "deal",
        is_target: false,
        declared: Span::new(file, 0, 0),
    };
    drift::diagnostics(&record, diff)
        .into_iter()
        .map(|d| d.code)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn a_relabelled_stage_breaks_exactly_the_labels_that_named_it(named in any::<prop::sample::Index>(), pipeline in 0..2usize, stage in any::<prop::sample::Index>()) {
        let (properties, pipelines) = (sample("deal_properties.json"), sample("pipelines_deals.json"));
        let all: Vec<&Value> = pipelines["results"].as_array().unwrap().iter().flat_map(|p| p["stages"].as_array().unwrap()).collect();
        let label = all[named.index(all.len())]["label"].as_str().unwrap().to_string();
        let mut edited = pipelines.clone();
        let stages = edited["results"][pipeline]["stages"].as_array_mut().unwrap();
        let at = stage.index(stages.len());
        let was_named = stages[at]["label"] == json!(label);
        stages[at]["label"] = json!("Renamed stage");
        let diff = versions(&imported(&properties, &pipelines), &imported(&properties, &edited));
        let trigger = format!("deal.properties.dealstage == {}", json!(label));
        let expected = if was_named { vec![Code::M709] } else { Vec::new() };
        prop_assert_eq!(drift_codes(&trigger, &diff), expected);
    }
}

/// Any JSON value, a few levels deep, with the member names importers look for.
fn any_json() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "results",
        "name",
        "label",
        "type",
        "fieldType",
        "options",
        "value",
        "stages",
        "id",
        "fields",
        "api_name",
        "data_type",
        "pick_list_values",
        "actual_value",
        "pipeline",
        "maps",
        "meta",
        "status",
        "response",
        "title",
        "standing",
        "start",
        "clients",
        "links",
        "next",
        "available_on",
        "properties",
        "json_type",
        "layouts",
        "sections",
        "required",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z0-9 ]{0,6}".prop_map(Value::from),
        Just(json!("opportunity")),
        Just(json!("ok")),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((names.clone(), inner), 0..6).prop_map(|members| Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn importers_never_panic(first in any_json(), second in any_json()) {
        let a = Input::parse("a.json", &first.to_string()).expect("JSON text parses");
        let b = Input::parse("b.json", &second.to_string()).expect("JSON text parses");
        let _ = hubspot::import(hubspot::Object::Deals, &a, Some(&b));
        let _ = hubspot::import(hubspot::Object::Companies, &a, None);
        let _ = zoho::import(&a, Some(&b), Some(&b));
        let _ = copper::import(&a, Some(&b));
        let references = accelo::References { job_types: vec![a.clone()], statuses: vec![b.clone()], staff: vec![a.clone()], profile_fields: vec![b.clone()], companies: vec![a.clone()] };
        let _ = accelo::import(accelo::Object::Jobs, None, &references);
        let _ = accelo::import(accelo::Object::Jobs, Some(&a), &accelo::References::default());
        let _ = harvest::import(harvest::Object::Projects, Some(&b), std::slice::from_ref(&a));
    }
}
