//! `match client NAME into TARGET`: the name must be text and the target a field that can hold
//! a client id (an integer or a string). The target counts as written (M303) and is claimed
//! (M302); the name's reads are forward reads (never-transfer applies). A name that may be absent
//! or blank when the deal is handed off is M215: such deals are rejected at the client match
//! (M504).

use super::context::Context;
use super::exprs::{Scope, input_description};
use super::program::ClientRule;
use super::writes::WritePass;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::ClientMatch;
use crate::value::Kinds;

impl WritePass<'_> {
    /// Checks the client match rule.
    pub(crate) fn client_match(
        &mut self,
        cx: &mut Context<'_>,
        rule: &ClientMatch,
        position: usize,
    ) -> Option<ClientRule> {
        let target = self.target_field(cx, &rule.target);
        let name = self.env.expr(cx, &rule.name, Scope::Forward(&self.written));
        let target = target?;
        let claimed = self.claim(cx, &target, rule.target.span, true);
        let (cexpr, info) = name?;
        self.forward_reads.extend(info.reads.iter().cloned());
        if !info.ty.kinds.intersects(Kinds::STRING) {
            cx.report(
                Diagnostic::new(
                    Code::M304,
                    rule.name.span,
                    format!(
                        "a client is matched by its name, but `{}` is {}",
                        input_description(&rule.name),
                        info.ty.kinds.a()
                    ),
                    "not text",
                )
                .with_help("match on the company name, e.g. `company.properties.name`"),
            );
            return None;
        }
        if info.may_be_absent || !info.ty.nonblank {
            let text = input_description(&rule.name);
            cx.report(
                Diagnostic::new(
                    Code::M215,
                    rule.name.span,
                    format!("`{text}` may be absent or blank; deals without a client name are rejected at the client match"),
                    "may be absent or blank when the deal is handed off",
                )
                .with_help(format!(
                    "require it where the deal is handed off: `{text} | nonblank` in the `require at stage` block"
                )),
            );
        }
        let id_kinds = Kinds::INT.or(Kinds::STRING);
        if !target.flat.kinds.intersects(id_kinds) {
            cx.report(
                Diagnostic::new(
                    Code::M304,
                    rule.target.span,
                    format!(
                        "`{}` is {}, but it receives a client id",
                        target.display,
                        target.flat.kinds.a()
                    ),
                    "cannot hold an id",
                )
                .with_help(
                    "write the matched id into an integer or string field, e.g. `job.against_id`",
                ),
            );
            return None;
        }
        claimed.then(|| ClientRule {
            name: cexpr,
            integer_id: !target.flat.kinds.intersects(Kinds::STRING),
            display: target.display.clone(),
            target: target.fields,
            origin: cx.origin(rule.span),
            position,
        })
    }
}
