//! The outline (`textDocument/documentSymbol`) and folding ranges, from the syntax tree: each
//! item is a symbol (records, the trigger, require blocks with their rules, tables, map blocks
//! with one child per rule, selects with their branches, sync back, the checklist), and each
//! item written over several lines folds, as do runs of comment lines.

use lsp_types::{DocumentSymbol, FoldingRange, FoldingRangeKind, SymbolKind};

use super::analysis::Analysis;
use super::position::Lines;
use crate::source::Span;
use crate::syntax::ast::{Assignment, Item, TableBody};

/// Longest detail shown for a symbol, in characters.
const DETAIL_CHARS: usize = 80;

/// The document's outline.
pub fn outline(analysis: &Analysis) -> Vec<DocumentSymbol> {
    let outline = Outline {
        analysis,
        lines: Lines::new(&analysis.text),
    };
    analysis
        .output
        .ast
        .items
        .iter()
        .map(|item| item_symbol(&outline, item))
        .collect()
}

/// The document and its line index.
struct Outline<'a> {
    analysis: &'a Analysis,
    lines: Lines<'a>,
}

fn item_symbol(analysis: &Outline<'_>, item: &Item) -> DocumentSymbol {
    let text = |span: Span| shown(analysis, span);
    let whole = item.span();
    match item {
        Item::Header(name) => symbol(analysis, &name.name, None, SymbolKind::MODULE, whole, whole),
        Item::Source(record) | Item::Target(record) => {
            let role = if matches!(item, Item::Source(_)) {
                "source"
            } else {
                "target"
            };
            let detail = format!("{role} · schema {}", text(record.schema.span));
            symbol(
                analysis,
                &record.name.name,
                Some(detail),
                SymbolKind::STRUCT,
                whole,
                record.name.span,
            )
        }
        Item::Trigger(trigger) => {
            let detail = text(trigger.condition.span);
            symbol(
                analysis,
                "trigger",
                Some(detail),
                SymbolKind::EVENT,
                whole,
                whole,
            )
        }
        Item::Require(block) => {
            let name = format!("require at stage {}", text(block.stage.span));
            let mut parent = symbol(
                analysis,
                &name,
                None,
                SymbolKind::NAMESPACE,
                whole,
                block.stage.span,
            );
            parent.children = Some(
                block
                    .rules
                    .iter()
                    .map(|rule| {
                        let detail = rule.message.as_ref().map(|m| m.value.clone());
                        let name = text(rule.condition.span);
                        symbol(
                            analysis,
                            &name,
                            detail,
                            SymbolKind::BOOLEAN,
                            rule.span,
                            rule.condition.span,
                        )
                    })
                    .collect(),
            );
            parent
        }
        Item::NeverTransfer(block) => {
            let mut parent = symbol(
                analysis,
                "never transfer",
                None,
                SymbolKind::ARRAY,
                whole,
                whole,
            );
            parent.children = Some(
                block
                    .paths
                    .iter()
                    .map(|p| {
                        symbol(
                            analysis,
                            &p.display(),
                            None,
                            SymbolKind::FIELD,
                            p.span,
                            p.span,
                        )
                    })
                    .collect(),
            );
            parent
        }
        Item::Table(table) => {
            let detail = match &table.body {
                TableBody::Inline(rows) => format!("table, {} rows", rows.len()),
                TableBody::File(file) => format!("table from {}", text(file.span)),
            };
            symbol(
                analysis,
                &table.name.name,
                Some(detail),
                SymbolKind::ENUM,
                whole,
                table.name.span,
            )
        }
        Item::Map(block) => block_symbol(analysis, "map", whole, &block.assignments),
        Item::SyncBack(block) => block_symbol(analysis, "sync back", whole, &block.assignments),
        Item::Select(select) => {
            let name = format!("select {}", select.target.display());
            let mut parent = symbol(
                analysis,
                &name,
                None,
                SymbolKind::FIELD,
                whole,
                select.target.span,
            );
            let mut arms: Vec<DocumentSymbol> = select
                .arms
                .iter()
                .map(|arm| {
                    let name = format!("when {}", text(arm.condition.span));
                    let detail = Some(text(arm.value.span));
                    symbol(
                        analysis,
                        &name,
                        detail,
                        SymbolKind::BOOLEAN,
                        arm.span,
                        arm.condition.span,
                    )
                })
                .collect();
            if let Some(otherwise) = &select.otherwise {
                let detail = Some(text(otherwise.value.span));
                arms.push(symbol(
                    analysis,
                    "otherwise",
                    detail,
                    SymbolKind::BOOLEAN,
                    otherwise.span,
                    otherwise.span,
                ));
            }
            parent.children = Some(arms);
            parent
        }
        Item::Checklist(block) => {
            let mut parent = symbol(analysis, "checklist", None, SymbolKind::ARRAY, whole, whole);
            parent.children = Some(
                block
                    .items
                    .iter()
                    .map(|s| symbol(analysis, &s.value, None, SymbolKind::STRING, s.span, s.span))
                    .collect(),
            );
            parent
        }
        Item::Let(decl) => symbol(
            analysis,
            &decl.name.name,
            Some(format!("let · {}", text(decl.value.span))),
            SymbolKind::VARIABLE,
            whole,
            decl.name.span,
        ),
        Item::ClientMatch(rule) => {
            let detail = Some(format!(
                "{} into {}",
                text(rule.name.span),
                rule.target.display()
            ));
            symbol(
                analysis,
                "match client",
                detail,
                SymbolKind::OPERATOR,
                whole,
                rule.target.span,
            )
        }
    }
}

/// A block of rules: one child per rule, named by the field it writes.
fn block_symbol(
    analysis: &Outline<'_>,
    name: &str,
    whole: Span,
    rules: &[Assignment],
) -> DocumentSymbol {
    let mut parent = symbol(analysis, name, None, SymbolKind::NAMESPACE, whole, whole);
    parent.children = Some(
        rules
            .iter()
            .map(|rule| {
                let detail = Some(shown(analysis, rule.value.span));
                symbol(
                    analysis,
                    &rule.target.display(),
                    detail,
                    SymbolKind::FIELD,
                    rule.span,
                    rule.target.span,
                )
            })
            .collect(),
    );
    parent
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written, as `None`.
fn symbol(
    analysis: &Outline<'_>,
    name: &str,
    detail: Option<String>,
    kind: SymbolKind,
    range: Span,
    selection: Span,
) -> DocumentSymbol {
    let lines = &analysis.lines;
    let selection = if range.start <= selection.start && selection.end <= range.end {
        selection
    } else {
        range
    };
    DocumentSymbol {
        name: if name.trim().is_empty() {
            "(unnamed)".to_string()
        } else {
            name.to_string()
        },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: lines.range(range.start, range.end),
        selection_range: lines.range(selection.start, selection.end),
        children: None,
    }
}

/// The text of a span on one line, spaces collapsed, shortened to [`DETAIL_CHARS`].
fn shown(analysis: &Outline<'_>, span: Span) -> String {
    let raw = analysis
        .analysis
        .text
        .get(span.start..span.end)
        .unwrap_or_default();
    let one_line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= DETAIL_CHARS {
        return one_line;
    }
    let cut: String = one_line.chars().take(DETAIL_CHARS - 1).collect();
    format!("{cut}…")
}

/// The folding ranges: items over several lines (up to the line before their last), and runs
/// of two or more comment lines.
pub fn folding(analysis: &Analysis) -> Vec<FoldingRange> {
    let text = &analysis.text;
    let lines = Lines::new(text);
    let mut ranges: Vec<FoldingRange> = analysis
        .output
        .ast
        .items
        .iter()
        .filter_map(|item| {
            let span = item.span();
            let start = lines.position(span.start).line;
            let end = lines.position(span.end).line;
            let last = if closes_on_own_line(text, span) {
                end.saturating_sub(1)
            } else {
                end
            };
            (last > start).then(|| fold(start, last, None))
        })
        .collect();
    let mut run: Option<(u32, u32)> = None;
    for (number, line) in text.lines().enumerate() {
        let number = u32::try_from(number).unwrap_or(u32::MAX);
        if line.trim_start().starts_with('#') {
            run = Some(run.map_or((number, number), |(first, _)| (first, number)));
        } else if let Some((first, last)) = run.take()
            && last > first
        {
            ranges.push(fold(first, last, Some(FoldingRangeKind::Comment)));
        }
    }
    if let Some((first, last)) = run
        && last > first
    {
        ranges.push(fold(first, last, Some(FoldingRangeKind::Comment)));
    }
    ranges.sort_by_key(|r| r.start_line);
    ranges
}

/// True when the item's last line holds nothing but its closing brace.
fn closes_on_own_line(text: &str, span: Span) -> bool {
    let end = span.end.min(text.len());
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..end].trim() == "}"
}

fn fold(start: u32, end: u32, kind: Option<FoldingRangeKind>) -> FoldingRange {
    FoldingRange {
        start_line: start,
        start_character: None,
        end_line: end,
        end_character: None,
        kind,
        collapsed_text: None,
    }
}
