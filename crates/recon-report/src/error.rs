//! The one error type of the crate.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Why a report could not be built. Bad records never cause one: they become
/// [`crate::DataProblem`]s listed in the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The threshold is a fraction of lines and must lie in `[0, 1]`.
    #[error("KPI threshold {threshold} is not a fraction between 0 and 1 (write 0.95 for 95 %)")]
    ThresholdOutOfRange {
        /// The threshold given.
        threshold: Decimal,
    },
    /// The first business date comes after the last.
    #[error("report range {date_from}..={date_to} is empty: the first date comes after the last")]
    EmptyRange {
        /// First business date given.
        date_from: NaiveDate,
        /// Last business date given.
        date_to: NaiveDate,
    },
    /// The range has more days than one report draws (charts and tables grow with it).
    #[error("report range {date_from}..={date_to} spans {days} days; at most {days_max} fit in one report")]
    RangeTooLong {
        /// First business date given.
        date_from: NaiveDate,
        /// Last business date given.
        date_to: NaiveDate,
        /// Days in the range, both ends included.
        days: i64,
        /// The most days a report covers.
        days_max: i64,
    },
}
