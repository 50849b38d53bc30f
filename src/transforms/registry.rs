//! The one declaration of every transform: name, parameters, input and output kinds, whether it
//! can fail, documentation and examples. The checker, `docs/language.md`, `mapctl explain` and
//! editor hover all read this table; a test runs every example against the implementation.

use crate::value::Kinds;

/// What a parameter must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number in the given range.
    Int {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// Any string.
    Str,
    /// A regular expression (linear-time `regex` syntax).
    Regex,
    /// A `strftime`-style date format.
    DateFormat,
    /// The name of a table.
    Table,
    /// Any literal.
    Literal,
    /// A literal, a field or a named value (`default`).
    Value,
    /// One of a few words (`"half_even"`), named `what` in messages.
    OneOf {
        /// What the words are, in words ("a rounding mode").
        what: &'static str,
        /// The words allowed.
        words: &'static [&'static str],
    },
}

impl ParamKind {
    /// The parameter kind in words.
    pub fn describe(self) -> &'static str {
        match self {
            ParamKind::Int { .. } => "a whole number",
            ParamKind::Str => "a string",
            ParamKind::Regex => "a regular expression string",
            ParamKind::DateFormat => "a date format string such as \"%Y-%m-%d\"",
            ParamKind::Table => "a table name",
            ParamKind::Literal => "a literal value",
            ParamKind::Value => "a literal, a field or a named value",
            ParamKind::OneOf { what, .. } => what,
        }
    }
}

/// One parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name in docs.
    pub name: &'static str,
    /// What it must be.
    pub kind: ParamKind,
    /// True when it may be left out.
    pub optional: bool,
}

/// How the output kinds follow from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Always these kinds.
    Fixed(Kinds),
    /// The kinds of the array's elements.
    Element,
    /// The kinds of the table's values.
    TableValue,
    /// The input's kinds plus the argument's.
    InputOrArgument,
    /// `round`: integer for 0 places, number otherwise.
    Rounded,
    /// The input's own kind (a date stays a date, a date-time a date-time).
    Input,
}

/// An example: `input | call` gives `output` (JSON), or fails when `output` is `None`. For
/// transforms that take dates, the input string is first read with `date`.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// The call as written after `|`.
    pub call: &'static str,
    /// The input, as JSON.
    pub input: &'static str,
    /// The result as JSON, or `None` when the transform fails on this input.
    pub output: Option<&'static str>,
}

/// The declaration of a transform.
#[derive(Debug, Clone, Copy)]
pub struct TransformDecl {
    /// Its name.
    pub name: &'static str,
    /// Its parameters.
    pub params: &'static [Param],
    /// The input kinds it accepts.
    pub input: Kinds,
    /// Its output.
    pub output: Output,
    /// True when it can fail on real data (rejecting the deal unless a fallback follows).
    pub can_fail: bool,
    /// What it does.
    pub doc: &'static str,
    /// Worked examples, run by the tests.
    pub examples: &'static [Example],
}

impl TransformDecl {
    /// The signature as shown in docs: `round(places) : number -> number`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                if p.optional {
                    format!("{}?", p.name)
                } else {
                    p.name.to_string()
                }
            })
            .collect();
        let call = if params.is_empty() {
            self.name.to_string()
        } else {
            format!("{}({})", self.name, params.join(", "))
        };
        let output = match self.output {
            Output::Fixed(kinds) => kinds.describe(),
            Output::Element => "element".to_string(),
            Output::TableValue => "table value".to_string(),
            Output::InputOrArgument => "input or value".to_string(),
            Output::Input => "the same kind".to_string(),
            Output::Rounded => "number".to_string(),
        };
        format!("{call} : {} -> {output}", self.input.describe())
    }

    /// Number of parameters that must be given.
    pub fn required_params(&self) -> usize {
        self.params.iter().filter(|p| !p.optional).count()
    }
}

/// Looks a transform up by name.
pub fn find(name: &str) -> Option<&'static TransformDecl> {
    TRANSFORMS.iter().find(|t| t.name == name)
}

const NUMBER_IN: Kinds = Kinds::NONE.or(Kinds::STRING).or(Kinds::NUMBER);
const DATE_IN: Kinds = Kinds::NONE
    .or(Kinds::STRING)
    .or(Kinds::INT)
    .or(Kinds::DATES);

const fn p(name: &'static str, kind: ParamKind) -> Param {
    Param {
        name,
        kind,
        optional: false,
    }
}

const fn opt(name: &'static str, kind: ParamKind) -> Param {
    Param {
        name,
        kind,
        optional: true,
    }
}

const fn ex(call: &'static str, input: &'static str, output: &'static str) -> Example {
    Example {
        call,
        input,
        output: Some(output),
    }
}

const fn fails(call: &'static str, input: &'static str) -> Example {
    Example {
        call,
        input,
        output: None,
    }
}

/// Every transform, in documentation order.
pub static TRANSFORMS: &[TransformDecl] = &[
    TransformDecl {
        name: "trim",
        params: &[],
        input: Kinds::STRING,
        output: Output::Fixed(Kinds::STRING),
        can_fail: false,
        doc: "Removes whitespace at both ends.",
        examples: &[ex("trim", "\"  Acme rollout \"", "\"Acme rollout\"")],
    },
    TransformDecl {
        name: "nonblank",
        params: &[],
        input: Kinds::STRING,
        output: Output::Fixed(Kinds::STRING),
        can_fail: false,
        doc: "Treats empty or whitespace-only text as absent (shown as `null` below), so that `??` and `default` replace it: CRMs send cleared text fields as \"\". `deal.Description | nonblank ?? \"none\"`.",
        examples: &[
            ex("nonblank", "\"Scope agreed\"", "\"Scope agreed\""),
            ex("nonblank", "\"  \"", "null"),
        ],
    },
    TransformDecl {
        name: "lower",
        params: &[],
        input: Kinds::STRING,
        output: Output::Fixed(Kinds::STRING),
        can_fail: false,
        doc: "Lower-cases every letter.",
        examples: &[ex("lower", "\"ACME Corp\"", "\"acme corp\"")],
    },
    TransformDecl {
        name: "upper",
        params: &[],
        input: Kinds::STRING,
        output: Output::Fixed(Kinds::STRING),
        can_fail: false,
        doc: "Upper-cases every letter.",
        examples: &[ex("upper", "\"eur\"", "\"EUR\"")],
    },
    TransformDecl {
        name: "collapse_whitespace",
        params: &[],
        input: Kinds::STRING,
        output: Output::Fixed(Kinds::STRING),
        can_fail: false,
        doc: "Replaces each run of whitespace with one space and trims both ends.",
        examples: &[ex(
            "collapse_whitespace",
            "\"\\tStark   Industries \"",
            "\"Stark Industries\"",
        )],
    },
    TransformDecl {
        name: "company_name",
        params: &[],
        input: Kinds::STRING,
        output: Output::Fixed(Kinds::STRING),
        can_fail: false,
        doc: "Cleans a company name for display: drops invisible characters (zero-width, joiners, bidirectional controls, soft hyphen), collapses whitespace, removes trailing punctuation and one legal suffix (Corp, Corporation, Inc, LLC, Ltd, GmbH; any case, after a space or comma), then trailing punctuation again.",
        examples: &[
            ex("company_name", "\"  Acme Corp. \"", "\"Acme\""),
            ex("company_name", "\"Globex Co., Ltd.\"", "\"Globex Co\""),
            ex("company_name", "\"Umbrella Corp Inc\"", "\"Umbrella Corp\""),
            ex(
                "company_name",
                "\"Initech Incorporated\"",
                "\"Initech Incorporated\"",
            ),
            ex("company_name", "\"Pure Zinc\"", "\"Pure Zinc\""),
            ex("company_name", "\"Ac\\u200Bme Corp\"", "\"Acme\""),
        ],
    },
    TransformDecl {
        name: "number",
        params: &[],
        input: NUMBER_IN,
        output: Output::Fixed(Kinds::NUMBER),
        can_fail: true,
        doc: "Reads a number from a string such as \"48500.00\" or \"12,500.00\" (comma thousands separators in groups of three, optional sign and fraction, surrounding spaces ignored), exactly, with the digits written: \"48500.00\" is written 48500.00, a 25-digit amount keeps all 25. Numbers pass through. Fails on anything else, including \"NaN\", \"inf\", exponents and currency symbols.",
        examples: &[
            ex("number", "\"48500.00\"", "48500.00"),
            ex("number", "\"12,500.50\"", "12500.50"),
            ex("number", "-3", "-3"),
            fails("number", "\"12,50\""),
            fails("number", "\"$100\""),
            fails("number", "\"NaN\""),
        ],
    },
    TransformDecl {
        name: "integer",
        params: &[],
        input: NUMBER_IN,
        output: Output::Fixed(Kinds::INT),
        can_fail: true,
        doc: "Reads a whole number, as `number` does. Fails when the value has a fractional part; use `round(0)` first to round it.",
        examples: &[
            ex("integer", "\"1,200\"", "1200"),
            ex("integer", "\"42.00\"", "42"),
            fails("integer", "\"42.5\""),
        ],
    },
    TransformDecl {
        name: "round",
        params: &[
            p("places", ParamKind::Int { min: 0, max: 12 }),
            opt(
                "mode",
                ParamKind::OneOf {
                    what: "a rounding mode (\"half_up\", \"half_even\", \"half_down\", \"up\", \"down\", \"ceiling\" or \"floor\")",
                    words: super::arith::Rounding::NAMES,
                },
            ),
        ],
        input: Kinds::NUMBER,
        output: Output::Rounded,
        can_fail: false,
        doc: "Rounds to the given number of decimal places, exactly in decimal (`1.005 | round(2)` is 1.01). `mode` says how: `\"half_up\"` (the default) to the nearest with halves away from zero, `\"half_even\"` to the nearest with halves to the even digit (banker's rounding), `\"half_down\"` halves toward zero, `\"up\"` away from zero, `\"down\"` toward zero (truncating), `\"ceiling\"` and `\"floor\"` toward positive and negative infinity. `round(0)` gives an integer.",
        examples: &[
            ex("round(0)", "2.5", "3"),
            ex("round(2)", "9.999", "10"),
            ex("round(1)", "1.25", "1.3"),
            ex("round(2)", "1.005", "1.01"),
            ex("round(0, \"half_even\")", "2.5", "2"),
            ex("round(2, \"down\")", "19.999", "19.99"),
            ex("round(0, \"ceiling\")", "-2.5", "-2"),
        ],
    },
    TransformDecl {
        name: "string",
        params: &[],
        input: Kinds::SCALAR,
        output: Output::Fixed(Kinds::STRING),
        can_fail: false,
        doc: "Writes a scalar as text: numbers in shortest form, booleans as true/false, dates as ISO 8601.",
        examples: &[
            ex("string", "1712000000", "\"1712000000\""),
            ex("string", "true", "\"true\""),
        ],
    },
    TransformDecl {
        name: "boolean",
        params: &[],
        input: Kinds::NONE.or(Kinds::STRING).or(Kinds::BOOL).or(Kinds::INT),
        output: Output::Fixed(Kinds::BOOL),
        can_fail: true,
        doc: "Reads a boolean from true/false, yes/no, 1/0 (strings in any case, or numbers). Fails on anything else.",
        examples: &[
            ex("boolean", "\"Yes\"", "true"),
            ex("boolean", "0", "false"),
            fails("boolean", "\"maybe\""),
        ],
    },
    TransformDecl {
        name: "date",
        params: &[opt("format", ParamKind::DateFormat)],
        input: DATE_IN,
        output: Output::Fixed(Kinds::DATE),
        can_fail: true,
        doc: "Reads a calendar date. Without a format it accepts an ISO 8601 date-time (the date in its own offset), `yyyy-MM-dd`, `M/D/YYYY`, and Unix seconds (as a number or a string of digits, taken in UTC). With a format (strftime syntax, e.g. \"%d.%m.%Y\") it accepts exactly that. Date-times lose their time of day.",
        examples: &[
            ex("date", "\"2025-03-14T09:30:00.000Z\"", "\"2025-03-14\""),
            ex("date", "\"3/14/2025\"", "\"2025-03-14\""),
            ex("date", "1741910400", "\"2025-03-14\""),
            ex("date(\"%d.%m.%Y\")", "\"14.03.2025\"", "\"2025-03-14\""),
            fails("date", "\"14/3/2025\""),
        ],
    },
    TransformDecl {
        name: "datetime",
        params: &[opt("format", ParamKind::DateFormat)],
        input: DATE_IN,
        output: Output::Fixed(Kinds::DATETIME),
        can_fail: true,
        doc: "Reads a date and time. Without a format it accepts ISO 8601 date-times (offset kept), `yyyy-MM-dd` and `M/D/YYYY` (midnight UTC), and Unix seconds (UTC). With a format it accepts exactly that, in UTC unless the format has an offset.",
        examples: &[
            ex(
                "datetime",
                "\"2025-03-14T09:30:00.000+01:00\"",
                "\"2025-03-14T09:30:00+01:00\"",
            ),
            ex("datetime", "1741944600", "\"2025-03-14T09:30:00Z\""),
        ],
    },
    TransformDecl {
        name: "format_date",
        params: &[p("format", ParamKind::DateFormat)],
        input: Kinds::DATES,
        output: Output::Fixed(Kinds::STRING),
        can_fail: false,
        doc: "Writes a date or date-time with a strftime format, e.g. \"%d/%m/%Y\" or \"%Y-%m-%dT%H:%M:%S%:z\".",
        examples: &[ex(
            "format_date(\"%d/%m/%Y\")",
            "\"2025-03-14\"",
            "\"14/03/2025\"",
        )],
    },
    TransformDecl {
        name: "unix",
        params: &[],
        input: Kinds::DATES,
        output: Output::Fixed(Kinds::INT),
        can_fail: false,
        doc: "Unix seconds of a date-time, or of midnight UTC of a date. Follow with `| string` where a system wants the seconds as text (Accelo).",
        examples: &[ex("unix", "\"2025-03-14\"", "1741910400")],
    },
    TransformDecl {
        name: "add_days",
        params: &[p(
            "days",
            ParamKind::Int {
                min: -36_500,
                max: 36_500,
            },
        )],
        input: Kinds::DATES,
        output: Output::Input,
        can_fail: true,
        doc: "Moves a date or date-time by whole days (negative: back). A date-time keeps its time of day and offset. Fails only past the calendar's range (year 262,143).",
        examples: &[
            ex("add_days(90)", "\"2025-03-14\"", "\"2025-06-12\""),
            ex("add_days(-14)", "\"2025-03-14\"", "\"2025-02-28\""),
        ],
    },
    TransformDecl {
        name: "add_months",
        params: &[p(
            "months",
            ParamKind::Int {
                min: -1_200,
                max: 1_200,
            },
        )],
        input: Kinds::DATES,
        output: Output::Input,
        can_fail: true,
        doc: "Moves a date or date-time by whole calendar months (negative: back). A day the target month lacks becomes its last day: January 31 plus one month is February 28 (29 in a leap year). Fails only past the calendar's range.",
        examples: &[
            ex("add_months(3)", "\"2025-03-14\"", "\"2025-06-14\""),
            ex("add_months(1)", "\"2025-01-31\"", "\"2025-02-28\""),
        ],
    },
    TransformDecl {
        name: "truncate",
        params: &[p(
            "length",
            ParamKind::Int {
                min: 1,
                max: 1_000_000,
            },
        )],
        input: Kinds::STRING,
        output: Output::Fixed(Kinds::STRING),
        can_fail: false,
        doc: "Keeps at most `length` characters.",
        examples: &[ex("truncate(4)", "\"Enterprise\"", "\"Ente\"")],
    },
    TransformDecl {
        name: "replace",
        params: &[p("pattern", ParamKind::Regex), p("with", ParamKind::Str)],
        input: Kinds::STRING,
        output: Output::Fixed(Kinds::STRING),
        can_fail: false,
        doc: "Replaces every match of a regular expression (linear-time `regex` syntax, no look-around or back-references). `$1` or `${name}` in `with` insert capture groups.",
        examples: &[ex(
            "replace(\"[^0-9]\", \"\")",
            "\"+1 (555) 010-9999\"",
            "\"15550109999\"",
        )],
    },
    TransformDecl {
        name: "split",
        params: &[p("separator", ParamKind::Str)],
        input: Kinds::STRING,
        output: Output::Fixed(Kinds::ARRAY),
        can_fail: false,
        doc: "Splits text at each separator into an array of strings, trimming each part and dropping empty parts.",
        examples: &[ex(
            "split(\";\")",
            "\"design; build;;\"",
            "[\"design\",\"build\"]",
        )],
    },
    TransformDecl {
        name: "join",
        params: &[p("separator", ParamKind::Str)],
        input: Kinds::ARRAY,
        output: Output::Fixed(Kinds::STRING),
        can_fail: true,
        doc: "Joins an array of scalars with a separator. Fails when an element is an object or array.",
        examples: &[ex(
            "join(\", \")",
            "[\"design\",\"build\",3]",
            "\"design, build, 3\"",
        )],
    },
    TransformDecl {
        name: "first",
        params: &[],
        input: Kinds::ARRAY,
        output: Output::Element,
        can_fail: false,
        doc: "The first element of an array; absent when the array is empty.",
        examples: &[ex("first", "[\"a\",\"b\"]", "\"a\"")],
    },
    TransformDecl {
        name: "lookup",
        params: &[p("table", ParamKind::Table)],
        input: Kinds::NONE
            .or(Kinds::STRING)
            .or(Kinds::NUMBER)
            .or(Kinds::BOOL),
        output: Output::TableValue,
        can_fail: true,
        doc: "Looks the value up in a table. When no row matches, the table's `_` row is used; without one, the lookup fails and names the value.",
        examples: &[],
    },
    TransformDecl {
        name: "default",
        params: &[p("value", ParamKind::Value)],
        input: Kinds::ANY,
        output: Output::InputOrArgument,
        can_fail: false,
        doc: "Gives `value` when everything before it produced nothing: the source was absent, or an earlier transform failed. The one way to turn a failure into a value. `value` is a literal, a field (`default(deal.close_date)`) or a named value (`default(start)`); a field or named value is read only when it is needed, and may itself be absent.",
        examples: &[ex("default(0)", "null", "0"), ex("default(0)", "5", "5")],
    },
];

/// The transform reference as Markdown (the section of `docs/language.md` between the
/// `transforms:start` and `transforms:end` markers is this text; a test keeps them equal).
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str("| transform | takes -> gives | can fail |\n| --- | --- | --- |\n");
    for decl in TRANSFORMS {
        let signature = decl.signature();
        let (call, types) = signature.split_once(" : ").unwrap_or((&signature, ""));
        out.push_str(&format!(
            "| `{call}` | {types} | {} |\n",
            if decl.can_fail { "yes" } else { "no" }
        ));
    }
    for decl in TRANSFORMS {
        out.push_str(&format!("\n### `{}`\n\n{}\n", decl.name, decl.doc));
        if decl.examples.is_empty() {
            continue;
        }
        out.push_str("\n| input | transforms | result |\n| --- | --- | --- |\n");
        for example in decl.examples {
            let call = if decl.input == Kinds::DATES {
                format!("date \\| {}", example.call)
            } else {
                example.call.to_string()
            };
            let result = example
                .output
                .map_or("fails (the deal is rejected)".to_string(), |o| {
                    format!("`{o}`")
                });
            out.push_str(&format!(
                "| `{}` | `{}` | {} |\n",
                example.input,
                call,
                result.replace('|', "\\|")
            ));
        }
    }
    out
}
