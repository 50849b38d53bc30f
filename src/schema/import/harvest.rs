//! Harvest: the shipped write-side schemas (`POST /v2/projects`, `POST /v2/clients`); Harvest's
//! project and client model is fixed. For projects, an import adds the account's clients as
//! labels of `client_id` (docs/connectors/harvest.md, section 8), archived ones listed as
//! inactive. There is no enum: `match client` may create a client during a run.
//!
//! Clients page by cursor: give `--clients` once per page. A last page whose `links.next` is
//! set is refused, since the list would be cut short.

use serde_json::Value;

use super::input::expect_shape;
use super::psa::{Entry, base_schema, pages, put_entries, reference_property, stamp};
use super::{ImportError, Input, Node, Provenance};

/// The shipped create-project schema.
pub const PROJECT_CREATE: &str =
    include_str!("../../../mappings/schemas/harvest/project.create.schema.json");
/// The shipped create-client schema.
pub const CLIENT_CREATE: &str =
    include_str!("../../../mappings/schemas/harvest/client.create.schema.json");

/// The Harvest object a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// Projects: `POST /v2/projects`.
    Projects,
    /// Clients: `POST /v2/clients`.
    Clients,
}

/// The write-side schema of `object` (`base`, else the shipped one), with the account's
/// clients (the pages of `GET /v2/clients`) added for projects.
pub fn import(
    object: Object,
    base: Option<&Input>,
    clients: &[Input],
) -> Result<Value, ImportError> {
    let (builtin_name, builtin) = match object {
        Object::Projects => ("harvest/project.create.schema.json", PROJECT_CREATE),
        Object::Clients => ("harvest/client.create.schema.json", CLIENT_CREATE),
    };
    let (file, mut schema) = base_schema(base, builtin_name, builtin)?;
    let mut responses = Vec::new();
    if !clients.is_empty() {
        if object == Object::Clients {
            return Err(ImportError {
                file,
                pointer: String::new(),
                message: "the clients list is added to project schemas only: leave out \
                          `--clients` with `--object clients`"
                    .into(),
            });
        }
        check_last_page(clients)?;
        let mut entries = pages(clients, clients_of, client)?;
        let target = reference_property(&mut schema, &file, "client_id")?;
        put_entries(target, &mut entries, false, &clients[0].name)?;
        responses.push("GET /v2/clients");
    }
    let object = match object {
        Object::Projects => "projects",
        Object::Clients => "clients",
    };
    stamp(
        &mut schema,
        &Provenance {
            vendor: "harvest",
            object,
            responses,
        },
    );
    Ok(Value::Object(schema))
}

/// The `clients` of one page.
fn clients_of(input: &Input) -> Result<Vec<Node<'_>>, ImportError> {
    let root = expect_shape(
        input,
        "a Harvest clients response (`{\"clients\": [...]}` of GET /v2/clients)",
        |v| v.get("clients").is_some_and(Value::is_array),
    )?;
    root.list("clients")
}

/// Refuses a last page that says there is another.
fn check_last_page(pages: &[Input]) -> Result<(), ImportError> {
    let Some(last) = pages.last() else {
        return Ok(());
    };
    let root = last.root();
    if let Some(next) = root.get("links").and_then(|l| l.get("next")) {
        return Err(next.error(format!(
            "this page says there is another ({}): fetch it and give every page, each with its \
             own `--clients`",
            next.value()
        )));
    }
    Ok(())
}

fn client(node: &Node<'_>) -> Result<Entry, ImportError> {
    Ok(Entry {
        id: node.int_field("id")?,
        label: node.text("name")?.to_string(),
        active: node.opt_flag("is_active")?.unwrap_or(true),
    })
}
