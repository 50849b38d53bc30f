//! "Did you mean": a suggestion only when a candidate is close.
//!
//! An exact case-insensitive match wins; otherwise the most similar candidate by normalised
//! Damerau-Levenshtein similarity, and only when it reaches [`THRESHOLD`]. Far-off names get no
//! suggestion rather than a misleading one.

/// Smallest similarity (0..1) for a suggestion.
pub const THRESHOLD: f64 = 0.7;

/// The closest candidate to `name`, if close enough.
pub fn closest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut best: Option<(f64, &'a str)> = None;
    let lowered = name.to_lowercase();
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        if candidate.to_lowercase() == lowered {
            return Some(candidate);
        }
        let score = strsim::normalized_damerau_levenshtein(&lowered, &candidate.to_lowercase());
        if score >= THRESHOLD && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_close_names() {
        let fields = ["dealname", "dealstage", "amount", "closedate"];
        assert_eq!(closest("dealnme", fields), Some("dealname"));
        assert_eq!(closest("AMOUNT", fields), Some("amount"));
        assert_eq!(
            closest("closed_won", ["closedwon", "closedlost"]),
            Some("closedwon")
        );
        assert_eq!(closest("budget", fields), None);
    }
}
