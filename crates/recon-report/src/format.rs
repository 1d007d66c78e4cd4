//! Text for people: HTML escaping, grouped numbers (`1,234,567.89`), percentages and ISO dates.
//! Everything here works on integers and [`Decimal`]s; there is no float anywhere.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

/// A non-breaking space, so `95 %` never wraps between the number and its sign.
pub(crate) const NBSP: char = '\u{a0}';

/// Text from data, written with `&`, `<`, `>`, `"` and `'` escaped, so it is safe both as
/// element content and inside a quoted attribute value.
pub(crate) struct Escaped<'a>(&'a str);

/// Wraps data text for writing into HTML.
pub(crate) fn escape(text: &str) -> Escaped<'_> {
    Escaped(text)
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(position) = rest.find(['&', '<', '>', '"', '\'']) {
            formatter.write_str(&rest[..position])?;
            let entity = match rest.as_bytes()[position] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            };
            formatter.write_str(entity)?;
            rest = &rest[position + 1..];
        }
        formatter.write_str(rest)
    }
}

/// Inserts a comma every three digits from the right: `1234567` gives `1,234,567`.
fn group_digits(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A count with thousands separators: `15,624`.
pub(crate) fn count(value: u64) -> String {
    group_digits(&value.to_string())
}

/// Money with thousands separators and at least two decimals: `-1,234,567.80`.
/// Never rounds: an amount stored with more decimals shows them all.
pub(crate) fn amount(value: Decimal) -> String {
    let mut shown = value;
    if shown.scale() < 2 {
        // Raising the scale only appends zeros; it cannot lose anything.
        shown.rescale(2);
    }
    let text = shown.abs().to_string();
    let (integer, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if value.is_sign_negative() && !value.is_zero() { "-" } else { "" };
    format!("{sign}{}.{fraction}", group_digits(integer))
}

/// Money followed by its currency code: `1,250,000.00 MXN`.
pub(crate) fn money(value: Decimal, currency: &str) -> String {
    format!("{}{NBSP}{currency}", amount(value))
}

/// A rate (a fraction such as `0.9731`) as a percentage with two decimals: `97.31 %`.
/// Rounded toward zero like the KPI itself, so a rate below the line never reads as on it.
pub(crate) fn percent(rate: Decimal) -> String {
    let mut hundredths = (rate * Decimal::ONE_HUNDRED).round_dp_with_strategy(2, RoundingStrategy::ToZero);
    hundredths.rescale(2);
    format!("{hundredths}{NBSP}%")
}

/// A rate that may be missing (no statement lines): `97.31 %` or an em dash.
pub(crate) fn percent_or_dash(rate: Option<Decimal>) -> String {
    rate.map_or_else(|| "\u{2014}".to_owned(), percent)
}

/// The threshold as people write it: `0.95` gives `95 %`, `0.975` gives `97.5 %`.
pub(crate) fn threshold(rate: Decimal) -> String {
    format!("{}{NBSP}%", (rate * Decimal::ONE_HUNDRED).normalize())
}

/// An instant as ISO 8601 in UTC, to the second: `2025-01-30 06:15:00 UTC`.
pub(crate) fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A chart coordinate with at most one decimal: `123.4`, `120`.
pub(crate) fn coordinate(value: Decimal) -> String {
    value.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero).normalize().to_string()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).expect("a test decimal")
    }

    #[test]
    fn amounts_are_grouped_and_never_rounded() {
        assert_eq!(amount(decimal("1234567.89")), "1,234,567.89");
        assert_eq!(amount(decimal("-312450.1")), "-312,450.10");
        assert_eq!(amount(decimal("0")), "0.00");
        assert_eq!(amount(decimal("999")), "999.00");
        assert_eq!(amount(decimal("1000.125")), "1,000.125");
    }

    #[test]
    fn percentages_round_toward_zero() {
        assert_eq!(percent(decimal("0.94999")), format!("94.99{NBSP}%"));
        assert_eq!(percent(decimal("1")), format!("100.00{NBSP}%"));
        assert_eq!(threshold(decimal("0.950")), format!("95{NBSP}%"));
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(escape(r#"<a href="x">&'</a>"#).to_string(), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }
}
