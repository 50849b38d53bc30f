//! The reference benchmark job (`../shared/bench/MAPPING.md`) written by hand over typed serde
//! structs: it deserializes only the fields it reads, borrowing strings from the line. This is
//! the practical upper bound a single-threaded mapper can reach; `bench/run.sh` times mapctl
//! against it. Writes one line per `closedwon` deal: the project, or `{"reject": ...}`.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::io::{BufRead, BufWriter, Write};

use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Deal<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    properties: Props<'a>,
}

/// A borrowed string (serde borrows through a newtype).
#[derive(Deserialize)]
struct S<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize, Default)]
struct Props<'a> {
    #[serde(borrow)]
    dealstage: Option<S<'a>>,
    #[serde(borrow)]
    amount: Option<S<'a>>,
    #[serde(borrow)]
    closedate: Option<S<'a>>,
    #[serde(borrow)]
    hubspot_owner_id: Option<S<'a>>,
    #[serde(borrow)]
    dealname: Option<S<'a>>,
    #[serde(borrow)]
    dealtype: Option<S<'a>>,
    #[serde(borrow)]
    description: Option<S<'a>>,
    #[serde(borrow)]
    company_name: Option<S<'a>>,
    #[serde(borrow)]
    delivery_lead_email: Option<S<'a>>,
}

#[derive(Serialize)]
struct Project<'a> {
    client: Client,
    title: Option<&'a str>,
    budget: serde_json::Value,
    start_date: &'a str,
    billing_type: &'static str,
    template: &'static str,
    manager_email: Option<&'a str>,
    notes: String,
    source: Source<'a>,
}

#[derive(Serialize)]
struct Client {
    name: Option<String>,
}

#[derive(Serialize)]
struct Source<'a> {
    system: &'static str,
    deal_id: &'a str,
}

fn text<'b>(value: &'b Option<S<'_>>) -> Option<&'b str> {
    value.as_ref().map(|s| s.0.as_ref())
}

fn present(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// `^-?[0-9]+(\.[0-9]+)?$`, and greater than zero.
fn positive_amount(value: Option<&str>) -> Option<f64> {
    let v = value?;
    let digits = v.strip_prefix('-').unwrap_or(v);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    v.parse::<f64>().ok().filter(|a| *a > 0.0)
}

fn budget(amount: f64) -> serde_json::Value {
    if amount.fract() == 0.0 && amount.abs() < 9e15 {
        serde_json::Value::from(amount as i64)
    } else {
        serde_json::Value::from(amount)
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn trim_punctuation(s: &str) -> &str {
    s.trim_end_matches([' ', '.', ',', ';', ':', '!', '?'])
}

/// The four normalisation steps of MAPPING.md.
fn client_name(raw: &str) -> String {
    let collapsed = raw.split(is_space).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    let name = trim_punctuation(&collapsed);
    let without_dot = name.strip_suffix('.').unwrap_or(name);
    let mut result = name;
    'search: for candidate in [name, without_dot] {
        for suffix in ["corporation", "corp", "inc", "llc", "ltd", "gmbh"] {
            let cut = match candidate.len().checked_sub(suffix.len()) {
                Some(cut) if candidate.is_char_boundary(cut) => cut,
                _ => continue,
            };
            if candidate[cut..].eq_ignore_ascii_case(suffix) {
                let stem = &candidate[..cut];
                let kept = stem.trim_end_matches([' ', ',']);
                if kept.len() < stem.len() {
                    result = kept;
                    break 'search;
                }
            }
        }
    }
    trim_punctuation(result).to_string()
}

fn billing(dealtype: Option<&str>) -> &'static str {
    match dealtype {
        Some("newbusiness" | "fixedfee") => "fixed_fee",
        Some("retainer") => "retainer",
        _ => "time_and_materials",
    }
}

fn template(billing: &str, amount: f64) -> &'static str {
    if billing == "retainer" {
        "retainer-standard"
    } else if amount >= 100000.0 {
        "enterprise"
    } else if amount >= 25000.0 && billing == "fixed_fee" {
        "fixed-fee-large"
    } else if billing == "fixed_fee" {
        "fixed-fee-small"
    } else {
        "tm-default"
    }
}

fn map_line(line: &[u8], out: &mut impl Write) -> Result<(), String> {
    let deal: Deal = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    let p = &deal.properties;
    if text(&p.dealstage) != Some("closedwon") {
        return Ok(());
    }
    let amount = positive_amount(text(&p.amount));
    let closedate = text(&p.closedate);
    let checks = [
        ("amount", amount.is_some()),
        ("closedate", present(closedate)),
        ("hubspot_owner_id", present(text(&p.hubspot_owner_id))),
    ];
    let written = if let (Some(amount), true) = (amount, checks.iter().all(|(_, ok)| *ok)) {
        let billing_type = billing(text(&p.dealtype));
        let closedate = closedate.unwrap_or("");
        let project = Project {
            client: Client { name: text(&p.company_name).map(client_name) },
            title: text(&p.dealname),
            budget: budget(amount),
            start_date: closedate.get(..10).unwrap_or(closedate),
            billing_type,
            template: template(billing_type, amount),
            manager_email: text(&p.delivery_lead_email),
            notes: format!("Sold as: {}\n{}", text(&p.dealtype).unwrap_or(""), text(&p.description).unwrap_or("")),
            source: Source { system: "hubspot", deal_id: &deal.id },
        };
        serde_json::to_writer(&mut *out, &project)
    } else {
        let missing: Vec<&str> = checks.iter().filter(|(_, ok)| !ok).map(|(n, _)| *n).collect();
        serde_json::to_writer(&mut *out, &serde_json::json!({"reject": {"deal_id": deal.id, "missing": missing}}))
    };
    written.map_err(|e| e.to_string())?;
    out.write_all(b"\n").map_err(|e| e.to_string())
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: typed-baseline DEALS.ndjson > OUT.ndjson");
        std::process::exit(2);
    };
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(2);
    });
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    for (index, line) in reader.split(b'\n').enumerate() {
        let line = line.unwrap_or_else(|e| {
            eprintln!("read error: {e}");
            std::process::exit(2);
        });
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Err(error) = map_line(&line, &mut out) {
            eprintln!("line {}: {error}", index + 1);
            std::process::exit(1);
        }
    }
    let _ = out.flush();
}
