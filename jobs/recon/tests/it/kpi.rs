//! `recon kpi`: JSON and the Prometheus textfile.

use crate::support::{FROM, Ran, TO, Workspace, full_stdout, run};

#[test]
fn kpi_json_reports_accounts_days_and_open_cases() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let ran = run(&mut workspace.recon(&["kpi", "--from", FROM, "--to", TO, "--json"])).expect_code(3);
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(json["threshold"], "0.95");
    assert_eq!(json["overall"]["statement_lines"], 23);
    assert_eq!(json["overall"]["matched_lines"], 15);
    assert_eq!(json["overall"]["count_rate"], "0.6521");
    assert_eq!(json["below_threshold"], true);
    let accounts = json["accounts"].as_array().unwrap();
    let stp = accounts.iter().find(|a| a["account"] == "646180111805034237").unwrap();
    assert_eq!((stp["statement_lines"].as_u64(), stp["matched_lines"].as_u64()), (Some(12), Some(8)));
    assert_eq!((stp["count_rate"].as_str(), stp["amount_rate"].as_str()), (Some("0.6666"), Some("0.7869")));
    assert_eq!(stp["statement_amount"], "109369.91");
    assert_eq!(json["by_currency"]["USD"]["amount_rate"], "0.7761");
    assert_eq!(json["days"].as_array().unwrap().len(), 12);
    assert_eq!(json["open_cases"]["amount_mismatch"], 2);
    assert_eq!(json["open_cases"]["ambiguous"], 1);

    // One account, one day: 2 of 2 BBVA lines matched on Friday.
    let mut command = workspace.recon(&["kpi", "--from", TO, "--to", TO, "--account", "012180001198765436", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run(&mut command).expect_code(0).stdout).unwrap();
    assert_eq!(json["overall"]["count_rate"], "1.0000");
    assert_eq!(json["accounts"].as_array().unwrap().len(), 1);
}

#[test]
fn metrics_file_holds_the_alerting_gauges() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let metrics = workspace.path("recon.prom");
    let mut command = workspace.recon(&["kpi", "--from", FROM, "--to", TO]);
    command.arg("--metrics-file").arg(&metrics);
    let ran = run(&mut command).expect_code(3);
    assert!(ran.stdout.contains("Result: BELOW THRESHOLD"), "{}", ran.stdout);
    let text = std::fs::read_to_string(&metrics).unwrap();
    for expected in [
        "# TYPE recon_kpi_count_rate gauge",
        "recon_kpi_count_rate{account=\"646180111805034237\"} 0.6666",
        "recon_kpi_count_rate{account=\"012180001198765436\"} 0.6250",
        "recon_kpi_count_rate{account=\"all\"} 0.6521",
        "recon_kpi_amount_rate{account=\"014180655001234563\"} 0.7761",
        "recon_kpi_threshold 0.95",
        "recon_open_cases{kind=\"unmatched_statement\"} 2",
        "recon_open_cases{kind=\"currency_mismatch\"} 1",
        "# TYPE recon_last_successful_run_timestamp_seconds gauge",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    let finished = workspace.contents().runs[0].header.finished_at.timestamp();
    assert!(text.contains(&format!("recon_last_successful_run_timestamp_seconds {finished}\n")), "{text}");
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(workspace.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");

    // The exit code is the KPI's verdict, which alerts read: a stdout that fails does not turn it
    // into an error or a panic, and the metrics file is written all the same.
    std::fs::remove_file(&metrics).unwrap();
    let ran = Ran::from(command.stdout(full_stdout()).output().unwrap()).expect_code(3);
    assert!(ran.stderr.contains("the KPI is read, but the output could not be written to stdout"), "{}", ran.stderr);
    assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
    assert!(std::fs::read_to_string(&metrics).unwrap().contains("recon_kpi_count_rate"));
}

#[test]
fn kpi_of_an_empty_store_is_below_threshold_with_zero_last_run() {
    let workspace = Workspace::new();
    run(&mut workspace.recon(&["kpi", "--from", FROM, "--to", TO])).expect_code(2);
    run(&mut workspace.recon(&["migrate"])).expect_code(0);
    let metrics = workspace.path("recon.prom");
    let mut command = workspace.recon(&["kpi", "--from", FROM, "--to", TO]);
    command.arg("--metrics-file").arg(&metrics);
    let ran = run(&mut command).expect_code(3);
    assert!(ran.stdout.contains("no successful run covers these dates"), "{}", ran.stdout);
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(text.contains("recon_last_successful_run_timestamp_seconds 0\n"), "{text}");
    assert!(text.contains("recon_open_cases{kind=\"ambiguous\"} 0\n"), "{text}");
}
