//! `recon run` end to end: report, exit codes, idempotence, atomicity, the lock.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use recon_store::{MatchRecord, RunStatus};

use crate::support::{Ran, Workspace, column, csv_rows, demo, full_stdout, run};

const RULES: [&str; 7] = [
    "fingerprint",
    "reference_amount",
    "amount_date",
    "amount_date_corroborated",
    "settlement_reference",
    "settlement_net_of_fees",
    "settlement_sum",
];

const KINDS: [&str; 7] = [
    "unmatched_statement",
    "unmatched_move",
    "duplicate",
    "amount_mismatch",
    "currency_mismatch",
    "date_out_of_window",
    "ambiguous",
];

/// Stored explanations (v3) hold what the match's columns do not: the fee and the Odoo side's sum
/// of a fee-net settlement, what else agreed of a corroborated match; not the sentence, which the
/// export writes from the row.
fn assert_explanations_are_v3(matches: &[MatchRecord]) {
    for found in matches {
        let explanation = &found.explanation;
        assert_eq!(explanation["v"], 3, "{}: {explanation}", found.match_id);
        assert!(explanation.get("summary").is_none(), "{explanation}");
        assert!(explanation.get("rule").is_none() && explanation.get("amount").is_none(), "{explanation}");
        match found.rule.as_str() {
            "settlement_net_of_fees" => {
                assert!(explanation["fee"].is_string() && explanation["move_amount"].is_object(), "{explanation}")
            }
            "amount_date_corroborated" => {
                assert!(explanation["corroboration"].as_array().is_some_and(|c| !c.is_empty()), "{explanation}")
            }
            // All a tier 1 or 2 match may add: that its dates differ within the window.
            "fingerprint" | "reference_amount" => {
                let keys: Vec<&String> = explanation.as_object().expect("an object").keys().collect();
                assert!(keys.iter().all(|k| *k == "v" || *k == "corroboration"), "{explanation}");
            }
            _ => {}
        }
    }
}

#[test]
fn demo_run_reports_the_kpi_and_exits_3_below_threshold() {
    let workspace = Workspace::new();
    let ran = workspace.run_demo(&[]).expect_code(3);
    for expected in [
        "KPI by account (alert below 95.00 %)",
        "646180111805034237  STP concentradora  MXN     12        8       1     66.66 %",
        "012180001198765436  BBVA operativa     MXN      8        5       0     62.50 %",
        "014180655001234563  Santander USD      USD      3        2       0     66.66 %",
        "all accounts                           *       23       15       1     65.21 %",
        "Matches by rule: amount_date 2, amount_date_corroborated 1, fingerprint 6, reference_amount 3, settlement_net_of_fees 1, settlement_reference 1, settlement_sum 1 (needing review: 1)",
        "Exceptions by kind: ambiguous 1, amount_mismatch 2, currency_mismatch 1, date_out_of_window 1, duplicate 1, unmatched_move 2, unmatched_statement 2",
        "Largest exceptions",
        "cents booked as pesos",
        "Result: BELOW THRESHOLD: overall count rate 65.21 %",
    ] {
        assert!(ran.stdout.contains(expected), "{expected:?} not in:\n{}", ran.stdout);
    }
    // Every log line of the run names it.
    let run_id = workspace.contents().runs[0].header.run_id.clone();
    let run_lines: Vec<&str> = ran.stderr.lines().filter(|l| l.contains(" INFO ") || l.contains(" WARN ")).collect();
    assert!(!run_lines.is_empty());
    assert!(run_lines.iter().all(|l| l.contains(&format!("run_id={run_id}"))), "{}", ran.stderr);
}

#[test]
fn demo_shows_every_match_rule_and_every_exception_kind() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let exported = workspace.export("matches");
    let rules = column(&exported, "rule");
    for rule in RULES {
        assert!(rules.iter().any(|r| r == rule), "rule {rule} missing from {rules:?}");
    }
    // Every match says why, in the sentence written from its row: the Conekta payout (884105)
    // settles four Odoo lines.
    let summaries = column(&exported, "summary");
    assert!(summaries.iter().all(|s| !s.is_empty()), "{exported}");
    let statements = column(&exported, "statement_id");
    let payout = statements.iter().position(|id| id == "884105").expect("the payout is matched");
    assert!(summaries[payout].contains("settles 4 Odoo lines"), "{}", summaries[payout]);
    let kinds = column(&workspace.export("cases"), "kind");
    for kind in KINDS {
        assert!(kinds.iter().any(|k| k == kind), "kind {kind} missing from {kinds:?}");
    }
    let contents = workspace.contents();
    assert_eq!((contents.runs.len(), contents.matches.len(), contents.cases.len()), (1, 15, 10));
    assert_explanations_are_v3(&contents.matches);
    // Lines of the context margin are reconciled but not written: statement 884090 (2026-10-09).
    let matches = workspace.export("matches");
    assert!(!matches.contains(",884090,"), "{matches}");
    // The Friday-evening SPEI is matched to an Odoo line dated after the range (edge match).
    assert!(matches.contains(",884111,"), "{matches}");
}

#[test]
fn second_identical_run_changes_nothing() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let (matches, cases) = (workspace.export("matches"), workspace.export("cases"));
    let before = workspace.contents();
    let again = workspace.run_demo(&[]).expect_code(3);
    assert!(again.stdout.contains("Store: matches 0 new, 15 kept, 0 reactivated, 0 superseded; cases 0 opened, 10 seen again, 0 reopened, 0 auto-resolved"), "{}", again.stdout);
    assert_eq!(workspace.export("matches"), matches);
    assert_eq!(workspace.export("cases"), cases);
    let after = workspace.contents();
    assert_eq!(after.runs.len(), 2);
    assert_eq!(after.cases.len(), before.cases.len());
    assert_eq!(after.matches.len(), before.matches.len());
}

#[test]
fn empty_statement_feed_leaves_matches_and_cases_as_they_were() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let (matches, cases) = (workspace.export("matches"), workspace.export("cases"));
    // A failed NEON export: the header and nothing else.
    let header = std::fs::read_to_string(demo("neon_statement_lines.csv")).unwrap();
    let empty = workspace.path("empty_statements.csv");
    std::fs::write(&empty, format!("{}\n", header.lines().next().unwrap())).unwrap();
    let mut command = workspace.run_command(&empty, &demo("odoo_move_lines.csv"), &[]);
    let night = run(&mut command).expect_code(3);
    assert!(night.stdout.contains("0 superseded") && night.stdout.contains("0 auto-resolved"), "{}", night.stdout);
    assert_eq!(workspace.export("matches"), matches);
    assert_eq!(workspace.export("cases"), cases);
}

#[test]
fn parquet_inputs_give_the_same_matches_and_cases_as_csv() {
    let csv = Workspace::new();
    csv.run_demo(&[]).expect_code(3);
    let parquet = Workspace::new();
    let mut command = parquet.run_command(&demo("neon_statement_lines.parquet"), &demo("odoo_move_lines.parquet"), &[]);
    run(&mut command).expect_code(3);
    assert_eq!(parquet.export("matches"), csv.export("matches"));
    assert_eq!(parquet.export("cases"), csv.export("cases"));
}

/// Starts a demo run that pauses before its write transaction; returns once it has paused.
fn paused_run(workspace: &Workspace) -> std::process::Child {
    let mut command = workspace.run_command(&demo("neon_statement_lines.csv"), &demo("odoo_move_lines.csv"), &[]);
    command.env("RECON_TEST_PAUSE_BEFORE_WRITE_MS", "600000").stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let paused = lines.by_ref().map_while(Result::ok).any(|line| line.contains("pausing before the write transaction"));
    assert!(paused, "the run ended before pausing");
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

#[test]
fn killed_run_leaves_nothing_behind_and_the_next_run_succeeds() {
    let workspace = Workspace::new();
    let mut child = paused_run(&workspace);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(workspace.contents().is_empty(), "a killed run wrote something");
    workspace.run_demo(&[]).expect_code(3);
    let contents = workspace.contents();
    assert_eq!((contents.runs.len(), contents.matches.len(), contents.cases.len()), (1, 15, 10));
    assert_explanations_are_v3(&contents.matches);
}

#[test]
fn concurrent_run_is_refused_with_exit_5() {
    let workspace = Workspace::new();
    let mut child = paused_run(&workspace);
    let refused = workspace.run_demo(&["--mode", "manual", "--operator", "ana"]);
    child.kill().unwrap();
    child.wait().unwrap();
    let refused = refused.expect_code(5);
    assert!(refused.stderr.contains("the store is locked"), "{}", refused.stderr);
    assert!(refused.stderr.contains("held by pid"), "{}", refused.stderr);
    assert!(refused.stderr.contains("nightly run R-"), "{}", refused.stderr);
    assert!(workspace.contents().is_empty());
}

/// Yesterday in Mexico City.
fn yesterday() -> chrono::NaiveDate {
    let today = chrono::Utc::now().with_timezone(&chrono_tz::America::Mexico_City).date_naive();
    today.pred_opt().unwrap()
}

#[test]
fn default_range_is_lookback_days_ending_yesterday_and_an_empty_night_alerts() {
    let workspace = Workspace::new();
    let before = yesterday();
    let mut command = workspace.recon(&["run", "--statements"]);
    command.arg(demo("neon_statement_lines.csv")).arg("--moves").arg(demo("odoo_move_lines.csv"));
    command.arg("--config").arg(demo("recon.toml"));
    let ran = run(&mut command).expect_code(3);
    let after = yesterday();
    assert!(ran.stdout.contains("Result: NO STATEMENT LINES in the range"), "{}", ran.stdout);
    let scope = workspace.contents().runs[0].header.scope.clone();
    assert!(scope.date_to == before || scope.date_to == after, "{scope:?}");
    assert_eq!((scope.date_to - scope.date_from).num_days(), 6, "lookback_days = 7");
}

#[test]
fn json_logs_carry_the_run_id_on_every_line() {
    let workspace = Workspace::new();
    let ran = workspace.run_demo(&["--log-format", "json"]).expect_code(3);
    let run_id = workspace.contents().runs[0].header.run_id.clone();
    let lines: Vec<serde_json::Value> = ran.stderr.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(lines.len() >= 3, "{}", ran.stderr);
    for line in &lines {
        assert_eq!(line["span"]["run_id"], run_id.as_str(), "{line}");
    }
    // A failure is one JSON line too.
    let mut command = workspace.recon(&["--log-format", "json", "cases", "show", "C-0"]);
    let ran = run(&mut command).expect_code(2);
    let error: serde_json::Value = serde_json::from_str(ran.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(error["level"], "ERROR");
    assert!(error["fields"]["message"].as_str().unwrap().contains("case C-0 not found"));
}

#[test]
fn run_with_explicit_correlation_id_tags_cases() {
    let workspace = Workspace::new();
    workspace
        .run_demo(&["--correlation-id", "airflow-2026-10-17", "--mode", "manual", "--operator", "ana"])
        .expect_code(3);
    let contents = workspace.contents();
    assert_eq!(contents.runs[0].header.correlation_id, "airflow-2026-10-17");
    assert_eq!(contents.runs[0].header.operator, "ana");
    assert!(contents.cases.iter().all(|c| c.correlation_id == "airflow-2026-10-17"));
    let inputs = &contents.runs[0].header.inputs;
    assert_eq!(inputs.len(), 2);
    assert_eq!(inputs[0].rows, 25);
    assert_eq!(inputs[0].blake3, recon_io::blake3_file(demo("neon_statement_lines.csv")).unwrap());
}

#[test]
fn counterpart_lines_dropped_at_read_are_still_counted() {
    // Odoo lines off the configured bank GL accounts are dropped as they are read (memory holds only
    // lines the run uses), yet the run's counts show every one of them, as the core would count them.
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let run = &workspace.contents().runs[0];
    let counts = run.counts.as_ref().unwrap();
    let lines = &counts["lines"]["moves"];
    let reconciled = &counts["reconciled"];
    let odoo = std::fs::read_to_string(demo("odoo_move_lines.csv")).unwrap();
    let rows = csv_rows(&odoo);
    let account = rows[0].iter().position(|c| c == "account_id").unwrap();
    let counterparts = rows[1..].iter().filter(|row| !row[account].starts_with("102.")).count() as u64;
    assert!(counterparts > 0);
    assert_eq!(lines["read"].as_u64().unwrap(), (rows.len() - 1) as u64, "{counts}");
    // Lines outside the context dates are left out before the core (two in the demo, one of them a
    // counterpart line); every other counterpart line is counted as not on a bank account.
    let outside = lines["outside"].as_u64().unwrap();
    assert_eq!(outside, 2, "{counts}");
    assert_eq!(reconciled["moves_not_bank_account"].as_u64().unwrap(), counterparts - 1, "{counts}");
    assert_eq!(reconciled["moves_total"].as_u64().unwrap(), (rows.len() - 1) as u64 - outside, "{counts}");
    let parts = ["moves_in_scope", "moves_draft", "moves_cancelled", "moves_not_bank_account"];
    let sum: u64 = parts.iter().map(|part| reconciled[part].as_u64().unwrap()).sum();
    assert_eq!(sum, reconciled["moves_total"].as_u64().unwrap(), "{counts}");
}

/// A stdout that cannot take the report (`/dev/full`: every write fails with "no space left on
/// device") leaves the committed run as it is: the KPI's exit code, the run in the store, and the
/// failure logged, instead of a panic after the commit.
#[test]
fn report_that_cannot_be_printed_keeps_the_committed_run_and_its_exit_code() {
    let workspace = Workspace::new();
    let mut command = workspace.run_command(&demo("neon_statement_lines.csv"), &demo("odoo_move_lines.csv"), &[]);
    let ran = Ran::from(command.stdout(full_stdout()).output().expect("recon runs")).expect_code(3);
    assert!(
        ran.stderr.contains("is committed, but the output could not be written to stdout"),
        "stderr:\n{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("panicked"), "stderr:\n{}", ran.stderr);
    let contents = workspace.contents();
    assert_eq!(contents.runs.len(), 1);
    assert_eq!(contents.runs[0].status, RunStatus::Succeeded);
    assert!(!contents.matches.is_empty() && !contents.cases.is_empty());
}
