//! The fixture dataset (two accounts, MXN and USD, ten business dates, open cases of several kinds
//! and ages) and the expect-style comparison with an update mode.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use recon_report::ReportData;
use recon_store::{CaseRecord, CaseStatus, KpiRecord, KpiRow};
use rust_decimal::Decimal;
use serde::Deserialize;

/// Path of a file under the workspace's `testdata/report/`.
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/report").join(name)
}

/// Path of a file relative to the workspace root.
pub fn workspace_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

/// True when expected files are to be rewritten from actual output.
pub fn updating() -> bool {
    std::env::var_os("RECON_UPDATE_EXPECT").is_some()
}

pub const TITLE: &str = "Nightly reconciliation KPI \u{2014} NEON vs Odoo, January 2025";

pub fn threshold() -> Decimal {
    Decimal::new(95, 2)
}

pub fn generated_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 30, 6, 15, 0).single().unwrap()
}

pub fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[derive(Deserialize)]
struct KpiFixture {
    run_id: String,
    #[serde(flatten)]
    kpi: KpiRow,
}

/// A case as written in `cases.json`: only the fields the report reads.
#[derive(Deserialize)]
pub struct CaseFixture {
    pub case_id: String,
    pub kind: String,
    pub status: CaseStatus,
    pub account: String,
    pub business_date: NaiveDate,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub summary: String,
}

impl CaseFixture {
    pub fn into_record(self) -> CaseRecord {
        CaseRecord {
            case_id: self.case_id,
            kind: self.kind,
            status: self.status,
            account: self.account,
            business_date: self.business_date,
            amount: self.amount,
            currency: self.currency,
            summary: self.summary,
            evidence: serde_json::Value::Null,
            external_ids: serde_json::Value::Null,
            correlation_id: "fixture".to_owned(),
            opened_at: self.opened_at,
            first_run_id: "R-fixture".to_owned(),
            last_run_id: "R-fixture".to_owned(),
            resolved_at: None,
            resolved_by_run_id: None,
            resolved_by: None,
            corrective_action: None,
            prevention: None,
        }
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    let path = testdata(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

pub fn kpi_records() -> Vec<KpiRecord> {
    let rows: Vec<KpiFixture> = read_json("kpi.json");
    rows.into_iter().map(|row| KpiRecord { run_id: row.run_id, kpi: row.kpi }).collect()
}

pub fn case_records() -> Vec<CaseRecord> {
    let cases: Vec<CaseFixture> = read_json("cases.json");
    cases.into_iter().map(CaseFixture::into_record).collect()
}

/// Builds a report over the fixture range from the given records.
pub fn report_from(kpi: &[KpiRecord], cases: &[CaseRecord]) -> ReportData {
    ReportData::from_records(kpi, cases, threshold(), generated_at(), date("2025-01-16"), date("2025-01-29"), TITLE)
        .unwrap()
}

/// The fixture report.
pub fn report() -> ReportData {
    report_from(&kpi_records(), &case_records())
}

/// Compares `actual` with the file `testdata/report/<name>`, or rewrites the file in update mode.
pub fn check_expected(name: &str, actual: &str) {
    let path = testdata(name);
    if updating() {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}\nrun with RECON_UPDATE_EXPECT=1 to create it", path.display()));
    if expected == actual {
        return;
    }
    let lines_max = expected.lines().count().max(actual.lines().count()) + 1;
    let difference = expected
        .lines()
        .chain(std::iter::repeat(""))
        .zip(actual.lines().chain(std::iter::repeat("")))
        .take(lines_max)
        .enumerate()
        .find(|(_, (want, got))| want != got);
    let Some((line, (want, got))) = difference else {
        panic!("{} differs from the rendered report in line endings only", path.display());
    };
    panic!(
        "{} differs from the rendered report at line {}:\n  expected: {want}\n  actual:   {got}\n\
         run with RECON_UPDATE_EXPECT=1 to accept the new output",
        path.display(),
        line + 1
    );
}
