//! A bad configuration fails before any work with exit 2, naming the key and the problem.

use crate::support::{Workspace, demo, run};

/// Runs the demo with the demo config where `from` is replaced by `to`; returns stderr after checking
/// exit 2 and an untouched store.
fn refused(from: &str, to: &str) -> String {
    let workspace = Workspace::new();
    let text = std::fs::read_to_string(demo("recon.toml")).unwrap();
    assert!(text.contains(from), "{from:?} not in the demo config");
    let config = workspace.path("recon.toml");
    std::fs::write(&config, text.replacen(from, to, 1)).unwrap();
    let mut command = workspace.recon(&["run", "--from", "2026-10-12", "--to", "2026-10-16"]);
    command.arg("--config").arg(&config);
    command.arg("--statements").arg(demo("neon_statement_lines.csv")).arg("--moves").arg(demo("odoo_move_lines.csv"));
    let ran = run(&mut command).expect_code(2);
    assert!(!std::path::Path::new(&workspace.store()).exists(), "a bad config must fail before the store is opened");
    ran.stderr
}

#[test]
fn bad_config_names_the_key_and_the_problem() {
    let cases = [
        (
            "clabe = \"646180111805034237\"",
            "clabe = \"646180111805034238\"",
            "key `accounts[0].clabe`: CLABE \"646180111805034238\" has check digit 8, expected 7",
        ),
        ("currency = \"USD\"", "currency = \"USX\"", "key `accounts[2].currency`: unknown currency code \"USX\""),
        (
            "zone = \"America/Mexico_City\"",
            "zone = \"America/Mexico\"",
            "key `zone`: unknown time zone \"America/Mexico\"",
        ),
        ("kpi_threshold = \"0.95\"", "kpi_threshold = \"95\"", "key `kpi_threshold`: 95 is not in (0, 1]"),
        ("kpi_threshold = \"0.95\"", "kpi_threshold = 0.95", "key `kpi_threshold`"),
        (
            "percent = \"3.5\"",
            "percent = \"135\"",
            "key `settlement.fee_schedules[0].percent`: 135 is not a percentage in [0, 100]",
        ),
        ("name = \"spei\"", "name = \"oxxo\"", "key `settlement.fee_schedules[1].name`: \"oxxo\" appears twice"),
        (
            "clabe = \"012180001198765436\"",
            "clabe = \"646180111805034237\"",
            "key `accounts[1].clabe`: \"646180111805034237\" appears in two accounts",
        ),
        ("extra = []", "extra = [2026-11-20, 2026-11-20]", "key `holidays.extra[1]`: 2026-11-20 appears twice"),
        ("removed = []", "removed = [\"2026-10-12\"]", "key `holidays.removed[0]`: 2026-10-12 is not a holiday"),
        ("lookback_days = 7", "lookback_day = 7", "key `lookback_day`: TOML parse error"),
        (
            "window_banking_days = 3",
            "window_banking_days = 9",
            "key `matching.context_banking_days`: 7 must be at least window_banking_days + 1 = 10",
        ),
    ];
    for (from, to, expected) in cases {
        let stderr = refused(from, to);
        assert!(stderr.contains(expected), "{to}: {expected:?} not in:\n{stderr}");
    }
}

#[test]
fn missing_config_file_is_bad_input() {
    let workspace = Workspace::new();
    let mut command =
        workspace.recon(&["run", "--config", "/nonexistent/recon.toml", "--statements", "a.csv", "--moves", "b.csv"]);
    let ran = run(&mut command).expect_code(2);
    assert!(ran.stderr.contains("config /nonexistent/recon.toml: cannot read"), "{}", ran.stderr);
}

#[test]
fn usage_error_exits_2() {
    let workspace = Workspace::new();
    run(&mut workspace.recon(&["run", "--config"])).expect_code(2);
    run(&mut workspace.recon(&["explain"])).expect_code(2);
}
