//! "Did you mean" suggestions for configured names that were not found.

/// At most this many suggestions are made.
const SUGGESTIONS_MAX: usize = 5;

/// Names longer than this (in characters) are compared on their first this many,
/// which bounds the cost of one comparison.
const COMPARED_CHARS_MAX: usize = 64;

/// The candidates most like `wanted` (at most 5, most similar first, then by name).
pub(crate) fn most_similar<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    most_similar_keyed(wanted, candidates.map(|candidate| (candidate, candidate)))
}

/// [`most_similar`], comparing `wanted` with `key(candidate)` but returning whole
/// candidates.
pub(crate) fn most_similar_by<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a str>,
    key: impl Fn(&'a str) -> &'a str,
) -> Vec<String> {
    most_similar_keyed(wanted, candidates.map(|candidate| (key(candidate), candidate)))
}

/// The labels whose keys are most like `wanted`, from `(key, label)` pairs; a
/// label listed under several keys (a journal's code and its name) counts with
/// its most similar key.
pub(crate) fn most_similar_keyed<'a>(wanted: &str, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let wanted = normalize(wanted);
    let mut scored: Vec<(usize, &str)> =
        pairs.filter_map(|(key, label)| distance(&wanted, &normalize(key)).map(|d| (d, label))).collect();
    scored.sort_unstable();
    let mut labels: Vec<String> = Vec::with_capacity(SUGGESTIONS_MAX);
    for (_, label) in scored {
        if labels.len() == SUGGESTIONS_MAX {
            break;
        }
        if !labels.iter().any(|seen| seen == label) {
            labels.push(label.to_owned());
        }
    }
    labels
}

/// Lower case, letters and digits only, at most [`COMPARED_CHARS_MAX`] characters.
fn normalize(name: &str) -> Vec<char> {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).take(COMPARED_CHARS_MAX).collect()
}

/// How unlike two normalized names are, or `None` when they are not similar at
/// all: 0 for equal, 1 when one contains the other (3 characters or more), else
/// the edit distance when it is at most a third of the longer name (at least 2).
fn distance(a: &[char], b: &[char]) -> Option<usize> {
    if a == b {
        return Some(0);
    }
    let (shorter, longer) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if shorter.len() >= 3 && longer.windows(shorter.len()).any(|window| window == shorter) {
        return Some(1);
    }
    let edits = levenshtein(a, b);
    (edits <= (longer.len() / 3).max(2)).then_some(edits + 1)
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_first() {
        let journals = ["BNK1 Bancos STP", "BNK2 BBVA USD", "MISC Operaciones varias", "SAL Ventas"];
        assert_eq!(most_similar("bancos stp", journals.into_iter()), ["BNK1 Bancos STP"]);
        let codes = ["102.01.01", "102.01.02", "105.01.01", "601.84.01"];
        assert_eq!(most_similar("102.01.09", codes.into_iter()), ["102.01.01", "102.01.02", "105.01.01"]);
        assert!(most_similar("zzz", codes.into_iter()).is_empty());
    }

    #[test]
    fn the_key_is_compared_and_the_whole_name_returned() {
        let tables = ["public.bank_statement_line", "public.runs"];
        let similar = most_similar_by("bank_statement_lines", tables.into_iter(), |t| t.rsplit('.').next().unwrap());
        assert_eq!(similar, ["public.bank_statement_line"]);
    }
}
