//! "Did you mean …?": the closest known names to a misspelt one.

/// Known names close enough to `wanted` to be a likely typo, closest first (at most three).
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let wanted_lower = wanted.to_lowercase();
    let wanted_chars = wanted.chars().count();
    let wanted_lower_chars = wanted_lower.chars().count();
    let mut scored: Vec<(usize, &str)> = known
        .into_iter()
        .filter_map(|name| {
            let bound = (wanted_chars.max(name.chars().count()) / 3).max(2);
            let name_lower = name.to_lowercase();
            // The distance is at least the difference in length: a name too long or too
            // short to be close is not measured (this runs on every keystroke in a brief
            // with an unknown agent).
            if wanted_lower_chars.abs_diff(name_lower.chars().count()) > bound {
                return None;
            }
            let distance = strsim::damerau_levenshtein(&wanted_lower, &name_lower);
            (distance <= bound && distance > 0 || (distance == 0 && wanted != name))
                .then_some((distance, name))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, name)| name.to_owned())
        .collect()
}

/// ` (did you mean `x`?)`, or nothing when there is no close name.
pub fn did_you_mean(candidates: &[String], prefix: &str) -> String {
    match candidates.first() {
        Some(best) => format!(" (did you mean `{prefix}{best}`?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_not_strangers() {
        let agents = ["researcher", "writer", "critic"];
        assert_eq!(closest("reseacher", agents), vec!["researcher"]);
        assert_eq!(closest("Writer", agents), vec!["writer"]);
        assert!(closest("accountant", agents).is_empty());
    }
}
