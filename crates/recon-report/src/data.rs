//! What the report shows, as numbers: built from store records by
//! [`ReportData::from_records`](crate::ReportData::from_records), drawn by [`crate::render_html`].

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

/// The most days one report covers. It bounds the points of each chart and the rows of each
/// per-night table.
pub const DAYS_IN_RANGE_MAX: i64 = 366;

/// How many open cases the "largest unreconciled amounts" table lists per currency.
pub const LARGEST_OPEN_CASES_PER_CURRENCY: usize = 20;

/// Everything one report shows. Build it with [`ReportData::from_records`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportData {
    /// Heading of the page.
    pub title: String,
    /// First business date covered (inclusive).
    pub date_from: NaiveDate,
    /// Last business date covered (inclusive).
    pub date_to: NaiveDate,
    /// The alert line, a fraction of statement lines (`0.95`).
    pub threshold: Decimal,
    /// When the report was generated, as given by the caller (the report never reads the clock).
    pub generated_at: DateTime<Utc>,
    /// Business dates with a KPI row for at least one account, ascending: the x axis of the charts.
    pub business_dates: Vec<NaiveDate>,
    /// Per account, ordered by account.
    pub accounts: Vec<AccountKpi>,
    /// Lines of all accounts together.
    pub lines: LineTotals,
    /// Amounts of all accounts together, per currency (amounts of different currencies never add up).
    pub amounts_by_currency: BTreeMap<String, AmountTotals>,
    /// The open cases.
    pub open_cases: OpenCases,
    /// Records that could not be used as they were, in the order found.
    pub problems: Vec<DataProblem>,
}

impl ReportData {
    /// True when `rate` exists and lies below the threshold.
    pub fn is_below_threshold(&self, rate: Option<Decimal>) -> bool {
        rate.is_some_and(|rate| rate < self.threshold)
    }

    /// True when the overall count rate or any account's count rate over the range is below
    /// the threshold: the condition the nightly run alerts on.
    pub fn below_threshold(&self) -> bool {
        self.is_below_threshold(self.lines.count_rate())
            || self.accounts.iter().any(|account| self.is_below_threshold(account.lines.count_rate()))
    }

    /// Account-nights below the threshold, and account-nights with a KPI row.
    pub fn nights_below_threshold(&self) -> (u64, u64) {
        let nights = self.accounts.iter().flat_map(|account| &account.nights);
        let (mut below, mut total) = (0, 0);
        for night in nights {
            total += 1;
            if self.is_below_threshold(night.lines.count_rate()) {
                below += 1;
            }
        }
        (below, total)
    }
}

/// Statement lines in scope and how many were matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineTotals {
    /// Statement lines in scope.
    pub statement_lines: u64,
    /// Of those, lines matched.
    pub matched_lines: u64,
}

impl LineTotals {
    /// Matched over in scope, rounded down to 4 decimals like the nightly KPI; `None` with no lines.
    pub fn count_rate(&self) -> Option<Decimal> {
        rate(Decimal::from(self.matched_lines), Decimal::from(self.statement_lines))
    }

    pub(crate) fn add(&mut self, other: LineTotals) {
        self.statement_lines += other.statement_lines;
        self.matched_lines += other.matched_lines;
    }
}

/// Statement amount in scope and how much of it was matched, in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AmountTotals {
    /// Sum of absolute statement amounts.
    pub statement_amount: Decimal,
    /// Sum of absolute matched amounts.
    pub matched_amount: Decimal,
}

impl AmountTotals {
    /// Matched over in scope, rounded down to 4 decimals; `None` with nothing in scope.
    pub fn amount_rate(&self) -> Option<Decimal> {
        rate(self.matched_amount, self.statement_amount)
    }

    /// The sum of both, or `None` if it overflows a [`Decimal`].
    pub(crate) fn checked_add(&self, other: AmountTotals) -> Option<AmountTotals> {
        Some(AmountTotals {
            statement_amount: self.statement_amount.checked_add(other.statement_amount)?,
            matched_amount: self.matched_amount.checked_add(other.matched_amount)?,
        })
    }
}

/// Rounded down, so 0.94996 never reads as 0.9500 on the alert line (as in `recon-core`).
fn rate(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        return None;
    }
    Some(part.checked_div(whole)?.round_dp_with_strategy(4, RoundingStrategy::ToZero))
}

/// One account over the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountKpi {
    /// Bank account.
    pub account: String,
    /// Currency of the account (of its first KPI row).
    pub currency: String,
    /// Its nights, ascending by business date.
    pub nights: Vec<NightKpi>,
    /// Lines over the range.
    pub lines: LineTotals,
    /// Amounts over the range, leaving out nights whose amounts could not be read.
    pub amounts: AmountTotals,
}

/// One account on one business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NightKpi {
    /// Business date.
    pub business_date: NaiveDate,
    /// The run the row comes from.
    pub run_id: String,
    /// Lines.
    pub lines: LineTotals,
    /// Amounts, or `None` when they could not be read (see [`ReportData::problems`]).
    pub amounts: Option<AmountTotals>,
}

/// How long a case has been open, from `opened_at` to the report's `generated_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgeBucket {
    /// 0 or 1 day.
    UpToOneDay,
    /// 2 or 3 days.
    TwoToThreeDays,
    /// 4 to 7 days.
    FourToSevenDays,
    /// 8 to 30 days.
    EightToThirtyDays,
    /// More than 30 days.
    OverThirtyDays,
}

impl AgeBucket {
    /// All buckets, youngest first.
    pub const ALL: [AgeBucket; 5] = [
        AgeBucket::UpToOneDay,
        AgeBucket::TwoToThreeDays,
        AgeBucket::FourToSevenDays,
        AgeBucket::EightToThirtyDays,
        AgeBucket::OverThirtyDays,
    ];

    /// The bucket of an age in whole days (negative ages count as 0).
    pub fn of_days(age_days: i64) -> AgeBucket {
        match age_days {
            ..=1 => AgeBucket::UpToOneDay,
            2..=3 => AgeBucket::TwoToThreeDays,
            4..=7 => AgeBucket::FourToSevenDays,
            8..=30 => AgeBucket::EightToThirtyDays,
            _ => AgeBucket::OverThirtyDays,
        }
    }

    /// Column heading.
    pub fn label(self) -> &'static str {
        match self {
            AgeBucket::UpToOneDay => "0\u{2013}1 days",
            AgeBucket::TwoToThreeDays => "2\u{2013}3 days",
            AgeBucket::FourToSevenDays => "4\u{2013}7 days",
            AgeBucket::EightToThirtyDays => "8\u{2013}30 days",
            AgeBucket::OverThirtyDays => "> 30 days",
        }
    }

    /// Position in [`AgeBucket::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The open cases: counts by kind and age, and the largest amounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenCases {
    /// Per kind, most cases first (ties by kind).
    pub by_kind: Vec<OpenCasesOfKind>,
    /// Per currency, the largest open amounts.
    pub largest_by_currency: BTreeMap<String, LargestOpenCases>,
    /// Age in days of the oldest open case, if any is open.
    pub oldest_age_days: Option<i64>,
}

impl OpenCases {
    /// Open cases of all kinds.
    pub fn total(&self) -> u64 {
        self.by_kind.iter().map(OpenCasesOfKind::total).sum()
    }

    /// Open cases of all kinds in one age bucket.
    pub fn total_of_age(&self, bucket: AgeBucket) -> u64 {
        self.by_kind.iter().map(|kind| kind.counts_by_age[bucket.index()]).sum()
    }
}

/// Open cases of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCasesOfKind {
    /// Kind, e.g. `unmatched_statement`.
    pub kind: String,
    /// Cases per [`AgeBucket`], indexed by [`AgeBucket::index`].
    pub counts_by_age: [u64; 5],
    /// Sum of absolute amounts per currency (cases without an amount add nothing).
    pub amounts_by_currency: BTreeMap<String, Decimal>,
}

impl OpenCasesOfKind {
    /// Open cases of this kind.
    pub fn total(&self) -> u64 {
        self.counts_by_age.iter().sum()
    }
}

/// The largest open amounts in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LargestOpenCases {
    /// At most [`LARGEST_OPEN_CASES_PER_CURRENCY`] cases, largest absolute amount first (ties by case id).
    pub cases: Vec<OpenCase>,
    /// Open cases with an amount in this currency, listed or not.
    pub open_with_amount: u64,
}

/// An open case with an amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCase {
    /// Stable id.
    pub case_id: String,
    /// Kind.
    pub kind: String,
    /// Bank account.
    pub account: String,
    /// Business date.
    pub business_date: NaiveDate,
    /// Amount as stored (signed).
    pub amount: Decimal,
    /// Currency of `amount`.
    pub currency: String,
    /// One line for people.
    pub summary: String,
    /// Whole days from `opened_at` to the report's `generated_at`.
    pub age_days: i64,
}

/// A record the report could not use as it was. The report lists them: a bad row never
/// disappears silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataProblem {
    /// The record, as people find it: `KPI row 012180001234567891 2025-01-20 (run R-1)` or `case C-1`.
    pub record: String,
    /// The field at fault.
    pub field: &'static str,
    /// The value found.
    pub value: String,
    /// What is wrong and what the report did about it.
    pub reason: &'static str,
}
