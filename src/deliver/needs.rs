//! What a mapping needs from a CRM connector, worked out from the checked program and handed to
//! the connector as plain data ([`Needs`]): connectors sit below the engine, so the runtime asks
//! the program which fields it reads (a connector fetches those and no others), which stage
//! values its trigger fires on (a connector searches for those), where the deal's associated
//! company goes in a bundle, and which fields `sync back` writes (a connector patches only those).

use crate::check::program::{Program, RecordRef};
use crate::connect::Needs;
use crate::engine::Mapping;
use crate::value::path::PathStep;

/// What `mapping` needs from the source that feeds it.
pub fn needs(mapping: &Mapping) -> Needs {
    let program = mapping.program();
    let company = company_record(program);
    let mut deal_paths = Vec::new();
    let mut company_paths = Vec::new();
    let mut visit = |record: RecordRef, steps: &Vec<PathStep>| match record {
        RecordRef::Source(0) => push_unique(&mut deal_paths, steps),
        RecordRef::Source(index) if Some(index) == company => {
            push_unique(&mut company_paths, steps)
        }
        _ => {}
    };
    program.for_each_read(&mut |path| visit(path.record, &path.steps));
    for join in program.sources.iter().filter_map(|s| s.join.as_ref()) {
        visit(join.key.record, &join.key.steps);
    }
    Needs {
        primary: program.sources[0].name.clone(),
        company: company.map(|index| program.sources[index].name.clone()),
        deal_paths,
        company_paths,
        stage_path: program
            .stage_path
            .as_ref()
            .filter(|p| p.record == RecordRef::Source(0))
            .map(|p| p.steps.clone()),
        stages: program.trigger_stages.clone(),
        sync_paths: program.sync_back.iter().map(|w| w.target.clone()).collect(),
    }
}

fn push_unique(paths: &mut Vec<Vec<PathStep>>, steps: &[PathStep]) {
    if !paths.iter().any(|p| p == steps) {
        paths.push(steps.to_vec());
    }
}

/// The source record that is the deal's associated company: one joined on a path through the
/// deal's `associations`, else one named `company`.
fn company_record(program: &Program) -> Option<usize> {
    let through_associations = program.sources.iter().position(|source| {
        source.join.as_ref().is_some_and(|join| {
            join.equals.record == RecordRef::Source(0)
                && join.equals.steps.first() == Some(&PathStep::Field("associations".into()))
        })
    });
    through_associations
        .or_else(|| program.sources.iter().position(|s| s.name == "company"))
        .filter(|&index| index > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LoadOptions;

    #[test]
    fn the_shipped_hubspot_mapping_needs_its_read_fields_and_no_others() {
        let mapping = Mapping::load(
            "mappings/hubspot_to_accelo.map".as_ref(),
            &LoadOptions::default(),
        )
        .unwrap();
        let needs = needs(&mapping);
        assert_eq!(needs.primary, "deal");
        assert_eq!(needs.company.as_deref(), Some("company"));
        assert_eq!(needs.stages, ["closedwon"]);
        let field = |name: &str| {
            vec![
                PathStep::Field("properties".into()),
                PathStep::Field(name.into()),
            ]
        };
        assert!(needs.deal_paths.contains(&field("amount")));
        assert!(needs.deal_paths.contains(&field("service_line")));
        assert!(
            !needs.deal_paths.contains(&field("billing_preferences")),
            "never transfer is not read"
        );
        assert!(needs.company_paths.contains(&field("name")));
        assert!(
            needs
                .company_paths
                .contains(&vec![PathStep::Field("id".into())])
        );
        assert_eq!(needs.stage_path, Some(field("dealstage")));
        assert!(needs.sync_paths.contains(&field("project_status")));
    }
}
