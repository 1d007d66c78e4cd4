//! Bad rows: stop before writing by default, quarantine with `--skip-bad-rows`; the Parquet demo copy.

use recon_io::{Layout, RawMoveLine, RawStatementLine};

use crate::support::{Workspace, demo, edited_copy, run};

#[test]
fn bad_row_stops_the_run_naming_file_line_column_and_value() {
    let workspace = Workspace::new();
    let statements = edited_copy(&workspace, "neon_statement_lines.csv", "884110,", "12000.00", "12000.0.0");
    let ran = run(&mut workspace.run_command(&statements, &demo("odoo_move_lines.csv"), &[])).expect_code(2);
    let expected =
        format!("{}:12: column \"amount\": value \"12000.0.0\": invalid amount \"12000.0.0\"", statements.display());
    assert!(ran.stderr.contains(&expected), "{expected:?} not in:\n{}", ran.stderr);
    assert!(ran.stderr.contains("nothing was written"), "{}", ran.stderr);
    assert!(workspace.contents().is_empty());
}

#[test]
fn skip_bad_rows_quarantines_and_counts_them() {
    let workspace = Workspace::new();
    let moves = edited_copy(
        &workspace,
        "odoo_move_lines.csv",
        "__export__.account_move_line_52591_",
        "4250.0,0.0",
        "4250.0,cero",
    );
    let ran = run(&mut workspace.run_command(&demo("neon_statement_lines.csv"), &moves, &["--skip-bad-rows"]));
    let ran = ran.expect_code(3);
    assert!(ran.stdout.contains("Quarantined bad rows (not in the rates): 0 statement, 1 Odoo"), "{}", ran.stdout);
    assert!(ran.stdout.contains("1 rows quarantined"), "{}", ran.stdout);
    let contents = workspace.contents();
    assert_eq!(contents.runs.len(), 1);
    let run_record = &contents.runs[0];
    let counts = run_record.counts.as_ref().unwrap();
    assert_eq!(counts["quarantined"]["move_rows"], 1);
    assert_eq!(run_record.kpi.as_ref().unwrap().report["quarantined"]["move_rows"], 1);
    let quarantined = workspace.quarantined(&run_record.header.run_id);
    assert_eq!(quarantined.len(), 1);
    let row = &quarantined[0];
    assert_eq!((row.source.as_str(), row.line), ("odoo", 52));
    assert_eq!(row.file, moves.display().to_string());
    assert_eq!((row.column_name.as_deref(), row.value.as_deref()), (Some("credit"), Some("cero")));
    assert!(row.raw.contains("BBVA/2026/00422"), "{}", row.raw);
    // Without that Odoo line the 7,250.00 deposit no longer settles as a sum of two lines.
    assert!(!workspace.export("matches").contains("settlement_sum"));
}

#[test]
fn repeated_id_is_a_bad_row() {
    let workspace = Workspace::new();
    let statements = edited_copy(&workspace, "neon_statement_lines.csv", "884206,", "884206,", "884205,");
    let ran = run(&mut workspace.run_command(&statements, &demo("odoo_move_lines.csv"), &[])).expect_code(2);
    let expected = format!("{}:20: column \"id\": value \"884205\": id already used by line 19", statements.display());
    assert!(ran.stderr.contains(&expected), "{expected:?} not in:\n{}", ran.stderr);
}

#[test]
fn duplicate_id_of_a_line_the_run_leaves_out_is_bad_input() {
    // Line 3 is a counterpart line (receivable), dropped at read; its id is that of the bank line on
    // line 2. Ids are unique across the whole input, whatever the run keeps.
    let workspace = Workspace::new();
    let counterpart = "__export__.account_move_line_52542_f49c07dd";
    let moves = edited_copy(&workspace, "odoo_move_lines.csv", counterpart, "52542_f49c07dd", "52541_72919a08");
    let ran = run(&mut workspace.run_command(&demo("neon_statement_lines.csv"), &moves, &[])).expect_code(2);
    let expected = format!(
        "{}:3: column \"id\": value \"__export__.account_move_line_52541_72919a08\": id already used by line 2",
        moves.display()
    );
    assert!(ran.stderr.contains(&expected), "{expected:?} not in:\n{}", ran.stderr);
}

#[test]
fn id_of_a_line_left_out_earlier_is_bad_input_for_kept_and_left_out_lines() {
    // Line 3 is a counterpart line, left out at read. Line 4 (a bank line, kept) and line 5 (another
    // counterpart line, left out) in turn take its id: each is refused, naming line 3.
    let left_out = "__export__.account_move_line_52542_f49c07dd";
    for (line, prefix, from) in [
        (4, "__export__.account_move_line_52543_cb41645d", "52543_cb41645d"),
        (5, "__export__.account_move_line_52544_9dc4094a", "52544_9dc4094a"),
    ] {
        let workspace = Workspace::new();
        let moves = edited_copy(&workspace, "odoo_move_lines.csv", prefix, from, "52542_f49c07dd");
        let ran = run(&mut workspace.run_command(&demo("neon_statement_lines.csv"), &moves, &[])).expect_code(2);
        let expected =
            format!("{}:{line}: column \"id\": value \"{left_out}\": id already used by line 3", moves.display());
        assert!(ran.stderr.contains(&expected), "{expected:?} not in:\n{}", ran.stderr);
    }
}

#[test]
fn missing_column_is_bad_input() {
    let workspace = Workspace::new();
    let statements = edited_copy(&workspace, "neon_statement_lines.csv", "id,", "amount", "importe");
    let ran = run(&mut workspace.run_command(&statements, &demo("odoo_move_lines.csv"), &[])).expect_code(2);
    assert!(ran.stderr.contains("column \"amount\" (for field `amount`) is not in the header"), "{}", ran.stderr);
    assert!(workspace.contents().is_empty());
}

#[test]
fn a_bad_file_is_reported_whichever_of_the_two_failed() {
    // The two files are read at once, and a failure of either stops the other: what is reported is
    // the failure itself (the statement file's when both fail), never the read it stopped.
    let workspace = Workspace::new();
    let statements = edited_copy(&workspace, "neon_statement_lines.csv", "id,", "amount", "importe");
    let moves = edited_copy(&workspace, "odoo_move_lines.csv", "id,", "debit", "debe");
    let cases = [
        (&statements, &moves, "column \"amount\" (for field `amount`) is not in the header"),
        (&demo("neon_statement_lines.csv"), &moves, "column \"debit\" (for field `debit`) is not in the header"),
    ];
    for (statements, moves, expected) in cases {
        let ran = run(&mut workspace.run_command(statements, moves, &[])).expect_code(2);
        assert!(ran.stderr.contains(expected), "{expected:?} not in:\n{}", ran.stderr);
        assert!(!ran.stderr.contains("read stopped"), "{}", ran.stderr);
    }
    assert!(workspace.contents().is_empty());
}

/// The Parquet copies of the demo hold the same rows as the CSV files. `RECON_UPDATE_DEMO=1` rewrites
/// them from the CSV files.
#[test]
fn demo_parquet_copies_match_the_csv_files() {
    let statements_csv = recon_io::read_statements(demo("neon_statement_lines.csv"), &Layout::neon_default()).unwrap();
    let moves_csv = recon_io::read_moves(demo("odoo_move_lines.csv"), &Layout::odoo_default()).unwrap();
    if std::env::var_os("RECON_UPDATE_DEMO").is_some() {
        recon_io::write_statements_parquet(demo("neon_statement_lines.parquet"), &statements_csv).unwrap();
        recon_io::write_moves_parquet(demo("odoo_move_lines.parquet"), &moves_csv).unwrap();
    }
    let statements_parquet =
        recon_io::read_statements(demo("neon_statement_lines.parquet"), &Layout::neon_default()).unwrap();
    let moves_parquet = recon_io::read_moves(demo("odoo_move_lines.parquet"), &Layout::odoo_default()).unwrap();
    let text = |line: &RawStatementLine| {
        (line.id.clone(), line.booked_at.clone(), line.amount.clone(), line.reference.clone(), line.description.clone())
    };
    assert_eq!(
        statements_parquet.iter().map(text).collect::<Vec<_>>(),
        statements_csv.iter().map(text).collect::<Vec<_>>()
    );
    let text = |line: &RawMoveLine| {
        (line.id.clone(), line.date.clone(), line.debit.clone(), line.credit.clone(), line.r#ref.clone())
    };
    assert_eq!(moves_parquet.iter().map(text).collect::<Vec<_>>(), moves_csv.iter().map(text).collect::<Vec<_>>());
}
