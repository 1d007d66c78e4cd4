//! A small harness for data-driven cases: tab-separated files with `#` comments, an expected column,
//! and an update mode (`RECON_UPDATE_EXPECT=1`) that rewrites the expected column from actual output.

use std::path::{Path, PathBuf};

/// Path of a file under the workspace's `testdata/`.
pub fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(relative)
}

/// Runs `check` over every case line of `relative`: the last column is the expected output, the other
/// columns are passed to `check`. Collects every mismatch and fails once, listing them all.
pub fn check_cases(relative: &str, check: impl Fn(&[&str]) -> String) {
    let path = testdata(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let update = std::env::var_os("RECON_UPDATE_EXPECT").is_some();
    let mut rewritten = String::new();
    let mut failures = Vec::new();
    let mut cases = 0;
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            rewritten.push_str(line);
            rewritten.push('\n');
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        let (expected, inputs) = columns.split_last().expect("a case line has columns");
        let actual = check(inputs);
        cases += 1;
        if actual != *expected {
            failures.push(format!(
                "{}:{}: {:?}\n    expected: {expected}\n    actual:   {actual}",
                path.display(),
                index + 1,
                inputs
            ));
        }
        rewritten.push_str(&inputs.join("\t"));
        rewritten.push('\t');
        rewritten.push_str(&actual);
        rewritten.push('\n');
    }
    assert!(cases > 0, "{} has no cases", path.display());
    if update {
        std::fs::write(&path, rewritten).expect("rewriting expected output");
        return;
    }
    assert!(failures.is_empty(), "{} of {cases} cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// Lines of a file that are not comments or blank.
pub fn case_lines(relative: &str) -> Vec<String> {
    let path = testdata(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(str::to_owned).collect()
}
