//! Which dates a run owns, which it reads for context, and the KPI restricted to what it owns.
//!
//! A run owns a **range** of business dates `[from, to]`: it writes the matches and cases whose
//! business date (the statement line's, or the Odoo date for a case with no statement line) is in the
//! range, and the KPI of those days. It reads a wider **context** — `context_banking_days` banking days
//! on each side — from *both* inputs and reconciles all of it, for two reasons:
//!
//! - edge matches: a statement line booked on `to` may be in Odoo a banking day or more later (a SPEI
//!   after 18:00 belongs to the next banking day; Odoo writes the UTC date, which is the next day for an
//!   evening in Mexico City), and a line on `from` may have been booked in Odoo the day before;
//! - no stolen lines: the Odoo lines in the margin belong, most of the time, to statement lines of the
//!   neighbouring days. Reading those statement lines too lets them claim their own lines, so a line in
//!   the margin is never taken by an in-range statement line only because its rightful partner was not
//!   loaded, and an amount that two days share does not look ambiguous for the same reason.
//!
//! What falls in the margin is reconciled but not written: the runs that own those days write it. The
//! context is at least `window_banking_days + 1` wide, so every pairing the window allows for an
//! in-range line is visible, and by default `2 × window + 1`, so pairs just outside the window are seen
//! as `date_out_of_window` rather than as two unmatched lines.

use anyhow::Result;
use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use recon_core::calendar::BankingCalendar;
use recon_core::matching::{KpiReport, MoveLine, StatementLine};
use recon_core::time::business_date;
use serde::Serialize;

use crate::exit::bad_input;

/// An inclusive range of business dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DateRange {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl DateRange {
    /// True when `date` is in the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

impl std::fmt::Display for DateRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} .. {}", self.from, self.to)
    }
}

/// The range from `--from/--to`, or by default the `lookback_days` days ending yesterday in the zone.
pub fn resolve_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    lookback_days: u32,
    today: NaiveDate,
) -> Result<DateRange> {
    let yesterday = today.checked_sub_days(Days::new(1)).ok_or_else(|| bad_input("today has no yesterday"))?;
    let to = to.unwrap_or(yesterday);
    let from = match from {
        Some(from) => from,
        None => to
            .checked_sub_days(Days::new(u64::from(lookback_days.saturating_sub(1))))
            .ok_or_else(|| bad_input("--to minus lookback_days is out of range"))?,
    };
    if from > to {
        return Err(bad_input(format!("--from {from} is after --to {to}")));
    }
    if (to - from).num_days() > 366 {
        return Err(bad_input(format!("the range {from} .. {to} is longer than 366 days; split it")));
    }
    Ok(DateRange { from, to })
}

/// The context around `range`: `banking_days` banking days before and after.
pub fn context_range(range: DateRange, banking_days: i64, calendar: &BankingCalendar) -> DateRange {
    DateRange {
        from: shift_banking_days(range.from, -banking_days, calendar),
        to: shift_banking_days(range.to, banking_days, calendar),
    }
}

/// Moves `date` by `count` banking days (negative: backwards). Calendar days in between that are not
/// banking days are passed over; a step is bounded by the calendar's longest closure (a week suffices,
/// 31 days is the guard).
fn shift_banking_days(date: NaiveDate, count: i64, calendar: &BankingCalendar) -> NaiveDate {
    let mut day = date;
    for _ in 0..count.unsigned_abs() {
        for _ in 0..31 {
            let next = if count < 0 { day.pred_opt() } else { day.succ_opt() };
            let Some(next) = next else { return day };
            day = next;
            if calendar.is_banking_day(day) {
                break;
            }
        }
    }
    day
}

/// A statement line's business date, as the core computes it: the local date of `booked_at` in the
/// zone, else the value date.
pub fn statement_business_date(line: &StatementLine, zone: Tz) -> Option<NaiveDate> {
    match &line.booked_at {
        Some(timestamp) => Some(business_date(timestamp, zone)),
        None => line.value_date,
    }
}

/// How the lines of one side fell with respect to the run's dates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SideCounts {
    /// Lines typed from the input.
    pub read: u64,
    /// Business date in the range.
    pub in_range: u64,
    /// In the context margin only (reconciled, not written).
    pub in_margin: u64,
    /// Outside the context (not reconciled).
    pub outside: u64,
}

/// Where a line's date falls with respect to a run's dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In the range: reconciled and written.
    InRange = 0,
    /// In the context margin only: reconciled, not written.
    InMargin = 1,
    /// Outside the context: not reconciled.
    Outside = 2,
}

impl Place {
    /// Every place, in the order of their values (the index of [`SideCounts::from_places`]).
    pub const ALL: [Place; 3] = [Place::InRange, Place::InMargin, Place::Outside];

    /// Where `date` falls with respect to `range` and its `context`.
    pub fn of(date: NaiveDate, range: DateRange, context: DateRange) -> Place {
        if range.contains(date) {
            Place::InRange
        } else if context.contains(date) {
            Place::InMargin
        } else {
            Place::Outside
        }
    }

    /// Where a statement line falls, by its business date in `zone`.
    pub fn of_statement(line: &StatementLine, zone: Tz, range: DateRange, context: DateRange) -> Place {
        // parse_statement guarantees a booked_at or a value date.
        let date = statement_business_date(line, zone).unwrap_or(NaiveDate::MIN);
        Place::of(date, range, context)
    }
}

impl SideCounts {
    /// The counts of lines whose places were counted in `in_place` (indexed by [`Place`]).
    pub fn from_places(in_place: [u64; 3]) -> SideCounts {
        let [in_range, in_margin, outside] = in_place;
        SideCounts { read: in_range + in_margin + outside, in_range, in_margin, outside }
    }

    /// Counts a statement line by its business date in `zone`; whether it is in `context`.
    pub fn count_statement(&mut self, line: &StatementLine, zone: Tz, range: DateRange, context: DateRange) -> bool {
        self.add(Place::of_statement(line, zone, range, context))
    }

    /// Counts a line of business date `date`; whether it is in `context` (reconciled).
    pub fn count(&mut self, date: NaiveDate, range: DateRange, context: DateRange) -> bool {
        self.add(Place::of(date, range, context))
    }

    /// Counts a line at `place`; whether it is reconciled (not outside the context).
    fn add(&mut self, place: Place) -> bool {
        self.read += 1;
        match place {
            Place::InRange => self.in_range += 1,
            Place::InMargin => self.in_margin += 1,
            Place::Outside => {
                self.outside += 1;
                return false;
            }
        }
        true
    }
}

/// Keeps the statement lines whose business date is in `context`.
///
/// Returns the lines kept (copies), their indexes in `lines`, and the counts.
pub fn filter_statements(
    lines: &[StatementLine],
    zone: Tz,
    range: DateRange,
    context: DateRange,
) -> (Vec<StatementLine>, Vec<usize>, SideCounts) {
    let mut counts = SideCounts::default();
    let kept: Vec<usize> =
        (0..lines.len()).filter(|&index| counts.count_statement(&lines[index], zone, range, context)).collect();
    (kept.iter().map(|&index| lines[index].clone()).collect(), kept, counts)
}

/// Keeps the Odoo lines whose accounting date is in `context`.
///
/// Returns the lines kept (copies), their indexes in `lines`, and the counts.
pub fn filter_moves(
    lines: &[MoveLine],
    range: DateRange,
    context: DateRange,
) -> (Vec<MoveLine>, Vec<usize>, SideCounts) {
    let mut counts = SideCounts::default();
    let kept: Vec<usize> = (0..lines.len()).filter(|&index| counts.count(lines[index].date, range, context)).collect();
    (kept.iter().map(|&index| lines[index].clone()).collect(), kept, counts)
}

/// The core's KPI report restricted to the days of `range` (without the context margin).
pub fn kpi_in_range(report: &KpiReport, range: DateRange) -> KpiReport {
    report.restricted_to(|date| range.contains(date))
}
