//! Instants, business dates and SPEI operation dates.
//!
//! Instants are UTC; a business date is the local date of an instant in a named IANA zone; a plain date
//! (Odoo's `date`, a bank's value date) is never shifted.

use std::sync::LazyLock;

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
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
    plain_instant(trimmed)
        .or_else(|| any_instant(trimmed))
        .map(Timestamp::Instant)
        .ok_or_else(|| invalid("expected RFC 3339, PostgreSQL timestamptz text, a naive UTC date-time or YYYY-MM-DD"))
}

/// The usual shapes, read without chrono's general parser (a statement reader types one a line):
/// `YYYY-MM-DD HH:MM:SS` or with `T` for the space, a fraction of one to nine digits or none, and
/// `Z`, `+HH`, `-HH`, `+HH:MM`, `-HH:MM` or nothing (UTC). `None` for anything else, which
/// [`any_instant`] reads, giving the same instant for the text read here (a property test holds
/// the two together).
fn plain_instant(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let (date, time) = (bytes.get(..10)?, bytes.get(10..19)?);
    let &[separator, h0, h1, b':', m0, m1, b':', s0, s1] = time else { return None };
    if !matches!(separator, b' ' | b'T') {
        return None;
    }
    let (hour, minute, second) = (two_digits(h0, h1)?, two_digits(m0, m1)?, two_digits(s0, s1)?);
    let mut rest = &bytes[19..];
    let mut nanos = 0;
    if let Some((b'.', after)) = rest.split_first() {
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        let value = after[..digits].iter().fold(0, |value, &digit| value * 10 + u32::from(digit - b'0'));
        nanos = value * 10u32.pow(9 - u32::try_from(digits).ok()?);
        rest = &after[digits..];
    }
    let offset_seconds = match *rest {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h0, h1] => offset(sign, two_digits(h0, h1)?, 0)?,
        [sign @ (b'+' | b'-'), h0, h1, b':', m0, m1] => offset(sign, two_digits(h0, h1)?, two_digits(m0, m1)?)?,
        _ => return None,
    };
    // A leap second (`:60`) is left to chrono.
    if second > 59 {
        return None;
    }
    let local = plain_date(date)?.and_hms_nano_opt(hour, minute, second, nanos)?;
    let instant = FixedOffset::east_opt(offset_seconds)?.from_local_datetime(&local).single()?;
    Some(instant.with_timezone(&Utc))
}

/// Two ASCII digits as a number.
fn two_digits(tens: u8, units: u8) -> Option<u32> {
    (tens.is_ascii_digit() && units.is_ascii_digit()).then(|| u32::from(tens - b'0') * 10 + u32::from(units - b'0'))
}

/// A UTC offset in seconds, for minutes below 60.
fn offset(sign: u8, hours: u32, minutes: u32) -> Option<i32> {
    let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    (minutes < 60).then_some(if sign == b'-' { -seconds } else { seconds })
}

/// An instant in any of the forms [`parse_timestamp`] reads but a plain date.
fn any_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    for items in [&*WITH_OFFSET_SPACE, &*WITH_OFFSET_T] {
        if let Some(instant) = parsed(text, items).and_then(|p| p.to_datetime().ok()) {
            return Some(instant.with_timezone(&Utc));
        }
    }
    for items in [&*NAIVE_SPACE, &*NAIVE_T, &*NAIVE_MINUTES] {
        if let Some(naive) = parsed(text, items).and_then(|p| p.to_naive_datetime_with_offset(0).ok()) {
            return Some(Utc.from_utc_datetime(&naive));
        }
    }
    None
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
    // The usual shape, ten bytes `YYYY-MM-DD`, read without chrono's general parser (a reader types a
    // date or two a line); any other text as `%Y-%m-%d` reads it. A test holds the two together.
    match plain_date(text.as_bytes()) {
        Some(date) => Some(date),
        None => parsed(text, &ISO_DATE)?.to_naive_date().ok(),
    }
}

/// Ten bytes `YYYY-MM-DD` of digits as a date, if it is one.
fn plain_date(text: &[u8]) -> Option<NaiveDate> {
    let &[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = text else { return None };
    let year = two_digits(y0, y1)? * 100 + two_digits(y2, y3)?;
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, two_digits(m0, m1)?, two_digits(d0, d1)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A ten-byte `YYYY-MM-DD` (digits anywhere, valid date or not) reads as chrono's `%Y-%m-%d`
        /// reads it.
        #[test]
        fn plain_dates_read_as_chrono_reads_them(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}|[12][0-9]{3}-[01][0-9]-[0-3][0-9]") {
            proptest::prop_assert_eq!(parse_iso_date(&text), parsed(&text, &ISO_DATE).and_then(|p| p.to_naive_date().ok()));
        }

        /// What the plain reader reads as an instant, chrono's forms read as the same instant.
        #[test]
        fn plain_instants_read_as_chrono_reads_them(
            text in "[12][0-9]{3}-[01][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-6][0-9]:[0-6][0-9](\\.[0-9]{1,10})?(Z|[+-][0-2][0-9](:[0-6][0-9])?)?",
        ) {
            if let Some(instant) = plain_instant(&text) {
                proptest::prop_assert_eq!(any_instant(&text), Some(instant));
            }
        }
    }

    /// The forms NEON and the banks write take the plain reader.
    #[test]
    fn usual_instants_take_the_plain_reader() {
        for text in [
            "2026-10-15 15:48:32.711+00",
            "2026-10-15 09:48:32-06",
            "2026-10-15T09:48:32-06:00",
            "2026-10-15 15:48:32",
            "2024-03-01T05:59:59Z",
        ] {
            assert!(plain_instant(text).is_some(), "{text}");
        }
    }
}
