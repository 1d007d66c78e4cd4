//! The reconciliation KPI: matched statement lines over statement lines in scope, by count and by
//! absolute amount; per account, per business day and overall.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet as HashSet;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::prepare::Prepared;
use super::{Match, MatchConfig, Review, Side};
use crate::currency::Currency;

/// Counts and amounts behind one KPI figure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiCell {
    /// Statement lines in scope.
    pub statement_lines: u64,
    /// Of which matched (automatically or pending review).
    pub matched_lines: u64,
    /// Of which matched but needing review.
    pub needs_review_lines: u64,
    /// Of which reconciled by hand in a manual controlled run.
    pub manual_lines: u64,
    /// Sum of absolute amounts in scope, minor units.
    pub statement_amount_minor: i128,
    /// Sum of absolute amounts matched, minor units.
    pub matched_amount_minor: i128,
    /// Matched over in scope, by count, rounded down to 4 decimals; `None` with nothing in scope.
    pub count_rate: Option<Decimal>,
    /// Matched over in scope, by absolute amount, rounded down to 4 decimals.
    pub amount_rate: Option<Decimal>,
}

impl KpiCell {
    fn add(&mut self, amount_minor: i64, status: LineStatus) {
        let (matched, needs_review) = (status != LineStatus::Open, status == LineStatus::NeedsReview);
        if status == LineStatus::Manual {
            self.manual_lines += 1;
        }
        self.statement_lines += 1;
        self.statement_amount_minor += i128::from(amount_minor.unsigned_abs());
        if matched {
            self.matched_lines += 1;
            self.matched_amount_minor += i128::from(amount_minor.unsigned_abs());
        }
        if needs_review {
            self.needs_review_lines += 1;
        }
    }

    fn finish(&mut self) {
        self.count_rate = rate(i128::from(self.matched_lines), i128::from(self.statement_lines));
        self.amount_rate = rate(self.matched_amount_minor, self.statement_amount_minor);
    }
}

/// How a statement line ended up, for the KPI.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LineStatus {
    Open,
    Matched,
    NeedsReview,
    Manual,
}

/// Rounded down, so 0.94996 never reads as 0.9500 on the alert line.
fn rate(part: i128, whole: i128) -> Option<Decimal> {
    if whole == 0 {
        return None;
    }
    let value = Decimal::from_i128_with_scale(part, 0).checked_div(Decimal::from_i128_with_scale(whole, 0))?;
    Some(value.round_dp_with_strategy(4, RoundingStrategy::ToZero))
}

/// One account's KPI on one business day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiDay {
    /// The account (CLABE).
    pub account: String,
    /// The business day.
    pub business_date: NaiveDate,
    /// The account's currency.
    pub currency: Currency,
    /// Figures.
    pub cell: KpiCell,
}

/// The KPI report of a reconciliation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiReport {
    /// The alert line.
    pub threshold: Decimal,
    /// All accounts together (amounts summed across currencies only within `overall_by_currency`).
    pub overall: KpiCell,
    /// Overall per currency, for amount rates that mean something.
    pub overall_by_currency: BTreeMap<String, KpiCell>,
    /// Per account.
    pub per_account: BTreeMap<String, KpiCell>,
    /// Per account and business day, sorted by account then day.
    pub per_day: Vec<KpiDay>,
    /// True when the overall count rate or any account's count rate is below the threshold.
    pub below_threshold: bool,
}

pub(super) fn compute(prepared: &Prepared<'_>, matches: &[Match], config: &MatchConfig) -> KpiReport {
    let matched: HashSet<&str> = matches.iter().map(|m| m.statement_id.as_str()).collect();
    let review: HashSet<&str> =
        matches.iter().filter(|m| m.review == Review::NeedsReview).map(|m| m.statement_id.as_str()).collect();
    let mut overall = KpiCell::default();
    let mut by_currency: BTreeMap<String, KpiCell> = BTreeMap::new();
    let mut by_account: BTreeMap<usize, KpiCell> = BTreeMap::new();
    let mut by_day: BTreeMap<(usize, NaiveDate), (Currency, KpiCell)> = BTreeMap::new();
    for (index, line) in prepared.statements.iter().enumerate() {
        let id = prepared.id(Side::Statement, index);
        let status = if line.manual {
            LineStatus::Manual
        } else if review.contains(id) {
            LineStatus::NeedsReview
        } else if matched.contains(id) {
            LineStatus::Matched
        } else {
            LineStatus::Open
        };
        overall.add(line.amount_minor, status);
        by_currency.entry(line.currency.code().to_owned()).or_default().add(line.amount_minor, status);
        by_account.entry(line.account_index).or_default().add(line.amount_minor, status);
        by_day
            .entry((line.account_index, line.business_date))
            .or_insert_with(|| (line.currency, KpiCell::default()))
            .1
            .add(line.amount_minor, status);
    }
    let mut per_account: BTreeMap<String, KpiCell> =
        by_account.into_iter().map(|(account, cell)| (prepared.accounts[account].clone(), cell)).collect();
    let per_day: BTreeMap<(String, NaiveDate), (Currency, KpiCell)> =
        by_day.into_iter().map(|((account, date), cell)| ((prepared.accounts[account].clone(), date), cell)).collect();
    overall.finish();
    by_currency.values_mut().for_each(KpiCell::finish);
    per_account.values_mut().for_each(KpiCell::finish);
    let per_day: Vec<KpiDay> = per_day
        .into_iter()
        .map(|((account, business_date), (currency, mut cell))| {
            cell.finish();
            KpiDay { account, business_date, currency, cell }
        })
        .collect();
    let below = |cell: &KpiCell| cell.count_rate.is_some_and(|r| r < config.kpi_threshold);
    let below_threshold = below(&overall) || per_account.values().any(below);
    KpiReport {
        threshold: config.kpi_threshold,
        overall,
        overall_by_currency: by_currency,
        per_account,
        per_day,
        below_threshold,
    }
}
