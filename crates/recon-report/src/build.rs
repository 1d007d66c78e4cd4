//! From store records to [`ReportData`]: validation, grouping and sums. Records are sorted
//! first, so the result does not depend on the order they come in.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use recon_store::{CaseRecord, CaseStatus, KpiRecord};
use rust_decimal::Decimal;

use crate::data::{
    AccountKpi, AgeBucket, AmountTotals, DAYS_IN_RANGE_MAX, DataProblem, LARGEST_OPEN_CASES_PER_CURRENCY,
    LargestOpenCases, LineTotals, NightKpi, OpenCase, OpenCases, OpenCasesOfKind, ReportData,
};
use crate::error::ReportError;

impl ReportData {
    /// Builds the report from KPI rows (`Store::kpi_rows`) and cases (`Store::cases`).
    ///
    /// - `threshold` is the alert line as a fraction of statement lines (`0.95`).
    /// - `generated_at` is the clock value of the caller; case ages are counted up to it.
    /// - KPI rows outside `date_from..=date_to` are left out. Only open cases count; the caller
    ///   chooses which cases to pass (all of them, or those of the range).
    ///
    /// Records that cannot be used as they are (an unreadable amount, a second row for the same
    /// account and date, ...) end up in [`ReportData::problems`] and are listed in the report.
    ///
    /// # Errors
    ///
    /// [`ReportError`] when the threshold is not in `[0, 1]` or the range is empty or longer
    /// than [`DAYS_IN_RANGE_MAX`] days.
    pub fn from_records(
        kpi: &[KpiRecord],
        cases: &[CaseRecord],
        threshold: Decimal,
        generated_at: DateTime<Utc>,
        date_from: NaiveDate,
        date_to: NaiveDate,
        title: &str,
    ) -> Result<ReportData, ReportError> {
        check_arguments(threshold, date_from, date_to)?;
        let mut problems = Vec::new();
        let accounts = accounts_from_records(kpi, date_from, date_to, &mut problems);
        let mut lines = LineTotals::default();
        let mut amounts_by_currency: BTreeMap<String, AmountTotals> = BTreeMap::new();
        let mut business_dates = BTreeSet::new();
        for account in &accounts {
            lines.add(account.lines);
            let total = amounts_by_currency.entry(account.currency.clone()).or_default();
            match total.checked_add(account.amounts) {
                Some(sum) => *total = sum,
                None => problems.push(overflow_problem(&account.account)),
            }
            business_dates.extend(account.nights.iter().map(|night| night.business_date));
        }
        let open_cases = open_cases_from_records(cases, generated_at, &mut problems);
        Ok(ReportData {
            title: title.to_owned(),
            date_from,
            date_to,
            threshold,
            generated_at,
            business_dates: business_dates.into_iter().collect(),
            accounts,
            lines,
            amounts_by_currency,
            open_cases,
            problems,
        })
    }
}

fn check_arguments(threshold: Decimal, date_from: NaiveDate, date_to: NaiveDate) -> Result<(), ReportError> {
    if threshold.is_sign_negative() || threshold > Decimal::ONE {
        return Err(ReportError::ThresholdOutOfRange { threshold });
    }
    if date_from > date_to {
        return Err(ReportError::EmptyRange { date_from, date_to });
    }
    let days = (date_to - date_from).num_days() + 1;
    if days > DAYS_IN_RANGE_MAX {
        return Err(ReportError::RangeTooLong { date_from, date_to, days, days_max: DAYS_IN_RANGE_MAX });
    }
    Ok(())
}

/// Groups KPI rows by account, one night per business date, skipping (and reporting) rows
/// outside the range and repeated rows.
fn accounts_from_records(
    kpi: &[KpiRecord],
    date_from: NaiveDate,
    date_to: NaiveDate,
    problems: &mut Vec<DataProblem>,
) -> Vec<AccountKpi> {
    let mut sorted: Vec<&KpiRecord> = kpi.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.kpi.account, a.kpi.business_date, &a.run_id).cmp(&(&b.kpi.account, b.kpi.business_date, &b.run_id))
    });
    let mut accounts: Vec<AccountKpi> = Vec::new();
    for record in sorted {
        let row = &record.kpi;
        if row.business_date < date_from || row.business_date > date_to {
            problems.push(kpi_problem(record, "business_date", row.business_date.to_string(), OUTSIDE_RANGE));
            continue;
        }
        let account = match accounts.last_mut() {
            Some(account) if account.account == row.account => account,
            _ => {
                accounts.push(AccountKpi {
                    account: row.account.clone(),
                    currency: row.currency.clone(),
                    nights: Vec::new(),
                    lines: LineTotals::default(),
                    amounts: AmountTotals::default(),
                });
                accounts.last_mut().expect("an account was just pushed")
            }
        };
        if account.nights.last().is_some_and(|night| night.business_date == row.business_date) {
            problems.push(kpi_problem(record, "business_date", row.business_date.to_string(), REPEATED_NIGHT));
            continue;
        }
        add_night(account, record, problems);
    }
    accounts
}

const OUTSIDE_RANGE: &str = "business date outside the report's range; row left out";
const REPEATED_NIGHT: &str = "a second KPI row for this account and date; the first (by run id) is shown";

/// Adds one KPI row to its account.
fn add_night(account: &mut AccountKpi, record: &KpiRecord, problems: &mut Vec<DataProblem>) {
    let row = &record.kpi;
    let lines = LineTotals { statement_lines: row.statement_lines, matched_lines: row.matched_lines };
    if lines.matched_lines > lines.statement_lines {
        let reason = "more lines matched than statement lines; the rate is drawn at 100 %";
        problems.push(kpi_problem(record, "matched_lines", row.matched_lines.to_string(), reason));
    }
    let mut amounts = night_amounts(record, problems);
    if row.currency != account.currency {
        let reason = "currency differs from the account's first row; amounts left out of the totals";
        problems.push(kpi_problem(record, "currency", row.currency.clone(), reason));
        amounts = None;
    }
    if let Some(night_amounts) = amounts {
        match account.amounts.checked_add(night_amounts) {
            Some(sum) => account.amounts = sum,
            None => problems.push(overflow_problem(&account.account)),
        }
    }
    account.lines.add(lines);
    account.nights.push(NightKpi { business_date: row.business_date, run_id: record.run_id.clone(), lines, amounts });
}

/// Reads a row's amounts; `None` (and a problem) when either is not a decimal.
fn night_amounts(record: &KpiRecord, problems: &mut Vec<DataProblem>) -> Option<AmountTotals> {
    let mut parse = |field: &'static str, text: &str| match parse_decimal(text) {
        Some(value) => Some(value.abs()),
        None => {
            problems.push(kpi_problem(record, field, text.to_owned(), UNREADABLE_KPI_AMOUNT));
            None
        }
    };
    let statement_amount = parse("statement_amount", &record.kpi.statement_amount);
    let matched_amount = parse("matched_amount", &record.kpi.matched_amount);
    Some(AmountTotals { statement_amount: statement_amount?, matched_amount: matched_amount? })
}

const UNREADABLE_KPI_AMOUNT: &str = "not a decimal amount; the night's amounts are left out of the totals";

/// Parses a stored decimal string exactly: a value that would need rounding is refused.
fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str_exact(text.trim()).ok()
}

fn kpi_problem(record: &KpiRecord, field: &'static str, value: String, reason: &'static str) -> DataProblem {
    DataProblem {
        record: format!("KPI row {} {} (run {})", record.kpi.account, record.kpi.business_date, record.run_id),
        field,
        value,
        reason,
    }
}

fn overflow_problem(account: &str) -> DataProblem {
    DataProblem {
        record: format!("account {account}"),
        field: "statement_amount",
        value: String::new(),
        reason: "the sum of amounts overflows; some amounts are left out of the totals",
    }
}

/// Counts open cases by kind and age, and keeps the largest amounts per currency.
fn open_cases_from_records(
    cases: &[CaseRecord],
    generated_at: DateTime<Utc>,
    problems: &mut Vec<DataProblem>,
) -> OpenCases {
    let mut open: Vec<&CaseRecord> = cases.iter().filter(|case| case.status == CaseStatus::Open).collect();
    open.sort_by(|a, b| a.case_id.cmp(&b.case_id));
    let mut by_kind: BTreeMap<&str, OpenCasesOfKind> = BTreeMap::new();
    let mut with_amount: BTreeMap<String, Vec<OpenCase>> = BTreeMap::new();
    let mut oldest_age_days: Option<i64> = None;
    for case in open {
        let age_days = case_age_days(case, generated_at, problems);
        oldest_age_days = oldest_age_days.max(Some(age_days));
        let of_kind = by_kind.entry(&case.kind).or_insert_with(|| OpenCasesOfKind {
            kind: case.kind.clone(),
            counts_by_age: [0; 5],
            amounts_by_currency: BTreeMap::new(),
        });
        of_kind.counts_by_age[AgeBucket::of_days(age_days).index()] += 1;
        let Some((amount, currency)) = case_amount(case, problems) else {
            continue;
        };
        let sum = of_kind.amounts_by_currency.entry(currency.to_owned()).or_default();
        match sum.checked_add(amount.abs()) {
            Some(total) => *sum = total,
            None => problems.push(overflow_problem(&case.account)),
        }
        with_amount.entry(currency.to_owned()).or_default().push(open_case(case, amount, currency, age_days));
    }
    let mut by_kind: Vec<OpenCasesOfKind> = by_kind.into_values().collect();
    by_kind.sort_by(|a, b| b.total().cmp(&a.total()).then_with(|| a.kind.cmp(&b.kind)));
    let largest_by_currency = with_amount.into_iter().map(|(currency, cases)| (currency, largest(cases))).collect();
    OpenCases { by_kind, largest_by_currency, oldest_age_days }
}

/// Whole days from `opened_at` to `generated_at`; 0 (and a problem) when opened later.
fn case_age_days(case: &CaseRecord, generated_at: DateTime<Utc>, problems: &mut Vec<DataProblem>) -> i64 {
    let age_days = (generated_at - case.opened_at).num_days();
    if generated_at < case.opened_at {
        problems.push(DataProblem {
            record: format!("case {}", case.case_id),
            field: "opened_at",
            value: case.opened_at.to_rfc3339(),
            reason: "opened after the report was generated; counted as 0 days old",
        });
        return 0;
    }
    age_days
}

/// The case's amount and currency, when it has a readable one.
fn case_amount<'a>(case: &'a CaseRecord, problems: &mut Vec<DataProblem>) -> Option<(Decimal, &'a str)> {
    let text = case.amount.as_deref()?;
    let problem = |field, value: &str, reason| DataProblem {
        record: format!("case {}", case.case_id),
        field,
        value: value.to_owned(),
        reason,
    };
    let Some(amount) = parse_decimal(text) else {
        problems.push(problem("amount", text, "not a decimal amount; the case is counted but its amount is not"));
        return None;
    };
    let Some(currency) = case.currency.as_deref() else {
        problems.push(problem(
            "currency",
            "",
            "an amount without a currency; the case is counted but its amount is not",
        ));
        return None;
    };
    Some((amount, currency))
}

fn open_case(case: &CaseRecord, amount: Decimal, currency: &str, age_days: i64) -> OpenCase {
    OpenCase {
        case_id: case.case_id.clone(),
        kind: case.kind.clone(),
        account: case.account.clone(),
        business_date: case.business_date,
        amount,
        currency: currency.to_owned(),
        summary: case.summary.clone(),
        age_days,
    }
}

/// The largest absolute amounts first, ties by case id; at most [`LARGEST_OPEN_CASES_PER_CURRENCY`].
fn largest(mut cases: Vec<OpenCase>) -> LargestOpenCases {
    let open_with_amount = cases.len() as u64;
    cases.sort_by(|a, b| b.amount.abs().cmp(&a.amount.abs()).then_with(|| a.case_id.cmp(&b.case_id)));
    cases.truncate(LARGEST_OPEN_CASES_PER_CURRENCY);
    LargestOpenCases { cases, open_with_amount }
}
