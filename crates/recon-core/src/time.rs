//! Instants, business dates and SPEI operation dates.
//!
//! Instants are UTC; a business date is the local date of an instant in a named IANA zone; a plain date
//! (Odoo's `date`, a bank's value date) is never shifted.

use std::sync::LazyLock;

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::calendar::BankingCalendar;
use crate::error::Error;

/// The default business time zone.
pub const DEFAULT_ZONE: Tz = chrono_tz::America::Mexico_City;

/// Local time at or after which a SPEI transfer belongs to the next banking day.
pub const SPEI_CUTOFF: NaiveTime = match NaiveTime::from_hms_opt(18, 0, 0) {
    Some(time) => time,
    None => panic!("18:00:00 is a valid time"),
};

/// A point in time, or a plain date when the source gives only a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timestamp {
    /// An instant, in UTC.
    Instant(DateTime<Utc>),
    /// A calendar date with no time of day; never shifted by a zone.
    Date(NaiveDate),
}

/// Parses an IANA zone name (`America/Mexico_City`).
pub fn parse_zone(name: &str) -> Result<Tz, Error> {
    name.trim().parse::<Tz>().map_err(|_| Error::UnknownTimeZone { value: name.to_owned() })
}

/// Reads a timestamp in any of the forms the sources write:
/// - RFC 3339: `2024-03-01T05:59:59Z`, `2024-02-29T23:59:59-06:00`;
/// - PostgreSQL `timestamptz` text: `2026-10-15 15:48:32.711+00`, `2026-10-15 09:48:32-06`;
/// - a naive date-time, which is UTC as Odoo stores it: `2026-10-15 15:48:32`;
/// - a plain date: `2026-10-15`.
///
/// ```
/// use recon_core::time::{business_date, parse_timestamp, DEFAULT_ZONE};
/// let instant = parse_timestamp("2024-03-01T05:59:59Z").unwrap();
/// assert_eq!(business_date(&instant, DEFAULT_ZONE).to_string(), "2024-02-29");
/// ```
pub fn parse_timestamp(text: &str) -> Result<Timestamp, Error> {
    let trimmed = text.trim();
    let invalid = |reason: &str| Error::InvalidTimestamp { value: text.to_owned(), reason: reason.to_owned() };
    if trimmed.is_empty() {
        return Err(invalid("empty"));
    }
    if trimmed.len() <= 10 {
        return parse_iso_date(trimmed).map(Timestamp::Date).ok_or_else(|| invalid("expected a date YYYY-MM-DD"));
    }
    if let Ok(instant) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok(Timestamp::Instant(instant.with_timezone(&Utc)));
    }
    for items in [&*WITH_OFFSET_SPACE, &*WITH_OFFSET_T] {
        if let Some(instant) = parsed(trimmed, items).and_then(|p| p.to_datetime().ok()) {
            return Ok(Timestamp::Instant(instant.with_timezone(&Utc)));
        }
    }
    for items in [&*NAIVE_SPACE, &*NAIVE_T, &*NAIVE_MINUTES] {
        if let Some(naive) = parsed(trimmed, items).and_then(|p| p.to_naive_datetime_with_offset(0).ok()) {
            return Ok(Timestamp::Instant(Utc.from_utc_datetime(&naive)));
        }
    }
    Err(invalid("expected RFC 3339, PostgreSQL timestamptz text, a naive UTC date-time or YYYY-MM-DD"))
}

/// A chrono format parsed once (what `parse_from_str` would parse again for every value).
type Items = LazyLock<Vec<Item<'static>>>;

static WITH_OFFSET_SPACE: Items = LazyLock::new(|| StrftimeItems::new("%Y-%m-%d %H:%M:%S%.f%#z").collect());
static WITH_OFFSET_T: Items = LazyLock::new(|| StrftimeItems::new("%Y-%m-%dT%H:%M:%S%.f%#z").collect());
static NAIVE_SPACE: Items = LazyLock::new(|| StrftimeItems::new("%Y-%m-%d %H:%M:%S%.f").collect());
static NAIVE_T: Items = LazyLock::new(|| StrftimeItems::new("%Y-%m-%dT%H:%M:%S%.f").collect());
static NAIVE_MINUTES: Items = LazyLock::new(|| StrftimeItems::new("%Y-%m-%d %H:%M").collect());
static ISO_DATE: Items = LazyLock::new(|| StrftimeItems::new("%Y-%m-%d").collect());

/// `text` parsed by `items`, as `parse_from_str` parses it.
fn parsed(text: &str, items: &[Item<'static>]) -> Option<Parsed> {
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, text, items.iter()).ok()?;
    Some(parsed)
}

/// A `YYYY-MM-DD` date, exactly as `NaiveDate::parse_from_str(text, "%Y-%m-%d")` reads it.
pub fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    parsed(text, &ISO_DATE)?.to_naive_date().ok()
}

/// Reads a timestamp with an explicit chrono format (for a bank's own layout, such as `%d/%m/%Y`).
/// A format without a time reads a plain date; one without an offset reads a local time in `zone`.
pub fn parse_timestamp_with_format(text: &str, format: &str, zone: Tz) -> Result<Timestamp, Error> {
    let trimmed = text.trim();
    let invalid = |reason: String| Error::InvalidTimestamp { value: text.to_owned(), reason };
    if let Ok(instant) = DateTime::parse_from_str(trimmed, format) {
        return Ok(Timestamp::Instant(instant.with_timezone(&Utc)));
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(trimmed, format) {
        return zone
            .from_local_datetime(&naive)
            .earliest()
            .map(|local| Timestamp::Instant(local.with_timezone(&Utc)))
            .ok_or_else(|| invalid(format!("local time does not exist in {zone}")));
    }
    NaiveDate::parse_from_str(trimmed, format)
        .map(Timestamp::Date)
        .map_err(|_| invalid(format!("does not match the declared format {format:?}")))
}

/// The business date: the local date of an instant in `zone`; a plain date as it is.
pub fn business_date(timestamp: &Timestamp, zone: Tz) -> NaiveDate {
    match timestamp {
        Timestamp::Instant(instant) => instant.with_timezone(&zone).date_naive(),
        Timestamp::Date(date) => *date,
    }
}

/// The SPEI fecha de operación of an instant: its local date in `zone`, moved to the next banking day
/// when the local time is at or after 18:00, and rolled forward over weekends and holidays.
///
/// ```
/// use chrono::NaiveDate;
/// use recon_core::{calendar::BankingCalendar, time::{operation_date, parse_timestamp, Timestamp, DEFAULT_ZONE}};
/// let Timestamp::Instant(friday_evening) = parse_timestamp("2023-08-25T18:16:00-06:00").unwrap() else { unreachable!() };
/// let date = operation_date(friday_evening, DEFAULT_ZONE, &BankingCalendar::mexico_default());
/// assert_eq!(date, NaiveDate::from_ymd_opt(2023, 8, 28).unwrap());
/// ```
pub fn operation_date(instant: DateTime<Utc>, zone: Tz, calendar: &BankingCalendar) -> NaiveDate {
    let local = instant.with_timezone(&zone);
    let date = local.date_naive();
    if local.time() >= SPEI_CUTOFF {
        calendar.next_banking_day_after(date)
    } else {
        calendar.banking_day_on_or_after(date)
    }
}
