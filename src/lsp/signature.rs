//! Signature help inside a transform's arguments (`truncate(`, `format_date("%Y`, `lookup(`):
//! the transform's signature from the registry, its documentation, what each parameter must
//! be, and which one the cursor is on. The call comes from the checked tree when the item there
//! parses, else from the item being typed.

use lsp_types::{
    Documentation, ParameterInformation, ParameterLabel, Position, SignatureHelp,
    SignatureInformation,
};

use super::analysis::Analysis;
use super::position::to_offset;
use crate::syntax::find::call_around;
use crate::transforms::registry::{self, TransformDecl};

/// Signature help at `position`.
pub fn signature_help(analysis: &Analysis, position: Position) -> Option<SignatureHelp> {
    let offset = to_offset(&analysis.text, position);
    let checked = call_around(&analysis.output.ast, offset)
        .and_then(|(call, active)| help_for(&call.name.name, active));
    checked.or_else(|| {
        analysis.typing(offset, |typed, _| {
            let (call, active) = call_around(typed?, offset)?;
            help_for(&call.name.name, active)
        })
    })
}

fn help_for(name: &str, active: usize) -> Option<SignatureHelp> {
    let decl = registry::find(name)?;
    if decl.params.is_empty() {
        return None;
    }
    let active = u32::try_from(active.min(decl.params.len() - 1)).ok()?;
    Some(SignatureHelp {
        signatures: vec![information(decl)],
        active_signature: Some(0),
        active_parameter: Some(active),
    })
}

/// The signature with each parameter's place in its label (`truncate(length) : ...`).
fn information(decl: &TransformDecl) -> SignatureInformation {
    let label = decl.signature();
    let mut parameters = Vec::new();
    let mut from = decl.name.len() + 1;
    for param in decl.params {
        let start = label[from..].find(param.name).map_or(from, |i| from + i);
        let end = start + param.name.len();
        from = end;
        let units =
            |bytes: usize| u32::try_from(label[..bytes].encode_utf16().count()).unwrap_or(0);
        let optional = if param.optional { " (optional)" } else { "" };
        parameters.push(ParameterInformation {
            label: ParameterLabel::LabelOffsets([units(start), units(end)]),
            documentation: Some(Documentation::String(format!(
                "{}{optional}",
                param.kind.describe()
            ))),
        });
    }
    SignatureInformation {
        label,
        documentation: Some(Documentation::String(decl.doc.to_string())),
        parameters: Some(parameters),
        active_parameter: None,
    }
}
