//! The KPI report people look at: one static HTML file, with inline CSS and inline SVG charts,
//! built from the store's KPI rows and cases. No server, no script, no external asset: it can be
//! mailed, archived or opened from disk years later.
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use recon_store::{KpiRecord, KpiRow};
//! use rust_decimal::Decimal;
//!
//! let date = NaiveDate::from_ymd_opt(2025, 1, 20).expect("a date");
//! let kpi = vec![KpiRecord {
//!     run_id: "R-1".to_owned(),
//!     kpi: KpiRow {
//!         account: "012180001234567891".to_owned(),
//!         business_date: date,
//!         statement_lines: 100,
//!         matched_lines: 93,
//!         statement_amount: "250000.00".to_owned(),
//!         matched_amount: "241000.50".to_owned(),
//!         currency: "MXN".to_owned(),
//!     },
//! }];
//! let generated_at = Utc.with_ymd_and_hms(2025, 1, 21, 6, 0, 0).single().expect("an instant");
//! let threshold = Decimal::new(95, 2);
//! let report = recon_report::ReportData::from_records(&kpi, &[], threshold, generated_at, date, date, "Nightly KPI")?;
//! assert!(report.below_threshold());
//! let html = recon_report::render_html(&report);
//! assert!(html.contains("Below the 95\u{a0}% threshold"));
//! # Ok::<(), recon_report::ReportError>(())
//! ```
//!
//! [`ReportData::from_records`] does the arithmetic (all of it in [`rust_decimal::Decimal`] and
//! integers: there is no float in this crate, not even for chart coordinates) and collects records
//! it could not use as [`DataProblem`]s; [`render_html`] only draws. Neither reads the clock, the
//! environment or any file: the same data gives byte-identical HTML.

#![forbid(unsafe_code)]

mod build;
mod chart;
mod data;
mod error;
mod format;
mod html;

pub use data::{
    AccountKpi, AgeBucket, AmountTotals, DAYS_IN_RANGE_MAX, DataProblem, LARGEST_OPEN_CASES_PER_CURRENCY,
    LargestOpenCases, LineTotals, NightKpi, OpenCase, OpenCases, OpenCasesOfKind, ReportData,
};
pub use error::ReportError;

/// Renders the report as one self-contained HTML page.
///
/// Sections: the header (scope, generation time, overall count and amount rates, alert badge);
/// per account, a chart of the count rate per business date against the threshold and a table of
/// its nights; open cases by kind and age; the largest unreconciled amounts per currency; and the
/// data problems, if any. Every text from data is HTML-escaped.
pub fn render_html(report: &ReportData) -> String {
    let mut out = String::with_capacity(64 * 1024);
    html::write_page(&mut out, report).expect("writing into a String never fails");
    out
}
