//! Exact money: amounts as integer minor units of an ISO 4217 currency, parsed from text without floats.
//!
//! Every source declares how it writes amounts ([`AmountFormat`]); nothing is guessed. A bank writes
//! `1,234.56` or `(1,234.56)`; Odoo writes Python floats (`1234.5`, sometimes `1234.5000000000002`);
//! Conekta writes integer cents (`123504`).

use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::error::Error;

/// Which character separates the integer part from the decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DecimalSeparator {
    /// `1,234.56`: point for decimals, comma for thousands.
    #[default]
    Point,
    /// `1.234,56`: comma for decimals, point (or space) for thousands. Only where a source declares it.
    Comma,
}

/// How one source writes its amounts. Declared per source, never inferred from the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AmountFormat {
    /// Decimal separator of this source.
    pub decimal_separator: DecimalSeparator,
    /// Amounts are integers in minor units (Conekta: `123504` is 1,235.04 MXN).
    pub minor_units: bool,
    /// Amounts are binary floats printed as text (Odoo): float noise below the minor unit is rounded
    /// away, while a real sub-minor-unit amount (`1234.505`) is still an error.
    pub float_source: bool,
}

impl AmountFormat {
    /// A bank export: `1,234.56`, exact decimals.
    pub const BANK: AmountFormat =
        AmountFormat { decimal_separator: DecimalSeparator::Point, minor_units: false, float_source: false };
    /// Odoo's float text.
    pub const ODOO_FLOAT: AmountFormat =
        AmountFormat { decimal_separator: DecimalSeparator::Point, minor_units: false, float_source: true };
    /// Conekta's integer cents.
    pub const MINOR_UNITS: AmountFormat =
        AmountFormat { decimal_separator: DecimalSeparator::Point, minor_units: true, float_source: false };
}

/// An exact amount: signed integer minor units of a currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money {
    /// Signed amount in minor units (centavos for MXN).
    pub amount_minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// Builds an amount from minor units.
    pub fn from_minor(amount_minor: i64, currency: Currency) -> Money {
        Money { amount_minor, currency }
    }

    /// The amount as an exact decimal in major units (`123450` MXN -> `1234.50`).
    pub fn to_decimal(&self) -> Decimal {
        Decimal::new(self.amount_minor, self.currency.minor_units())
    }

    /// The amount with its sign flipped. Minor units of `i64::MIN` cannot be produced by the parser.
    pub fn negated(&self) -> Money {
        Money { amount_minor: -self.amount_minor, currency: self.currency }
    }

    /// Absolute value.
    pub fn abs(&self) -> Money {
        Money { amount_minor: self.amount_minor.abs(), currency: self.currency }
    }
}

/// Canonical text: optional `-`, digits, exactly the currency's minor-unit decimals, no grouping
/// (`-1234.50`). [`parse_amount`] with [`AmountFormat::BANK`] reads it back unchanged.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

/// Parses amount text exactly into minor units of `currency`, as `format` declares the source writes it.
///
/// Returns `Ok(None)` for an empty amount (blank text or `-` alone). Accepted decorations: a leading
/// apostrophe (Banorte's spreadsheet guard), a `$` sign, the currency code before or after, a leading
/// `+` or `-`, a trailing `-`, and parentheses for negatives. Thousands separators must group by three.
pub fn parse_amount(text: &str, currency: Currency, format: &AmountFormat) -> Result<Option<Money>, Error> {
    match plain_amount(text, currency, format) {
        Some(amount_minor) => Ok(Some(Money { amount_minor, currency })),
        None => parse_any_amount(text, currency, format),
    }
}

/// Most amounts are written plainly, `-?digits(.digits)?`: in a format with a decimal point and
/// not in minor units, with at most as many decimals as the currency's minor unit and within
/// [`AMOUNT_MINOR_MAX`], such text is read here without allocating (the reader types three amounts
/// an Odoo line). `None` for anything else, which [`parse_any_amount`] reads, giving the same
/// value for the text read here (a property test holds the two together).
fn plain_amount(text: &str, currency: Currency, format: &AmountFormat) -> Option<i64> {
    if format.decimal_separator != DecimalSeparator::Point || format.minor_units {
        return None;
    }
    let bytes = text.as_bytes();
    let (negative, number) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let (integer, fraction) = match number.iter().position(|&b| b == b'.') {
        Some(at) if at + 1 < number.len() => (&number[..at], &number[at + 1..]),
        Some(_) => return None,
        None => (number, &b""[..]),
    };
    let minor_units = usize::try_from(currency.minor_units()).ok()?;
    let digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
    if integer.is_empty() || fraction.len() > minor_units || !digits(integer) || !digits(fraction) {
        return None;
    }
    let padding = std::iter::repeat_n(b'0', minor_units - fraction.len());
    let mut magnitude: i64 = 0;
    for digit in integer.iter().chain(fraction).copied().chain(padding) {
        magnitude = magnitude.checked_mul(10)?.checked_add(i64::from(digit - b'0'))?;
    }
    if magnitude > AMOUNT_MINOR_MAX {
        return None;
    }
    Some(if negative { -magnitude } else { magnitude })
}

/// [`parse_amount`] for any text: signs, currency codes and symbols, separators, scientific notation.
fn parse_any_amount(text: &str, currency: Currency, format: &AmountFormat) -> Result<Option<Money>, Error> {
    let invalid = |reason: &str| Error::InvalidAmount { value: text.to_owned(), reason: reason.to_owned() };
    let mut body = text.trim();
    body = body.strip_prefix('\'').unwrap_or(body).trim();
    if body.is_empty() || body == "-" {
        return Ok(None);
    }
    let (negative, unsigned) = strip_sign(body, currency).map_err(&invalid)?;
    let digits = normalize_digits(unsigned, format).map_err(invalid)?;
    let value = if format.float_source && digits.contains(['e', 'E']) {
        scientific(&digits).ok_or_else(|| Error::AmountOutOfRange { value: text.to_owned() })?
    } else {
        Decimal::from_str_exact(&digits).map_err(|_| Error::AmountOutOfRange { value: text.to_owned() })?
    };
    let value = if negative { -value } else { value };
    let amount_minor = to_minor_units(text, value, currency, format)?;
    Ok(Some(Money { amount_minor, currency }))
}

/// Reads a float's scientific notation. Below 1e-10 the value is float noise around zero, which
/// `Decimal` (28 digits of scale) cannot hold: it reads as zero.
fn scientific(digits: &str) -> Option<Decimal> {
    match Decimal::from_scientific(digits) {
        Ok(value) => Some(value),
        Err(_) => {
            let (mantissa, exponent) = digits.split_once(['e', 'E'])?;
            let exponent: i32 = exponent.parse().ok()?;
            let integer_digits = mantissa.split('.').next().map_or(0, str::len);
            let magnitude = exponent + i32::try_from(integer_digits).ok()?;
            (magnitude <= -10).then_some(Decimal::ZERO)
        }
    }
}

/// Strips sign decorations, currency symbol and code; returns (negative, the bare number).
fn strip_sign(body: &str, currency: Currency) -> Result<(bool, &str), &'static str> {
    let mut rest = body;
    let mut negative = false;
    let parenthesized = rest.starts_with('(');
    if let Some(inner) = rest.strip_prefix('(') {
        rest = inner.strip_suffix(')').ok_or("unbalanced parenthesis")?.trim();
        negative = true;
    }
    rest = strip_code(rest, currency);
    let mut signs = 0;
    if let Some(inner) = rest.strip_prefix('-') {
        rest = inner.trim_start();
        negative = !negative;
        signs += 1;
    } else if let Some(inner) = rest.strip_prefix('+') {
        rest = inner.trim_start();
        signs += 1;
    }
    rest = rest.strip_prefix('$').unwrap_or(rest).trim_start();
    if signs == 0
        && let Some(inner) = rest.strip_prefix('-')
    {
        rest = inner.trim_start();
        negative = !negative;
        signs += 1;
    }
    if let Some(inner) = rest.strip_suffix('-') {
        rest = inner.trim_end();
        negative = !negative;
        signs += 1;
    }
    if signs > 1 || (parenthesized && signs > 0) {
        return Err("more than one sign");
    }
    rest = strip_code(rest, currency);
    if rest.is_empty() {
        return Err("no digits");
    }
    Ok((negative, rest))
}

fn strip_code(text: &str, currency: Currency) -> &str {
    let code = currency.code();
    if text.len() > 3 {
        if text.is_char_boundary(3) && text[..3].eq_ignore_ascii_case(code) {
            return text[3..].trim_start();
        }
        let cut = text.len() - 3;
        if text.is_char_boundary(cut) && text[cut..].eq_ignore_ascii_case(code) {
            return text[..cut].trim_end();
        }
    }
    text
}

/// Removes thousands separators (checking they group by three) and rewrites the decimal separator as
/// `.`, giving text that `Decimal::from_str_exact` reads.
fn normalize_digits(number: &str, format: &AmountFormat) -> Result<String, &'static str> {
    let (decimal, thousands): (char, &[char]) = match format.decimal_separator {
        DecimalSeparator::Point => ('.', &[',']),
        DecimalSeparator::Comma => (',', &['.', ' ', '\u{a0}']),
    };
    let (mantissa, exponent) = match number.find(['e', 'E']) {
        Some(at) if format.float_source => (&number[..at], Some(&number[at + 1..])),
        _ => (number, None),
    };
    let mut parts = mantissa.splitn(2, decimal);
    let integer = parts.next().unwrap_or_default();
    let fraction = parts.next();
    if fraction.is_some_and(|f| f.contains(decimal)) {
        return Err("more than one decimal separator");
    }
    let integer_digits = check_grouping(integer, thousands)?;
    let mut out = integer_digits;
    if let Some(fraction) = fraction {
        if format.minor_units {
            return Err("declared in minor units but has decimals");
        }
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err("decimals must be digits");
        }
        out.push('.');
        out.push_str(fraction);
    }
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("malformed exponent");
        }
        out.push('e');
        out.push_str(exponent);
    }
    Ok(out)
}

/// Checks the integer part: plain digits, or groups of three after a first group of one to three.
fn check_grouping(integer: &str, thousands: &[char]) -> Result<String, &'static str> {
    if integer.is_empty() {
        return Err("no digits before the decimal separator");
    }
    let groups: Vec<&str> = integer.split(thousands).collect();
    if groups.iter().any(|g| !g.bytes().all(|b| b.is_ascii_digit()) || g.is_empty()) {
        return Err("not a number in the declared format");
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return Err("thousands separators must group digits by three");
    }
    Ok(groups.concat())
}

/// Scales an exact decimal to integer minor units, refusing real sub-minor-unit amounts.
/// Largest absolute amount accepted, in minor units (10^15: ten trillion pesos). Bounding single amounts
/// keeps every sum the matcher makes (at most `lines_max` lines) far inside `i64`.
pub const AMOUNT_MINOR_MAX: i64 = 1_000_000_000_000_000;

fn to_minor_units(text: &str, value: Decimal, currency: Currency, format: &AmountFormat) -> Result<i64, Error> {
    let minor = to_minor_units_unbounded(text, value, currency, format)?;
    if minor.checked_abs().is_none_or(|magnitude| magnitude > AMOUNT_MINOR_MAX) {
        return Err(Error::AmountOutOfRange { value: text.to_owned() });
    }
    Ok(minor)
}

fn to_minor_units_unbounded(
    text: &str,
    value: Decimal,
    currency: Currency,
    format: &AmountFormat,
) -> Result<i64, Error> {
    let out_of_range = || Error::AmountOutOfRange { value: text.to_owned() };
    if format.minor_units {
        if !value.fract().is_zero() {
            return Err(Error::InvalidAmount {
                value: text.to_owned(),
                reason: "declared in minor units but has decimals".to_owned(),
            });
        }
        return value.trunc().to_i64().ok_or_else(out_of_range);
    }
    let minor_units = currency.minor_units();
    let rounded = value.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointNearestEven);
    let difference = (value - rounded).abs();
    if !difference.is_zero() {
        let tolerance = if format.float_source { float_noise_tolerance(value, minor_units) } else { Decimal::ZERO };
        if difference > tolerance {
            return Err(Error::SubMinorUnitAmount {
                value: text.to_owned(),
                currency: currency.code().to_owned(),
                minor_units,
                difference: difference.normalize().to_string(),
            });
        }
    }
    let scaled = rounded.checked_mul(Decimal::from(10_i64.pow(minor_units))).ok_or_else(out_of_range)?;
    scaled.to_i64().ok_or_else(out_of_range)
}

/// How far a float's decimal text may stray from the minor unit and still be float noise: a few
/// units in the last place of an f64 (about 1e-13 relative), never less than 1e-9 and never more than
/// a hundredth of a minor unit.
fn float_noise_tolerance(value: Decimal, minor_units: u32) -> Decimal {
    let relative = value.abs() * Decimal::new(1, 13);
    let floor = Decimal::new(1, 9);
    let ceiling = Decimal::new(1, minor_units + 2);
    relative.max(floor).min(ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mxn(text: &str, format: &AmountFormat) -> Result<Option<i64>, Error> {
        parse_amount(text, Currency::MXN, format).map(|m| m.map(|m| m.amount_minor))
    }

    #[test]
    fn bank_forms() {
        for (text, minor) in [
            ("1234.5", 123450),
            ("1,234.56", 123456),
            ("$1,234.56", 123456),
            ("-1,234.56", -123456),
            ("(1,234.56)", -123456),
            ("+1234.50", 123450),
            ("1234.5000", 123450),
            ("'1,800.00", 180000),
            ("-$1,234.56", -123456),
            ("$-1,234.56", -123456),
            ("1,234.56-", -123456),
            ("MXN 1,234.56", 123456),
            ("1,234.56 mxn", 123456),
            ("0.00", 0),
        ] {
            assert_eq!(mxn(text, &AmountFormat::BANK), Ok(Some(minor)), "{text}");
        }
        assert_eq!(mxn("-", &AmountFormat::BANK), Ok(None));
        assert_eq!(mxn("  ", &AmountFormat::BANK), Ok(None));
    }

    #[test]
    fn refused_forms() {
        for text in ["1,23.4", "12,34", "1.234,56", "abc", "1..2", "--5", "(-5)", "1234.505", "1e5", "$", "(5", "1 234"]
        {
            assert!(mxn(text, &AmountFormat::BANK).is_err(), "{text}");
        }
    }

    #[test]
    fn declared_comma_separator() {
        let format = AmountFormat { decimal_separator: DecimalSeparator::Comma, ..AmountFormat::BANK };
        assert_eq!(mxn("1.234,56", &format), Ok(Some(123456)));
        assert_eq!(mxn("1 234,56", &format), Ok(Some(123456)));
        assert!(mxn("1,234.56", &format).is_err());
    }

    #[test]
    fn odoo_float_noise() {
        assert_eq!(mxn("1234.5000000000002", &AmountFormat::ODOO_FLOAT), Ok(Some(123450)));
        assert_eq!(mxn("1234.4999999999998", &AmountFormat::ODOO_FLOAT), Ok(Some(123450)));
        assert_eq!(mxn("0.30000000000000004", &AmountFormat::ODOO_FLOAT), Ok(Some(30)));
        assert!(matches!(mxn("1234.505", &AmountFormat::ODOO_FLOAT), Err(Error::SubMinorUnitAmount { .. })));
        assert_eq!(mxn("5.551115123125783e-17", &AmountFormat::ODOO_FLOAT), Ok(Some(0)));
        assert!(mxn("1e-05", &AmountFormat::ODOO_FLOAT).is_err());
        assert_eq!(mxn("1.5e+12", &AmountFormat::ODOO_FLOAT), Ok(Some(150_000_000_000_000)));
        assert!(matches!(mxn("1.5e+16", &AmountFormat::ODOO_FLOAT), Err(Error::AmountOutOfRange { .. })));
        assert!(matches!(mxn("-92233720368547758.08", &AmountFormat::BANK), Err(Error::AmountOutOfRange { .. })));
    }

    #[test]
    fn minor_units_source() {
        assert_eq!(mxn("123504", &AmountFormat::MINOR_UNITS), Ok(Some(123504)));
        assert!(mxn("1235.04", &AmountFormat::MINOR_UNITS).is_err());
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(parse_amount("1,500", jpy, &AmountFormat::BANK).unwrap().unwrap().amount_minor, 1500);
        assert!(parse_amount("1500.5", jpy, &AmountFormat::BANK).is_err());
    }

    proptest::proptest! {
        /// What the plain reader reads, the general reader reads the same.
        #[test]
        fn plain_amounts_read_as_any_amount(
            text in "-?[0-9]{1,20}(\\.[0-9]{0,5})?",
            code in proptest::sample::select(vec!["MXN", "USD", "JPY", "KWD", "UYW"]),
            format in proptest::sample::select(vec![AmountFormat::BANK, AmountFormat::ODOO_FLOAT, AmountFormat::MINOR_UNITS]),
        ) {
            let currency = Currency::from_code(code).unwrap();
            if let Some(amount_minor) = plain_amount(&text, currency, &format) {
                proptest::prop_assert_eq!(parse_any_amount(&text, currency, &format), Ok(Some(Money { amount_minor, currency })));
            }
        }
    }

    #[test]
    fn plain_amounts_take_the_plain_reader() {
        for (text, minor) in [
            ("55248.49", 5_524_849),
            ("-0.5", -50),
            ("0.0", 0),
            ("007", 700),
            ("9999999999999.99", 999_999_999_999_999),
        ] {
            assert_eq!(plain_amount(text, Currency::MXN, &AmountFormat::ODOO_FLOAT), Some(minor), "{text}");
        }
        for text in ["1,234.56", "12.", ".5", "1.234", "+5", " 5", "10000000000000.01", "99999999999999999999"] {
            assert_eq!(plain_amount(text, Currency::MXN, &AmountFormat::BANK), None, "{text}");
        }
        let comma = AmountFormat { decimal_separator: DecimalSeparator::Comma, ..AmountFormat::BANK };
        assert_eq!(plain_amount("12", Currency::MXN, &comma), None);
        assert_eq!(plain_amount("12", Currency::MXN, &AmountFormat::MINOR_UNITS), None);
    }

    #[test]
    fn overflow_is_an_error() {
        assert!(matches!(mxn("99999999999999999999", &AmountFormat::BANK), Err(Error::AmountOutOfRange { .. })));
        assert!(mxn("999999999999999999999999999999999", &AmountFormat::BANK).is_err());
    }

    #[test]
    fn display_is_canonical() {
        let money = Money::from_minor(-123450, Currency::MXN);
        assert_eq!(money.to_string(), "-1234.50");
        assert_eq!(Money::from_minor(5, Currency::MXN).to_string(), "0.05");
    }
}
