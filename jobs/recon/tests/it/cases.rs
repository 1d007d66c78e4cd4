//! `recon cases list|show|resolve|export` and `recon migrate`.

use polars::prelude::{DataFrame, ParquetReader, SerReader};

use crate::support::{Ran, Workspace, assert_sources_point_at_their_lines, column, full_stdout, run};

fn read_parquet(path: &std::path::Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap()).finish().unwrap()
}

/// The id of the demo's cents-as-pesos case.
fn cents_as_pesos_case(workspace: &Workspace) -> String {
    let ran = run(&mut workspace.recon(&["cases", "list", "--kind", "amount_mismatch", "--json"])).expect_code(0);
    let cases: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 2);
    let case = cases.iter().find(|c| c["summary"].as_str().unwrap().contains("cents booked as pesos")).unwrap();
    case["case_id"].as_str().unwrap().to_owned()
}

/// A listing whose stdout fails exits 1 and says so, where `print!` would have panicked (101); a
/// reader that went away (`recon cases list | head`) is no error; a case closed stays closed
/// whether or not its confirmation can be printed, and the command exits 0.
#[test]
fn output_that_cannot_be_written_fails_a_listing_but_not_a_closed_case() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let listed = Ran::from(workspace.recon(&["cases", "list"]).stdout(full_stdout()).output().unwrap()).expect_code(1);
    assert!(listed.stderr.contains("writing to standard output"), "{}", listed.stderr);
    assert!(!listed.stderr.contains("panicked"), "{}", listed.stderr);

    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let piped = Ran::from(workspace.recon(&["cases", "list"]).stdout(writer).output().unwrap()).expect_code(0);
    assert!(!piped.stderr.contains("panicked"), "{}", piped.stderr);

    let case_id = cents_as_pesos_case(&workspace);
    let mut command =
        workspace.recon(&["cases", "resolve", &case_id, "--operator", "ana", "--action", "x", "--prevention", "y"]);
    let resolved = Ran::from(command.stdout(full_stdout()).output().unwrap()).expect_code(0);
    let message = format!("case {case_id} is resolved, but the output could not be written to stdout");
    assert!(resolved.stderr.contains(&message), "{}", resolved.stderr);
    let shown = run(&mut workspace.recon(&["cases", "show", &case_id, "--json"])).expect_code(0);
    let detail: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(detail["status"], "resolved");
}

/// Every case names the file and line each of its lines was read from.
#[test]
fn cases_name_the_lines_they_were_read_from() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let cases = workspace.contents().cases;
    let sources: usize = cases.iter().map(assert_sources_point_at_their_lines).sum();
    let items: usize = cases.iter().map(|case| case.evidence["items"].as_array().map_or(0, Vec::len)).sum();
    assert!(sources > 0 && sources == items, "{sources} sources for {items} items in {} cases", cases.len());
}

#[test]
fn resolve_closes_a_case_with_an_audit_trail() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let case_id = cents_as_pesos_case(&workspace);
    let mut command = workspace.recon(&["cases", "resolve", &case_id, "--operator", "ana.lopez"]);
    command.args(["--action", "Corrected BSTP/2026/00861 to 1,250.00", "--prevention", "Amount check in the import"]);
    let ran = run(&mut command).expect_code(0);
    assert!(ran.stdout.contains(&format!("case {case_id} resolved by ana.lopez")), "{}", ran.stdout);

    let shown = run(&mut workspace.recon(&["cases", "show", &case_id, "--json"])).expect_code(0);
    let detail: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(detail["status"], "resolved");
    assert_eq!(detail["resolved_by"], "ana.lopez");
    assert_eq!(detail["corrective_action"], "Corrected BSTP/2026/00861 to 1,250.00");
    assert_eq!(detail["prevention"], "Amount check in the import");
    assert_eq!(detail["evidence"]["difference"]["ratio_100"], true);
    assert_eq!(detail["external_ids"]["neon_ids"][0], "884109");
    assert_eq!(detail["external_ids"]["odoo_move_names"][0], "BSTP/2026/00861");
    assert_eq!(detail["external_ids"]["references"][0]["reference"], "MBAN01002610150073299911");
    let events: Vec<&str> = detail["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["opened", "resolved"]);

    // Closing it twice, or closing an unknown case, is the caller's mistake.
    let mut again =
        workspace.recon(&["cases", "resolve", &case_id, "--operator", "ana", "--action", "x", "--prevention", "y"]);
    let ran = run(&mut again).expect_code(2);
    assert!(ran.stderr.contains("is already resolved"), "{}", ran.stderr);
    let mut unknown =
        workspace.recon(&["cases", "resolve", "C-0", "--operator", "ana", "--action", "x", "--prevention", "y"]);
    run(&mut unknown).expect_code(2);

    // The data was not fixed, so the next run finds the exception again and reopens the case.
    workspace.run_demo(&[]).expect_code(3);
    let shown = run(&mut workspace.recon(&["cases", "show", &case_id, "--json"])).expect_code(0);
    let detail: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(detail["status"], "open");
    let events: Vec<&str> = detail["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["opened", "resolved", "reopened"]);
}

#[test]
fn ignored_case_stays_closed_on_the_next_run() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let case_id = cents_as_pesos_case(&workspace);
    let mut command = workspace.recon(&["cases", "resolve", &case_id, "--operator", "ana", "--ignore"]);
    command.args(["--action", "Test subscription, reversed", "--prevention", "Test data stays in the sandbox"]);
    run(&mut command).expect_code(0);
    workspace.run_demo(&[]).expect_code(3);
    let ran = run(&mut workspace.recon(&["cases", "list", "--status", "ignored", "--json"])).expect_code(0);
    let cases: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(cases.as_array().unwrap().len(), 1);
    assert_eq!(cases[0]["case_id"], case_id.as_str());
}

#[test]
fn cases_list_filters_and_rejects_unknown_kinds() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let mut command = workspace.recon(&["cases", "list", "--account", "014180655001234563"]);
    let ran = run(&mut command).expect_code(0);
    assert!(ran.stdout.contains("currency_mismatch"), "{}", ran.stdout);
    assert!(ran.stdout.contains("1 case(s)"), "{}", ran.stdout);
    let ran =
        run(&mut workspace.recon(&["cases", "list", "--from", "2026-10-16", "--to", "2026-10-16"])).expect_code(0);
    assert!(ran.stdout.contains("2 case(s)"), "{}", ran.stdout);
    let ran = run(&mut workspace.recon(&["cases", "list", "--kind", "orphan"])).expect_code(2);
    assert!(ran.stderr.contains("--kind \"orphan\" is not one of"), "{}", ran.stderr);
}

#[test]
fn cases_export_writes_one_row_per_item_as_csv_and_parquet() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let out = workspace.path("cases.csv");
    run(&mut workspace.recon(&["cases", "export", "--format", "csv", "--out", out.to_str().unwrap()])).expect_code(0);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("case_id,kind,status,side,item_id,account,business_date,amount,currency,summary\n"));
    assert_eq!(column(&text, "side").len(), 17);
    // Parquet, by extension and by flag; every column is text.
    let parquet = workspace.path("cases.parquet");
    run(&mut workspace.recon(&["cases", "export", "--out", parquet.to_str().unwrap()])).expect_code(0);
    let matches = workspace.path("matches.pq");
    let mut command =
        workspace.recon(&["export", "matches", "--format", "parquet", "--out", matches.to_str().unwrap()]);
    run(&mut command).expect_code(0);
    for (path, rows) in [(&parquet, 17), (&matches, 21)] {
        let frame = read_parquet(path);
        assert_eq!(frame.height(), rows, "{}", path.display());
    }
    let table = workspace.export("matches");
    assert!(table.starts_with("match_id,statement_id,move_line_id,rule,review,status,account,business_date,amount,currency,reference_kind,reference,date_delta_banking_days,summary\n"));
    // One row per Odoo line: the Conekta payout settles four lines.
    assert_eq!(column(&table, "statement_id").iter().filter(|id| *id == "884105").count(), 4);
}

#[test]
fn migrate_lists_applied_migrations_and_redacts_passwords() {
    let workspace = Workspace::new();
    let ran = run(&mut workspace.recon(&["migrate"])).expect_code(0);
    assert!(ran.stdout.contains("applied 0001 init"), "{}", ran.stdout);
    let mut command = crate::support::recon();
    command.args(["migrate", "--store", "postgres://recon:s3cret@db.example:notaport/recon"]);
    let ran = run(&mut command).expect_code(4);
    assert!(ran.stderr.contains("postgres://recon:***@db.example"), "{}", ran.stderr);
    assert!(!ran.stderr.contains("s3cret") && !ran.stdout.contains("s3cret"), "{}", ran.stderr);
}
