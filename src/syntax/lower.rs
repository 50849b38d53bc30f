//! Lowering pest parse trees into the AST. Decodes string escapes and numbers; reports M102/M103.

use pest::iterators::Pair;

use super::ast::*;
use super::parser::{Rule, to_span};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Converts parse trees of one file into AST nodes, collecting diagnostics.
pub(crate) struct Lowerer {
    file: FileId,
    base: usize,
    /// Problems found while lowering (bad escapes, numbers out of range) and syntax errors.
    pub diagnostics: Vec<Diagnostic>,
}

type P<'a> = Pair<'a, Rule>;

/// The children of a pair without keywords and punctuation.
fn inner(pair: P<'_>) -> impl Iterator<Item = P<'_>> {
    pair.into_inner().filter(|p| !is_token(p.as_rule()))
}

/// Keywords and punctuation: present in the parse tree, meaningless in the AST.
fn is_token(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_mapping
            | Rule::kw_source
            | Rule::kw_target
            | Rule::kw_schema
            | Rule::kw_join
            | Rule::kw_on
            | Rule::kw_trigger
            | Rule::kw_when
            | Rule::kw_require
            | Rule::kw_at
            | Rule::kw_stage
            | Rule::kw_never
            | Rule::kw_transfer
            | Rule::kw_table
            | Rule::kw_file
            | Rule::kw_map
            | Rule::kw_select
            | Rule::kw_otherwise
            | Rule::kw_sync
            | Rule::kw_back
            | Rule::kw_checklist
            | Rule::kw_let
            | Rule::kw_owner
            | Rule::kw_psa
            | Rule::kw_crm
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_not
            | Rule::kw_in
            | Rule::kw_matches
            | Rule::kw_true
            | Rule::kw_false
            | Rule::kw_match
            | Rule::kw_into
            | Rule::kw_null
            | Rule::p_assign
            | Rule::p_arrow
            | Rule::p_eq
            | Rule::p_coalesce
            | Rule::p_pipe
            | Rule::p_comma
            | Rule::p_dot
            | Rule::p_open_brace
            | Rule::p_close_brace
            | Rule::p_open_paren
            | Rule::p_close_paren
            | Rule::p_open_bracket
            | Rule::p_close_bracket
            | Rule::w_client
    )
}

impl Lowerer {
    /// A lowerer for `file`.
    pub fn new(file: FileId) -> Lowerer {
        Lowerer {
            file,
            base: 0,
            diagnostics: Vec::new(),
        }
    }

    fn span(&self, pair: &P<'_>) -> Span {
        to_span(self.file, self.base, pair)
    }

    /// Lowers one top-level item parsed from the text starting at byte `base`.
    pub fn item(&mut self, pair: P<'_>, base: usize) -> Option<Item> {
        self.base = base;
        let span = self.span(&pair);
        let item = match pair.as_rule() {
            Rule::header => Item::Header(self.ident(inner(pair).next()?)),
            Rule::source_decl => Item::Source(self.record(pair, span)?),
            Rule::target_decl => Item::Target(self.record(pair, span)?),
            Rule::trigger_decl => Item::Trigger(Trigger {
                condition: self.condition(inner(pair).next()?)?,
                span,
            }),
            Rule::require_block => Item::Require(self.require_block(pair, span)?),
            Rule::never_block => Item::NeverTransfer(NeverBlock {
                paths: inner(pair).filter_map(|p| self.path(p)).collect(),
                span,
            }),
            Rule::table_decl => Item::Table(self.table(pair, span)?),
            Rule::map_block => Item::Map(MapBlock {
                assignments: inner(pair).filter_map(|p| self.assignment(p)).collect(),
                span,
            }),
            Rule::select_block => Item::Select(self.select(pair, span)?),
            Rule::sync_block => Item::SyncBack(SyncBlock {
                assignments: inner(pair).filter_map(|p| self.assignment(p)).collect(),
                span,
            }),
            Rule::client_match => {
                let mut parts = inner(pair).filter(|p| p.as_rule() != Rule::w_client);
                let name = self.expr(parts.next()?)?;
                let target = self.path(parts.next()?)?;
                Item::ClientMatch(ClientMatch { name, target, span })
            }
            Rule::let_decl => {
                let mut parts = inner(pair);
                let name = self.ident(parts.next()?);
                let value = self.expr(parts.next()?)?;
                Item::Let(LetDecl { name, value, span })
            }
            Rule::checklist_block => Item::Checklist(ChecklistBlock {
                items: inner(pair).map(|p| self.string(p)).collect(),
                span,
            }),
            _ => return None,
        };
        Some(item)
    }

    fn ident(&self, pair: P<'_>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn record(&mut self, pair: P<'_>, span: Span) -> Option<RecordDecl> {
        let mut parts = inner(pair);
        let name = self.ident(parts.next()?);
        let schema = self.string(parts.next()?);
        let mut envelope = None;
        let mut join = None;
        for part in parts {
            match part.as_rule() {
                Rule::envelope_clause => envelope = inner(part).next().map(|s| self.string(s)),
                _ => join = self.join(part),
            }
        }
        Some(RecordDecl {
            name,
            schema,
            envelope,
            join,
            span,
        })
    }

    fn join(&mut self, pair: P<'_>) -> Option<Join> {
        let span = self.span(&pair);
        let mut parts = inner(pair);
        let key = self.path(parts.next()?)?;
        let equals = self.path(parts.next()?)?;
        Some(Join { key, equals, span })
    }

    fn require_block(&mut self, pair: P<'_>, span: Span) -> Option<RequireBlock> {
        let mut parts = inner(pair);
        let stage = self.string(parts.next()?);
        let rules = parts
            .filter_map(|rule| {
                let span = self.span(&rule);
                let mut rule_parts = inner(rule);
                let condition = self.condition(rule_parts.next()?)?;
                let message = rule_parts.next().map(|m| self.string(m));
                Some(RequireRule {
                    condition,
                    message,
                    span,
                })
            })
            .collect();
        Some(RequireBlock { stage, rules, span })
    }

    fn table(&mut self, pair: P<'_>, span: Span) -> Option<TableDecl> {
        let mut parts = inner(pair);
        let name = self.ident(parts.next()?);
        let body_pair = parts.next()?;
        let body = match body_pair.as_rule() {
            Rule::table_file => TableBody::File(self.string(inner(body_pair).next()?)),
            _ => TableBody::Inline(inner(body_pair).filter_map(|r| self.table_row(r)).collect()),
        };
        Some(TableDecl { name, body, span })
    }

    fn table_row(&mut self, pair: P<'_>) -> Option<TableRow> {
        let span = self.span(&pair);
        let mut literals: Vec<Literal> = Vec::new();
        for part in inner(pair) {
            if part.as_rule() != Rule::wildcard {
                literals.push(self.literal(part)?);
            }
        }
        let value = literals.pop()?;
        Some(TableRow {
            keys: literals,
            value,
            span,
        })
    }

    fn assignment(&mut self, pair: P<'_>) -> Option<Assignment> {
        let span = self.span(&pair);
        let mut parts = inner(pair);
        let target = self.path(parts.next()?)?;
        let value = self.expr(parts.next()?)?;
        let owner = parts.next().and_then(|clause| {
            let name = inner(clause).next()?;
            Some(self.ident(name.into_inner().next()?))
        });
        Some(Assignment {
            target,
            value,
            owner,
            span,
        })
    }

    fn select(&mut self, pair: P<'_>, span: Span) -> Option<SelectBlock> {
        let mut parts = inner(pair);
        let target = self.path(parts.next()?)?;
        let mut arms = Vec::new();
        let mut otherwise = None;
        for part in parts {
            let arm_span = self.span(&part);
            match part.as_rule() {
                Rule::when_arm => {
                    let mut pieces = inner(part);
                    let condition = self.condition(pieces.next()?)?;
                    let value = self.expr(pieces.next()?)?;
                    arms.push(WhenArm {
                        condition,
                        value,
                        span: arm_span,
                    });
                }
                _ => {
                    let value = self.expr(inner(part).next()?)?;
                    otherwise = Some(Otherwise {
                        value,
                        span: arm_span,
                    });
                }
            }
        }
        Some(SelectBlock {
            target,
            arms,
            otherwise,
            span,
        })
    }

    fn condition(&mut self, pair: P<'_>) -> Option<Cond> {
        // Spans are taken only for the nodes that are kept: a rule with a single child is
        // replaced by it (taking every level's span made lowering quadratic in the depth).
        match pair.as_rule() {
            Rule::condition => self.condition(inner(pair).next()?),
            Rule::disjunction | Rule::conjunction => {
                let make = if pair.as_rule() == Rule::disjunction {
                    CondKind::Or
                } else {
                    CondKind::And
                };
                let whole = pair.clone();
                let mut parts: Vec<Cond> = Vec::new();
                for part in inner(pair) {
                    parts.push(self.condition(part)?);
                }
                Some(single_or(parts, || self.span(&whole), make))
            }
            Rule::negation => {
                let negated = pair
                    .clone()
                    .into_inner()
                    .any(|p| p.as_rule() == Rule::kw_not);
                let span = negated.then(|| self.span(&pair));
                let operand = self.condition(inner(pair).next()?)?;
                match span {
                    Some(span) => Some(Cond {
                        kind: CondKind::Not(Box::new(operand)),
                        span,
                    }),
                    None => Some(operand),
                }
            }
            Rule::test => {
                let span = self.span(&pair);
                self.test(pair, span)
            }
            _ => None,
        }
    }

    fn test(&mut self, pair: P<'_>, span: Span) -> Option<Cond> {
        let mut parts = inner(pair);
        let value = self.expr(parts.next()?)?;
        let Some(operator) = parts.next() else {
            return Some(Cond {
                kind: CondKind::Present(value),
                span,
            });
        };
        let kind = match operator.as_rule() {
            Rule::compare_op => {
                let op_span = self.span(&operator);
                let op = match operator.into_inner().next()?.as_rule() {
                    Rule::op_eq => CompareOp::Eq,
                    Rule::op_ne => CompareOp::Ne,
                    Rule::op_ge => CompareOp::Ge,
                    Rule::op_le => CompareOp::Le,
                    Rule::op_gt => CompareOp::Gt,
                    _ => CompareOp::Lt,
                };
                let right = self.expr(parts.next()?)?;
                CondKind::Compare {
                    left: value,
                    op,
                    op_span,
                    right,
                }
            }
            Rule::literal_list => {
                let mut list = Vec::new();
                for literal in inner(operator) {
                    list.push(self.literal(literal)?);
                }
                CondKind::In { value, list }
            }
            _ => CondKind::Matches {
                value,
                pattern: self.string(operator),
            },
        };
        Some(Cond { kind, span })
    }

    fn expr(&mut self, pair: P<'_>) -> Option<Expr> {
        let whole = pair.clone();
        match pair.as_rule() {
            Rule::expr => {
                let mut alternatives: Vec<Expr> = Vec::new();
                for part in inner(pair) {
                    // `(a ?? b) ?? c` is `a ?? b ?? c`.
                    match self.expr(part)? {
                        Expr {
                            kind: ExprKind::Coalesce(inner),
                            ..
                        } => alternatives.extend(inner),
                        single => alternatives.push(single),
                    }
                }
                if alternatives.len() == 1 {
                    alternatives.pop()
                } else {
                    Some(Expr {
                        kind: ExprKind::Coalesce(alternatives),
                        span: self.span(&whole),
                    })
                }
            }
            Rule::sum | Rule::product => self.arithmetic(pair),
            Rule::group => self.expr(inner(pair).next()?),
            Rule::pipeline => {
                let mut parts = inner(pair);
                let input = self.expr(parts.next()?)?;
                // `(a | x) | y` is the pipeline `a | x | y`.
                let (input, mut calls) = match input.kind {
                    ExprKind::Pipeline { input, calls } => (*input, calls),
                    _ => (input, Vec::new()),
                };
                for call in parts {
                    calls.push(self.call(call)?);
                }
                if calls.is_empty() {
                    Some(input)
                } else {
                    Some(Expr {
                        kind: ExprKind::Pipeline {
                            input: Box::new(input),
                            calls,
                        },
                        span: self.span(&whole),
                    })
                }
            }
            Rule::path => Some(Expr {
                span: self.span(&whole),
                kind: ExprKind::Path(self.path(pair)?),
            }),
            Rule::template => {
                let span = self.span(&whole);
                Some(self.template(pair, span))
            }
            _ => Some(Expr {
                span: self.span(&whole),
                kind: ExprKind::Literal(self.literal(pair)?),
            }),
        }
    }

    /// A `sum` or `product`: operands joined left to right (`a - b - c` is `(a - b) - c`). A
    /// transform after any operand but the first is M113: `a * b | round(2)` reads as rounding
    /// the product but would round `b` alone, so it must be written with parentheses.
    fn arithmetic(&mut self, pair: P<'_>) -> Option<Expr> {
        let whole = pair.as_str();
        let start = pair.as_span().start();
        let mut parts = inner(pair);
        let first = parts.next()?;
        let mut left_end = first.as_span().end();
        let mut left = self.expr(first)?;
        while let (Some(op), Some(operand)) = (parts.next(), parts.next()) {
            let left_text = whole[..left_end - start].trim().to_string();
            left_end = operand.as_span().end();
            let op_span = self.span(&op);
            let op = match op.into_inner().next().map(|p| p.as_rule()) {
                Some(Rule::op_plus) => ArithOp::Add,
                Some(Rule::op_minus) => ArithOp::Sub,
                Some(Rule::op_times) => ArithOp::Mul,
                _ => ArithOp::Div,
            };
            self.no_trailing_transform(&operand, &left_text, op);
            let right = self.expr(operand)?;
            let span = left.span.to(right.span);
            left = Expr {
                kind: ExprKind::Arith {
                    op,
                    op_span,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                span,
            };
        }
        Some(left)
    }

    /// M113 when the operand after an operator (or, in a sum, the first factor of a product
    /// after one) ends in transforms outside parentheses. The expression is still lowered as it
    /// parses, so that the rest of the item is checked and the editor can offer the fix.
    fn no_trailing_transform(&mut self, operand: &P<'_>, left_text: &str, op: ArithOp) {
        let pipeline = match operand.as_rule() {
            Rule::product => inner(operand.clone()).next(),
            _ => Some(operand.clone()),
        };
        let Some(pipeline) = pipeline else {
            return;
        };
        let mut pieces = inner(pipeline.clone());
        let Some(value) = pieces.next() else {
            return;
        };
        let Some(first_call) = pieces.next() else {
            return;
        };
        let value_text = value.as_str().trim();
        let calls_text =
            pipeline.as_str()[first_call.as_span().start() - pipeline.as_span().start()..].trim();
        self.diagnostics.push(
            Diagnostic::new(
                Code::M113,
                self.span(&pipeline),
                format!("`| {calls_text}` after `{}` applies to `{value_text}` alone", op.as_str()),
                "transforms only this operand",
            )
            .with_help(format!(
                "write `({left_text} {op} {value_text}) | {calls_text}` to transform the result, or `{left_text} {op} ({value_text} | {calls_text})` to transform only `{value_text}`",
                op = op.as_str()
            )),
        );
    }

    fn template(&mut self, pair: P<'_>, span: Span) -> Expr {
        let mut parts = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::template_text => {
                    let text = self.decode(part.as_str(), self.span(&part));
                    parts.push(TemplatePart::Text(text));
                }
                Rule::interpolation => {
                    if let Some(expr) = inner(part).next().and_then(|e| self.expr(e)) {
                        parts.push(TemplatePart::Expr(expr));
                    }
                }
                _ => {}
            }
        }
        let kind = match parts.as_slice() {
            [] => ExprKind::Literal(Literal {
                kind: LitKind::Str(String::new()),
                span,
            }),
            [TemplatePart::Text(text)] => ExprKind::Literal(Literal {
                kind: LitKind::Str(text.clone()),
                span,
            }),
            _ => ExprKind::Template(parts),
        };
        Expr { kind, span }
    }

    /// Lowers a `call` pair parsed on its own.
    pub fn call_pair(&mut self, pair: P<'_>) -> Option<Call> {
        self.call(pair)
    }

    fn call(&mut self, pair: P<'_>) -> Option<Call> {
        let span = self.span(&pair);
        let mut parts = inner(pair);
        let name = self.ident(parts.next()?);
        let mut args = Vec::new();
        for arg in parts {
            if arg.as_rule() == Rule::name || arg.as_rule() == Rule::transform_name {
                args.push(Arg::Name(self.ident(arg)));
            } else if arg.as_rule() == Rule::path {
                let span = self.span(&arg);
                let path = self.path(arg)?;
                args.push(if path.segments.is_empty() {
                    Arg::Name(path.root)
                } else {
                    Arg::Value(Expr {
                        kind: ExprKind::Path(path),
                        span,
                    })
                });
            } else {
                args.push(Arg::Literal(self.literal(arg)?));
            }
        }
        Some(Call { name, args, span })
    }

    fn path(&mut self, pair: P<'_>) -> Option<Path> {
        let span = self.span(&pair);
        let mut parts = inner(pair);
        let root = self.ident(parts.next()?);
        let mut segments = Vec::new();
        for part in parts {
            let segment_span = self.span(&part);
            let kind = match part.as_rule() {
                Rule::field_name => SegmentKind::Field(part.as_str().to_string()),
                Rule::string => SegmentKind::Field(self.string(part).value),
                Rule::index => match part.as_str().parse::<usize>() {
                    Ok(i) => SegmentKind::Index(i),
                    Err(_) => {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::M103,
                                segment_span,
                                "array index is too large",
                                "index out of range",
                            )
                            .with_help("use an index below 2^64"),
                        );
                        return None;
                    }
                },
                _ => {
                    let mut pieces = inner(part).filter(|p| p.as_rule() != Rule::op_eq);
                    let key_pair = pieces.next()?;
                    let key_span = self.span(&key_pair);
                    let key = if key_pair.as_rule() == Rule::string {
                        self.string(key_pair).value
                    } else {
                        key_pair.as_str().to_string()
                    };
                    let value = self.literal(pieces.next()?)?;
                    SegmentKind::Search {
                        key,
                        key_span,
                        value,
                    }
                }
            };
            segments.push(Segment {
                kind,
                span: segment_span,
            });
        }
        Some(Path {
            root,
            segments,
            span,
        })
    }

    fn literal(&mut self, pair: P<'_>) -> Option<Literal> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::string => LitKind::Str(self.string(pair).value),
            Rule::template => {
                let text = pair.as_str();
                let inner_text = &text[1..text.len() - 1];
                LitKind::Str(self.decode(inner_text, span))
            }
            Rule::boolean => LitKind::Bool(pair.as_str() == "true"),
            Rule::null => LitKind::Null,
            Rule::number => LitKind::Num(self.number(pair.as_str(), span)?),
            _ => return None,
        };
        Some(Literal { kind, span })
    }

    /// A number literal, exactly as written (`12345678901234567890123` keeps every digit). One
    /// beyond the range of a 64-bit float (about ±1.8e308) is M103: the systems a record is sent
    /// to read JSON numbers as floats, and would see infinity.
    fn number(&mut self, text: &str, span: Span) -> Option<serde_json::Number> {
        if let Ok(i) = text.parse::<i64>() {
            return Some(i.into());
        }
        let finite = text.parse::<f64>().is_ok_and(f64::is_finite);
        // JSON's form of the literal (the grammar allows leading zeros, `007`; JSON does not).
        match crate::value::number::parse_loose(text) {
            Some(number) if finite => Some(number),
            _ => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::M103,
                        span,
                        format!("number `{text}` is out of range"),
                        "cannot be represented",
                    )
                    .with_help("numbers must fit a 64-bit float (about ±1.8e308)"),
                );
                None
            }
        }
    }

    fn string(&mut self, pair: P<'_>) -> StrLit {
        let span = self.span(&pair);
        let raw = pair.as_str();
        let body = raw
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(raw);
        let value = self.decode(body, Span::new(self.file, span.start + 1, span.end - 1));
        StrLit { value, span }
    }

    /// Decodes backslash escapes in `raw`, which starts at `span.start`.
    fn decode(&mut self, raw: &str, span: Span) -> String {
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, escaped)) = chars.next() else {
                break;
            };
            let decoded = match escaped {
                'n' => Some('\n'),
                't' => Some('\t'),
                'r' => Some('\r'),
                '"' => Some('"'),
                '\\' => Some('\\'),
                '/' => Some('/'),
                '{' => Some('{'),
                '}' => Some('}'),
                'u' => {
                    let hex: String = raw[i + 2..].chars().take(4).collect();
                    for _ in 0..hex.len() {
                        chars.next();
                    }
                    u32::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == 4)
                        .and_then(char::from_u32)
                }
                _ => None,
            };
            match decoded {
                Some(ch) => out.push(ch),
                None => {
                    let end = chars.peek().map_or(raw.len(), |(j, _)| *j);
                    let at = Span::new(self.file, span.start + i, span.start + end);
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::M102,
                            at,
                            format!("invalid escape sequence `{}`", &raw[i..end]),
                            "not a valid escape",
                        )
                        .with_help(
                            "valid escapes are \\n \\t \\r \\\" \\\\ \\/ \\{ \\} and \\uXXXX (not a surrogate)",
                        ),
                    );
                }
            }
        }
        out
    }
}

fn single_or(
    mut parts: Vec<Cond>,
    span: impl FnOnce() -> Span,
    make: fn(Vec<Cond>) -> CondKind,
) -> Cond {
    if parts.len() == 1 {
        parts.pop().unwrap_or_else(|| unreachable!("one element"))
    } else {
        Cond {
            kind: make(parts),
            span: span(),
        }
    }
}
