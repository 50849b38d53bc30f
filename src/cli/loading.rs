//! Loading what a command runs: the mapping (its check errors printed) and the PSA's clients.

use std::path::{Path, PathBuf};

use crate::diag::render::{self, HumanStyle};
use crate::engine::{ClientDirectory, LoadError, LoadOptions, Mapping};
use crate::io::files::read_records;

/// Loads and checks a mapping and compiles it with the `--ref NAME=FILE` records joined. A
/// mapping with check errors is refused, its errors printed.
pub(super) fn load_mapping(
    path: &Path,
    refs: &[String],
    allow_new_clients: bool,
) -> Result<Mapping, String> {
    if let Some(hint) = super::hints::json_given_as_mapping(path) {
        return Err(hint);
    }
    let references = refs
        .iter()
        .map(|spec| {
            spec.split_once('=')
                .map(|(name, file)| (name.to_string(), PathBuf::from(file)))
                .ok_or_else(|| {
                    format!(
                        "`--ref {spec}` must be NAME=FILE, e.g. `--ref company=companies.ndjson`"
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let options = LoadOptions {
        references,
        allow_new_clients,
        validate_schemas: false,
    };
    Mapping::load(path, &options).map_err(|error| {
        if let LoadError::Invalid(invalid) = &error {
            let style = HumanStyle {
                color: super::ColorChoice::Auto.enabled_for_stderr(),
                width: 100,
            };
            eprint!(
                "{}",
                render::human(&invalid.sources, &invalid.errors, style)
            );
        }
        error.message()
    })
}

/// Loads the PSA's existing clients (`--clients FILE`).
pub(super) fn load_clients(path: &Path) -> Result<ClientDirectory, String> {
    ClientDirectory::new(&read_records(path)?).map_err(|e| format!("`{}`: {e}", path.display()))
}
