//! Turning pest errors into readable M101 diagnostics.
//!
//! Every grammar rule has a human name here; the match has no `_` arm, so adding a rule to the
//! grammar without naming it fails to compile.

use pest::error::{Error, ErrorVariant, InputLocation};

use super::parser::{KEYWORDS, Rule, TOP_LEVEL_KEYWORDS};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span, clamp_to_char_boundary};

/// Builds the diagnostic for a failed item that started at byte `base`.
pub(crate) fn syntax_error(
    text: &str,
    file: FileId,
    base: usize,
    error: &Error<Rule>,
) -> Diagnostic {
    syntax_error_shifted(text, file, base, base, error)
}

/// [`syntax_error`] for an error of a text that was parsed from `parsed_from` but whose item
/// starts at `base` (block recovery parses an item's head joined to a later part of its body).
pub(crate) fn syntax_error_shifted(
    text: &str,
    file: FileId,
    base: usize,
    parsed_from: usize,
    error: &Error<Rule>,
) -> Diagnostic {
    let at = parsed_from
        + match error.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
    let at = clamp_to_char_boundary(text, at);
    let found = found_token(text, at);
    let span = Span::new(file, at, at + found.len());
    let (message, label) = match &error.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => describe_expectation(positives, negatives, &found),
        ErrorVariant::CustomError { message } => (
            format!("the parser gave up: {message}"),
            "parsing stopped here".to_string(),
        ),
    };
    let help = if message == "this string is not closed" {
        "close the string with `\"` on the same line; inside a string, `\\\"` is a quote character, not the end".to_string()
    } else {
        item_help(text, base)
    };
    Diagnostic::new(Code::M101, span, message, label).with_help(help)
}

fn describe_expectation(positives: &[Rule], negatives: &[Rule], found: &str) -> (String, String) {
    let found_words = match found {
        "" => "the end of the file".to_string(),
        "\n" | "\r" => "the end of the line".to_string(),
        _ if found.chars().all(|c| !c.is_control()) => format!("`{found}`"),
        _ => format!("`{}`", found.escape_debug()),
    };
    let in_string = positives.iter().any(|r| {
        matches!(
            r,
            Rule::template_text | Rule::string_inner | Rule::escape | Rule::interpolation
        )
    });
    if in_string && matches!(found, "" | "\n" | "\r") {
        return (
            "this string is not closed".to_string(),
            "the line ends before the closing `\"`".to_string(),
        );
    }
    if in_string && found == "\\" {
        return (
            "a backslash at the end of a line is not an escape".to_string(),
            "`\\` must be followed by n, t, r, \", \\, /, {, } or uXXXX".to_string(),
        );
    }
    if positives.contains(&Rule::p_close_brace) && TOP_LEVEL_KEYWORDS.contains(&found) {
        return (
            format!("unexpected `{found}`: the block above is not closed"),
            "expected `}` before the next item".to_string(),
        );
    }
    let wants_name = positives.iter().any(|r| {
        matches!(
            r,
            Rule::name | Rule::record_name | Rule::record_ref | Rule::path
        )
    });
    if (wants_name || positives.is_empty() && negatives.contains(&Rule::keyword))
        && KEYWORDS.contains(&found)
    {
        return (
            format!("{found_words} is a reserved word and cannot be used as a name here"),
            "reserved word".to_string(),
        );
    }
    let mut expected: Vec<&str> = Vec::new();
    let positives = without_continuations(positives);
    let positives = positives.as_slice();
    let items = positives.iter().filter(|r| is_item_keyword(**r)).count();
    if items >= 3 {
        expected.push("the start of an item (`mapping`, `source`, `target`, `trigger`, `require`, `never`, `table`, `map`, `select`, `sync`, `checklist`, `match` or `let`)");
    }
    for rule in positives {
        if items >= 3 && is_item_keyword(*rule) {
            continue;
        }
        let name = rule_name(*rule);
        if !expected.contains(&name) {
            expected.push(name);
        }
    }
    let list = match expected.len() {
        0 => "something else".to_string(),
        1 => expected[0].to_string(),
        n => format!("{} or {}", expected[..n - 1].join(", "), expected[n - 1]),
    };
    (
        format!("unexpected {found_words}{}", non_ascii_note(found)),
        format!("expected {list}"),
    )
}

/// For a token starting with a character outside ASCII (a Cyrillic `а` in `deаlstage`): which
/// code point it is, and the ASCII letter it looks like, since the two are hard to tell apart.
fn non_ascii_note(found: &str) -> String {
    let Some(c) = found.chars().next().filter(|c| !c.is_ascii()) else {
        return String::new();
    };
    let code = format!("U+{:04X}", c as u32);
    match looks_like(c) {
        Some(ascii) => format!(
            ": it starts with {code}, which looks like `{ascii}` but is not ASCII (names and keywords are ASCII)"
        ),
        None => {
            format!(": it starts with {code}, which is not ASCII (names and keywords are ASCII)")
        }
    }
}

/// The ASCII letter a common Cyrillic or Greek look-alike is mistaken for.
fn looks_like(c: char) -> Option<char> {
    const PAIRS: &[(char, char)] = &[
        ('а', 'a'),
        ('в', 'B'),
        ('е', 'e'),
        ('к', 'k'),
        ('м', 'M'),
        ('н', 'H'),
        ('о', 'o'),
        ('р', 'p'),
        ('с', 'c'),
        ('т', 'T'),
        ('у', 'y'),
        ('х', 'x'),
        ('і', 'i'),
        ('ј', 'j'),
        ('ѕ', 's'),
        ('ԁ', 'd'),
        ('ԛ', 'q'),
        ('ԝ', 'w'),
        ('А', 'A'),
        ('В', 'B'),
        ('Е', 'E'),
        ('К', 'K'),
        ('М', 'M'),
        ('Н', 'H'),
        ('О', 'O'),
        ('Р', 'P'),
        ('С', 'C'),
        ('Т', 'T'),
        ('Х', 'X'),
        ('α', 'a'),
        ('ο', 'o'),
        ('ν', 'v'),
        ('ι', 'i'),
        ('κ', 'k'),
        ('ρ', 'p'),
        ('Α', 'A'),
        ('Β', 'B'),
        ('Ε', 'E'),
        ('Η', 'H'),
        ('Ι', 'I'),
        ('Κ', 'K'),
        ('Μ', 'M'),
        ('Ν', 'N'),
        ('Ο', 'O'),
        ('Ρ', 'P'),
        ('Τ', 'T'),
        ('Χ', 'X'),
        ('Υ', 'Y'),
        ('Ζ', 'Z'),
    ];
    PAIRS
        .iter()
        .find(|(other, _)| *other == c)
        .map(|(_, ascii)| *ascii)
}

/// When a block could end here, leave out the tokens that would merely continue the last rule
/// (`owner`, `(`, `[`, `.`): "expected `}`" is what the user needs to read.
fn without_continuations(positives: &[Rule]) -> Vec<Rule> {
    // An arithmetic operator can follow any value; listing it after every complete expression
    // would bury what was meant (`=>`, `??`), so it is named only when nothing else fits.
    let arithmetic = |r: &Rule| matches!(r, Rule::add_op | Rule::mul_op);
    let positives: Vec<Rule> = if positives.iter().all(arithmetic) {
        positives.to_vec()
    } else {
        positives
            .iter()
            .copied()
            .filter(|r| !arithmetic(r))
            .collect()
    };
    if !positives.contains(&Rule::p_close_brace) {
        return positives;
    }
    positives
        .iter()
        .copied()
        .filter(|r| {
            !matches!(
                r,
                Rule::kw_owner
                    | Rule::owner_clause
                    | Rule::p_open_paren
                    | Rule::p_open_bracket
                    | Rule::p_dot
            )
        })
        .collect()
}

fn is_item_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_mapping
            | Rule::kw_source
            | Rule::kw_target
            | Rule::kw_trigger
            | Rule::kw_require
            | Rule::kw_never
            | Rule::kw_table
            | Rule::kw_map
            | Rule::kw_select
            | Rule::kw_sync
            | Rule::kw_checklist
            | Rule::kw_let
            | Rule::kw_match
    )
}

/// The token at `at`, as the user would name it: a word, a string start, or one character.
fn found_token(text: &str, at: usize) -> String {
    let rest = &text[at..];
    let Some(first) = rest.chars().next() else {
        return String::new();
    };
    if first.is_alphanumeric() || first == '_' {
        return rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
    }
    for op in ["==", "!=", ">=", "<=", "=>", "??"] {
        if rest.starts_with(op) {
            return op.to_string();
        }
    }
    first.to_string()
}

/// A reminder of the syntax of the item that failed, chosen by its first word.
fn item_help(text: &str, base: usize) -> String {
    let word = super::parser::first_word(&text[base..]);
    let example = match word {
        "mapping" => "mapping hubspot_to_accelo",
        "source" => {
            "source deal = schema \"schemas/deal.schema.json\"   (related records add: join on company.id == deal.company_id)"
        }
        "target" => "target project = schema \"schemas/job.schema.json\"",
        "trigger" => "trigger when deal.properties.dealstage == \"closedwon\"",
        "require" => {
            "require at stage \"closedwon\" { deal.properties.amount | number > 0  \"amount must be final\" }"
        }
        "never" => "never transfer { deal.properties.internal_rate_card }",
        "table" => {
            "table billing { \"retainer\" => \"retainer\"  _ => \"time_and_materials\" }   or   table owners = file \"owners.csv\""
        }
        "map" => "map { project.title = deal.properties.dealname | trim }",
        "select" => {
            "select project.template { when project.budget >= 100000 => \"Enterprise\"  otherwise => \"Standard\" }"
        }
        "sync" => "sync back { deal.properties.project_status = project.standing }",
        "checklist" => "checklist { \"Debrief call held\" }",
        "match" => "match client company.properties.name into job.against_id",
        "let" => "let project_type = deal.custom_fields[custom_field_definition_id == 5001].value",
        _ => {
            return format!(
                "a mapping is a list of items, each starting with one of: {}; see docs/language.md",
                TOP_LEVEL_KEYWORDS.join(", ")
            );
        }
    };
    format!("the `{word}` item is written like: {example}")
}

/// The name of a grammar rule in words, for "expected ..." lists.
fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "the end of the file",
        Rule::WHITESPACE => "whitespace",
        Rule::COMMENT => "a comment",
        Rule::file => "a mapping file",
        Rule::item_at | Rule::item => "an item",
        Rule::call_at => "a transform call",
        Rule::cond_atom => "a condition",
        Rule::primary | Rule::argument | Rule::literal => "a value",
        Rule::segment => "a field name",
        Rule::bracket => "an index or a search",
        Rule::ws | Rule::ident_char => "a character",
        Rule::header => "`mapping NAME`",
        Rule::source_decl => "a source declaration",
        Rule::join_clause => "`join on ...`",
        Rule::envelope_clause => "`in \"/POINTER\"`",
        Rule::target_decl => "a target declaration",
        Rule::trigger_decl => "a trigger",
        Rule::require_block => "a require block",
        Rule::require_rule => "a required condition",
        Rule::never_block => "a never transfer block",
        Rule::table_decl => "a table",
        Rule::table_body => "`{` with table rows",
        Rule::table_file => "`= file \"...\"`",
        Rule::table_row => "a table row (`\"key\" => \"value\"`)",
        Rule::map_block => "a map block",
        Rule::assignment => "an assignment (`project.field = value`)",
        Rule::owner_clause => "`owner psa`",
        Rule::owner_name => "`psa` or `crm`",
        Rule::select_block => "a select block",
        Rule::when_arm => "`when CONDITION => VALUE`",
        Rule::otherwise_arm => "`otherwise => VALUE`",
        Rule::sync_block => "a sync back block",
        Rule::checklist_block => "a checklist",
        Rule::let_decl => "a named value (`let NAME = VALUE`)",
        Rule::condition | Rule::disjunction | Rule::conjunction | Rule::negation => "a condition",
        Rule::test => "a test",
        Rule::compare_op => "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        Rule::literal_list => "a list (`[\"a\", \"b\"]`)",
        Rule::expr | Rule::pipeline | Rule::sum | Rule::product => "a value",
        Rule::group => "a value in parentheses",
        Rule::call => "a transform name",
        Rule::boolean => "`true` or `false`",
        Rule::number => "a number",
        Rule::string | Rule::string_inner | Rule::template | Rule::template_text => "a string",
        Rule::escape => "an escape sequence",
        Rule::interpolation => "`{...}`",
        Rule::path | Rule::record_ref => "a path (such as `deal.properties.amount`)",
        Rule::field_name => "a field name",
        Rule::index => "an array index",
        Rule::search => "a search (`[key == value]`)",
        Rule::name | Rule::record_name | Rule::ident => "a name",
        Rule::transform_name => "a transform name",
        Rule::wildcard => "`_`",
        Rule::keyword => "a keyword",
        Rule::kw_mapping => "`mapping`",
        Rule::kw_source => "`source`",
        Rule::kw_target => "`target`",
        Rule::kw_schema => "`schema`",
        Rule::kw_join => "`join`",
        Rule::kw_on => "`on`",
        Rule::kw_trigger => "`trigger`",
        Rule::kw_when => "`when`",
        Rule::kw_require => "`require`",
        Rule::kw_at => "`at`",
        Rule::kw_stage => "`stage`",
        Rule::kw_never => "`never`",
        Rule::kw_transfer => "`transfer`",
        Rule::kw_table => "`table`",
        Rule::kw_file => "`file`",
        Rule::kw_map => "`map`",
        Rule::kw_select => "`select`",
        Rule::kw_otherwise => "`otherwise`",
        Rule::kw_sync => "`sync`",
        Rule::kw_back => "`back`",
        Rule::kw_checklist => "`checklist`",
        Rule::kw_let => "`let`",
        Rule::kw_owner => "`owner`",
        Rule::kw_psa => "`psa`",
        Rule::kw_crm => "`crm`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::kw_in => "`in`",
        Rule::kw_matches => "`matches`",
        Rule::kw_true => "`true`",
        Rule::kw_false => "`false`",
        Rule::kw_null | Rule::null => "`null`",
        Rule::kw_match => "`match`",
        Rule::kw_into => "`into`",
        Rule::w_client => "`client`",
        Rule::client_match => "a client match",
        Rule::op_eq | Rule::p_eq => "`==`",
        Rule::op_ne => "`!=`",
        Rule::op_ge => "`>=`",
        Rule::op_le => "`<=`",
        Rule::op_gt => "`>`",
        Rule::op_lt => "`<`",
        Rule::p_assign => "`=`",
        Rule::p_arrow => "`=>`",
        Rule::p_coalesce => "`??`",
        Rule::p_pipe => "`|`",
        Rule::op_plus => "`+`",
        Rule::op_minus => "`-`",
        Rule::op_times => "`*`",
        Rule::op_divide => "`/`",
        Rule::add_op | Rule::mul_op => "an operator",
        Rule::p_comma => "`,`",
        Rule::p_dot => "`.`",
        Rule::p_open_brace => "`{`",
        Rule::p_close_brace => "`}`",
        Rule::p_open_paren => "`(`",
        Rule::p_close_paren => "`)`",
        Rule::p_open_bracket => "`[`",
        Rule::p_close_bracket => "`]`",
    }
}

/// M102 for the invalid escapes in the string literals of `range` (the text of an item that did
/// not parse, so that lowering never saw it), except on the line holding byte `error_at`, where
/// the syntax error already is. Strings are found line by line (a string cannot span lines);
/// `#` outside a string starts a comment.
pub(super) fn escape_errors(
    text: &str,
    file: crate::source::FileId,
    range: std::ops::Range<usize>,
    error_at: usize,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut line_start = range.start;
    for line in text[range.clone()].split_inclusive('\n') {
        let line_end = line_start + line.len();
        if !(line_start..line_end.max(line_start + 1)).contains(&error_at) {
            line_escapes(line, line_start, file, &mut out);
        }
        line_start = line_end;
    }
    out
}

fn line_escapes(line: &str, base: usize, file: crate::source::FileId, out: &mut Vec<Diagnostic>) {
    let mut in_string = false;
    let mut chars = line.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match (in_string, c) {
            (false, '#') => return,
            (_, '"') => in_string = !in_string,
            (true, '\\') => {
                let Some((_, next)) = chars.next() else {
                    return;
                };
                let valid = match next {
                    'n' | 't' | 'r' | '"' | '\\' | '/' | '{' | '}' => true,
                    'u' => {
                        let hex: String = line[at + 2..].chars().take(4).collect();
                        hex.len() == 4
                            && u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .is_some()
                    }
                    _ => false,
                };
                if !valid {
                    let end = at + 1 + next.len_utf8();
                    out.push(
                        Diagnostic::new(
                            Code::M102,
                            crate::source::Span::new(file, base + at, base + end),
                            format!("invalid escape sequence `{}`", &line[at..end]),
                            "not a valid escape",
                        )
                        .with_help(
                            "valid escapes are \\n \\t \\r \\\" \\\\ \\/ \\{ \\} and \\uXXXX (not a surrogate)",
                        ),
                    );
                }
            }
            _ => {}
        }
    }
}
