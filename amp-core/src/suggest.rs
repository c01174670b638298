//! "Did you mean `x`?": the one rule for suggesting a name (config fields and variants, layer
//! names) close to a misspelled one.

/// The candidate closest to `given`, if it is close enough to be a slip of the keyboard:
/// at most one edit per three characters (rustc's rule), counting a swap of two neighbours as
/// one edit (`ratoi` -> `ratio`). A short name far from every candidate (`name` against `axes`)
/// gets no suggestion rather than a misleading one.
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = given.chars().count().max(3) / 3;
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(c, given), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_only_names_within_one_edit_per_three_characters() {
        let fields = ["configs", "models", "seeds", "axes", "out"];
        assert_eq!(closest("seed", fields), Some("seeds"));
        assert_eq!(closest("model", fields), Some("models"));
        assert_eq!(closest("name", fields), None);
        assert_eq!(closest("ratoi", ["ratio", "kind"]), Some("ratio"));
        assert_eq!(closest("lr2", ["lr", "epochs"]), Some("lr"));
        assert_eq!(closest("xyzzy", ["kind", "ratio"]), None);
        // Eleven characters allow three edits.
        assert_eq!(
            closest("obsrv_epchs", ["observe_epochs"]),
            Some("observe_epochs")
        );
        assert_eq!(closest("threshold", ["thr"]), None);
        // The closest wins; a tie goes to the first in order.
        assert_eq!(closest("convv2", ["conv1", "conv2"]), Some("conv2"));
        assert_eq!(
            closest("conv9", ["conv10", "conv2", "conv1"]),
            Some("conv2")
        );
        assert_eq!(closest("x", []), None);
    }
}
