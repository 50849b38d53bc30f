//! The registry of diagnostic codes: one enum, never renumbered, never reused.
//!
//! Codes are grouped by stage: M1xx syntax and structure, M2xx source records and rules, M3xx
//! targets and types, M4xx transforms and tables, M5xx apply-time, M6xx schema files, M7xx
//! schema drift (`mapctl schema diff`: the mapping lines a change between two versions of a
//! schema breaks or affects). The long explanation of each code lives in `docs/errors.md`
//! (printed by `mapctl explain`); a test fails when a code has no entry there or no golden test
//! case.

use super::Severity;

/// The error reference (`docs/errors.md`), compiled in: `mapctl explain`, SARIF rule help and
/// editor hovers read a code's entry from it.
pub const ERRORS_MD: &str = include_str!("../../docs/errors.md");

impl Code {
    /// True for the codes that say a file the mapping names (a schema, a table) could not be
    /// used at all: missing, unreadable, not JSON, not a JSON Schema, or over a limit. `check`
    /// could not check the mapping against such a file, so it exits 2 ("could not run"), not 1.
    pub fn is_unusable_file(self) -> bool {
        matches!(
            self,
            Code::M408
                | Code::M601
                | Code::M602
                | Code::M603
                | Code::M604
                | Code::M605
                | Code::M607
                | Code::M608
                | Code::M609
                | Code::M610
        )
    }
}

impl Code {
    /// The code's section of `docs/errors.md`: from its `## CODE` heading to the next heading.
    pub fn explanation(self) -> Option<&'static str> {
        let heading = format!("## {}", self.as_str());
        let start = ERRORS_MD.find(&format!("\n{heading}"))? + 1;
        let rest = &ERRORS_MD[start..];
        let end = rest[heading.len()..]
            .find("\n## ")
            .map_or(rest.len(), |i| i + heading.len() + 1);
        Some(&rest[..end])
    }
}

macro_rules! codes {
    ($($variant:ident => ($severity:ident, $title:literal),)*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(
                #[doc = $title]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as written in output and docs, e.g. `"M201"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => stringify!($variant),)*
                }
            }

            /// The severity a diagnostic with this code has.
            pub fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }

            /// A one-line title.
            pub fn title(self) -> &'static str {
                match self {
                    $(Code::$variant => $title,)*
                }
            }
        }
    };
}

codes! {
    M101 => (Error, "syntax error"),
    M102 => (Error, "invalid escape sequence in a string"),
    M103 => (Error, "number literal out of range"),
    M104 => (Error, "item declared more than once"),
    M105 => (Error, "required item missing"),
    M106 => (Error, "name declared more than once"),
    M107 => (Error, "invalid regular expression"),
    M108 => (Error, "limit exceeded"),
    M109 => (Error, "unknown record"),
    M110 => (Error, "path reads or writes the wrong record"),
    M111 => (Error, "owner clause outside sync back"),
    M112 => (Error, "invisible or direction-changing character"),
    M113 => (Error, "transform after an operator applies to one operand"),
    M120 => (Error, "invalid input envelope"),
    M201 => (Error, "unknown source field"),
    M202 => (Error, "path steps into a value that has no fields or items"),
    M203 => (Error, "invalid array search"),
    M204 => (Error, "required target fed by a value that may be absent"),
    M205 => (Error, "unknown stage"),
    M206 => (Error, "compared value is not one of the field's values"),
    M207 => (Error, "never-transfer field read by a rule"),
    M208 => (Error, "comparison between incompatible types"),
    M209 => (Error, "trigger does not name a stage"),
    M210 => (Warning, "rules for a stage the trigger never fires on"),
    M211 => (Error, "invalid join"),
    M212 => (Warning, "label names several values"),
    M213 => (Warning, "value is also another value's label"),
    M215 => (Warning, "client name may be absent"),
    M301 => (Error, "unknown target field"),
    M302 => (Error, "target assigned more than once"),
    M303 => (Error, "required target field not provided"),
    M304 => (Error, "type mismatch"),
    M305 => (Error, "value is not one of the target field's values"),
    M306 => (Error, "value breaks a constraint of the target field"),
    M307 => (Warning, "lossy conversion"),
    M308 => (Error, "select without otherwise on a required field"),
    M309 => (Warning, "unreachable branch"),
    M310 => (Error, "field flows both ways without an owner"),
    M311 => (Error, "target field read before it is written"),
    M312 => (Warning, "unchecked value into an enumerated field"),
    M313 => (Error, "label names several values of the target field"),
    M314 => (Warning, "text may not have the target field's format"),
    M315 => (Error, "field the target schema requires under a condition is not written"),
    M316 => (Warning, "number not checked against the target field's bounds"),
    M317 => (Error, "arithmetic on a value that is not a number"),
    M318 => (Warning, "division by a value that may be zero"),
    M319 => (Error, "division by zero"),
    M320 => (Warning, "text may be shorter than the target field's minLength"),
    M401 => (Error, "unknown transform"),
    M402 => (Error, "wrong arguments to a transform"),
    M403 => (Error, "transform cannot take this input"),
    M404 => (Error, "unknown table"),
    M405 => (Warning, "unused table"),
    M406 => (Error, "table key is not one of the source field's values"),
    M407 => (Error, "table key listed twice"),
    M408 => (Error, "table file cannot be loaded"),
    M409 => (Warning, "table does not cover every source value"),
    M410 => (Error, "invalid table key"),
    M501 => (Error, "input is not valid JSON"),
    M502 => (Error, "deal does not match the CRM schema"),
    M503 => (Warning, "deal skipped: not at a trigger stage"),
    M504 => (Error, "required fact missing at the deal's stage"),
    M505 => (Error, "transform failed on the deal's data"),
    M506 => (Error, "related record is ambiguous"),
    M507 => (Error, "record does not match the PSA schema"),
    M508 => (Error, "client match is ambiguous"),
    M509 => (Error, "input record is not a JSON object"),
    M510 => (Error, "input line too long"),
    M511 => (Error, "client does not exist in the PSA yet"),
    M512 => (Error, "input is ambiguous"),
    M513 => (Error, "deal has no id to deliver it by"),
    M514 => (Error, "the target did not take the record"),
    M520 => (Error, "output file is also an input or another output"),
    M521 => (Error, "input is empty"),
    M522 => (Error, "input envelope not found"),
    M601 => (Error, "file cannot be read"),
    M602 => (Error, "schema is not valid JSON or YAML"),
    M603 => (Error, "not a valid JSON Schema"),
    M604 => (Error, "remote reference refused"),
    M605 => (Error, "unresolved reference"),
    M606 => (Warning, "unknown JSON Schema dialect"),
    M607 => (Error, "file outside the allowed folder"),
    M608 => (Error, "schema reference cycle"),
    M609 => (Error, "input nested too deeply"),
    M610 => (Error, "schema too large or its references too long"),
    M701 => (Error, "field removed from the schema"),
    M702 => (Error, "field type changed"),
    M703 => (Error, "value removed from the field"),
    M704 => (Error, "target field now required but not written"),
    M705 => (Warning, "changed field used by a rule"),
    M706 => (Warning, "value relabelled"),
    M707 => (Warning, "stage moved to another pipeline"),
    M708 => (Warning, "new value not covered by a table"),
    M709 => (Error, "label no longer names the value a rule meant"),
    M710 => (Warning, "label now names more values"),
}

impl Code {
    /// Parses `"M201"` (any case) into a code.
    pub fn parse(text: &str) -> Option<Code> {
        let upper = text.trim().to_ascii_uppercase();
        Code::ALL.iter().copied().find(|c| c.as_str() == upper)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
