//! `recon explain`: what the core reads, as JSON.

use crate::support::{recon, run};

fn explain(args: &[&str]) -> serde_json::Value {
    let ran = run(recon().arg("explain").args(args)).expect_code(0);
    serde_json::from_str(&ran.stdout).unwrap()
}

#[test]
fn explain_reads_a_banregio_clave_de_rastreo() {
    let json = explain(&["--reference", "058-25/08/2023/25-300CPWF924"]);
    let found = &json["reference"]["as_reference_field"][0];
    assert_eq!(found["kind"], "clave_rastreo");
    assert_eq!(found["canonical"], "058-25/08/2023/25-300CPWF924");
    assert_eq!(found["rule"], "clave_shape");
    assert_eq!(json["reference"]["primary"]["canonical"], "058-25/08/2023/25-300CPWF924");
}

#[test]
fn explain_reads_a_grouped_oxxo_reference() {
    let json = explain(&["--reference", "9300-0262-2769-08"]);
    let found = &json["reference"]["as_reference_field"][0];
    assert_eq!((found["kind"].as_str(), found["canonical"].as_str()), (Some("oxxo"), Some("93000262276908")));
    assert_eq!(found["rule"], "oxxo_grouped");
}

#[test]
fn explain_reads_a_bank_amount() {
    let json = explain(&["--amount", "$1,234.56"]);
    assert_eq!(json["amount"]["amount_minor"], 123456);
    assert_eq!(json["amount"]["canonical"], "1234.56");
    assert_eq!(json["amount"]["currency"], "MXN");
    let json = explain(&["--amount", "1234.5000000000002", "--format", "odoo", "--currency", "USD"]);
    assert_eq!(
        (json["amount"]["amount_minor"].as_i64(), json["amount"]["currency"].as_str()),
        (Some(123450), Some("USD"))
    );
    let json = explain(&["--amount", "123504", "--format", "minor"]);
    assert_eq!(json["amount"]["canonical"], "1235.04");
}

#[test]
fn explain_reads_an_instant_in_mexico_city() {
    let json = explain(&["--timestamp", "2024-03-01T05:59:59Z"]);
    let timestamp = &json["timestamp"];
    assert_eq!(timestamp["kind"], "instant");
    assert_eq!(timestamp["business_date"], "2024-02-29");
    assert_eq!(timestamp["local_time"], "2024-02-29T23:59:59-06:00");
    // After 18:00 local time a SPEI belongs to the next banking day.
    assert_eq!(timestamp["operation_date"], "2024-03-01");
    assert_eq!(json["zone"], "America/Mexico_City");
}

#[test]
fn explain_gives_the_fingerprint_when_everything_is_given() {
    let args = ["--reference", "9300-0262-2769-08", "--amount", "$1,234.56", "--timestamp", "2024-03-01T05:59:59Z"];
    let json = explain(&[&args[..], &["--account", "646180111805034237"]].concat());
    let fingerprint = &json["fingerprint"];
    assert_eq!(fingerprint["version"], 1);
    assert_eq!(fingerprint["hex"].as_str().unwrap().len(), 64);
    assert_eq!(fingerprint["inputs"]["business_date"], "2024-02-29");
    assert_eq!(fingerprint["inputs"]["reference"]["canonical"], "93000262276908");
    assert_eq!(json["account"]["bank"], "STP");
    // The same inputs give the same fingerprint; another account gives another.
    assert_eq!(explain(&[&args[..], &["--account", "646180111805034237"]].concat())["fingerprint"], *fingerprint);
    let other = explain(&[&args[..], &["--account", "012180001198765436"]].concat());
    assert_ne!(other["fingerprint"]["hex"], fingerprint["hex"]);
}

#[test]
fn explain_reports_what_it_cannot_read_and_exits_2() {
    let ran = run(recon().args(["explain", "--amount", "12,34.5", "--timestamp", "2024-02-30"])).expect_code(2);
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert!(json["amount"]["error"].as_str().unwrap().contains("12,34.5"));
    assert!(json["timestamp"]["error"].as_str().unwrap().contains("2024-02-30"));
}
