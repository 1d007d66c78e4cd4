//! From records to report data: sums, bad records, arguments, case ages and the largest amounts.

use chrono::Duration;
use recon_report::{AgeBucket, LARGEST_OPEN_CASES_PER_CURRENCY, ReportData, ReportError, render_html};
use rust_decimal::Decimal;

use crate::fixture::{self, case_records, date, generated_at, kpi_records, threshold};

fn decimal(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn fixture_totals_add_up() {
    let report = fixture::report();
    assert_eq!((report.lines.matched_lines, report.lines.statement_lines), (15_160, 15_624));
    assert_eq!(report.lines.count_rate(), Some(decimal("0.9703")));
    let usd = &report.accounts[1];
    assert_eq!((usd.account.as_str(), usd.currency.as_str(), usd.nights.len()), ("012180009876543210", "USD", 9));
    assert_eq!(usd.lines.count_rate(), Some(decimal("0.9494")));
    assert!(report.below_threshold());
    assert_eq!(report.nights_below_threshold(), (6, 19));
    assert_eq!(report.business_dates.len(), 10);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn unreadable_kpi_amount_is_listed_not_dropped() {
    let mut kpi = kpi_records();
    kpi[0].kpi.statement_amount = "24,871,356.42".to_owned();
    let report = fixture::report_from(&kpi, &[]);
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].field, "statement_amount");
    // The night still counts for lines; only its amounts are left out.
    assert_eq!(report.lines.statement_lines, 15_624);
    assert_eq!(report.accounts[0].nights[0].amounts, None);
    let html = render_html(&report);
    assert!(html.contains("<h2>Data problems (1)</h2>"));
    assert!(html.contains("KPI row 012180001234567891 2025-01-16 (run R-20250116-nightly)"));
    assert!(html.contains("<td class=\"num\">unreadable</td>"));
}

#[test]
fn repeated_kpi_rows_and_rows_outside_the_range_are_reported() {
    let mut kpi = kpi_records();
    let mut repeated = kpi[0].clone();
    repeated.run_id = "R-zzz".to_owned();
    let mut outside = kpi[0].clone();
    outside.kpi.business_date = date("2025-02-03");
    kpi.extend([repeated, outside]);
    let report = fixture::report_from(&kpi, &[]);
    let reasons: Vec<&str> = report.problems.iter().map(|problem| problem.reason).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.iter().any(|reason| reason.starts_with("a second KPI row")));
    assert!(reasons.iter().any(|reason| reason.starts_with("business date outside")));
    assert_eq!(report.accounts[0].nights[0].run_id, "R-20250116-nightly");
    assert_eq!(report.lines.statement_lines, 15_624);
}

#[test]
fn bad_arguments_are_errors() {
    let build = |threshold: Decimal, from: &str, to: &str| {
        ReportData::from_records(&[], &[], threshold, generated_at(), date(from), date(to), "t")
    };
    assert_eq!(
        build(decimal("95"), "2025-01-01", "2025-01-31"),
        Err(ReportError::ThresholdOutOfRange { threshold: decimal("95") })
    );
    assert_eq!(
        build(threshold(), "2025-02-01", "2025-01-31"),
        Err(ReportError::EmptyRange { date_from: date("2025-02-01"), date_to: date("2025-01-31") })
    );
    assert!(matches!(
        build(threshold(), "2024-01-01", "2025-01-31"),
        Err(ReportError::RangeTooLong { days: 397, days_max: 366, .. })
    ));
    assert!(build(threshold(), "2024-01-01", "2024-12-31").is_ok(), "a leap year fits");
}

#[test]
fn only_open_cases_count() {
    let report = fixture::report();
    assert_eq!(report.open_cases.total(), 35);
    assert!(!report.open_cases.by_kind.iter().any(|kind| kind.kind == "resolved_kind_should_not_show"));
    let html = render_html(&report);
    assert!(!html.contains("must not appear"));
}

#[test]
fn case_ages_fall_in_their_buckets() {
    let now = generated_at();
    let template = case_records().remove(0);
    let ages_hours = [0, 47, 48, 95, 96, 191, 192, 743, 744, 1000, -5];
    let cases: Vec<_> = ages_hours
        .iter()
        .enumerate()
        .map(|(index, hours)| {
            let mut case = template.clone();
            case.case_id = format!("C-age-{index:02}");
            case.opened_at = now - Duration::hours(*hours);
            case
        })
        .collect();
    let report = fixture::report_from(&kpi_records(), &cases);
    let counts = report.open_cases.by_kind[0].counts_by_age;
    // 0 h, 47 h and the future case (-5 h) are 0–1 days; 48 h and 95 h are 2–3 days; and so on.
    assert_eq!(counts, [3, 2, 2, 2, 2]);
    assert_eq!(report.problems.len(), 1, "the case opened after generation is reported");
    assert_eq!(report.problems[0].field, "opened_at");
    assert_eq!(AgeBucket::of_days(30), AgeBucket::EightToThirtyDays);
    assert_eq!(AgeBucket::of_days(31), AgeBucket::OverThirtyDays);
}

#[test]
fn largest_amounts_are_per_currency_largest_first_and_bounded() {
    let report = fixture::report();
    let mxn = &report.open_cases.largest_by_currency["MXN"];
    assert_eq!((mxn.cases.len(), mxn.open_with_amount), (LARGEST_OPEN_CASES_PER_CURRENCY, 23));
    assert_eq!(mxn.cases[0].amount, decimal("1988410.55"));
    assert!(mxn.cases.windows(2).all(|pair| pair[0].amount.abs() >= pair[1].amount.abs()));
    // Negative amounts rank by size: a 640,000.00 credit comes before 48,200.00.
    assert!(mxn.cases.iter().any(|case| case.amount == decimal("-640000.00")));
    let usd = &report.open_cases.largest_by_currency["USD"];
    assert_eq!((usd.cases.len(), usd.open_with_amount), (9, 9));
    assert!(report.open_cases.largest_by_currency.values().flat_map(|l| &l.cases).all(|c| c.kind != "ambiguous"));
}

#[test]
fn case_amount_without_currency_is_counted_and_reported() {
    let mut cases = case_records();
    cases[0].currency = None;
    cases[1].amount = Some("12.5.0".to_owned());
    let report = fixture::report_from(&kpi_records(), &cases);
    assert_eq!(report.open_cases.total(), 35);
    let fields: Vec<&str> = report.problems.iter().map(|problem| problem.field).collect();
    assert_eq!(fields.len(), 2);
    assert!(fields.contains(&"currency") && fields.contains(&"amount"));
    assert_eq!(report.open_cases.largest_by_currency["MXN"].open_with_amount, 21);
}
