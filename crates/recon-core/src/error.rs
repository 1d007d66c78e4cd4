//! The core's one error type.

use thiserror::Error as ThisError;

/// Everything the core can refuse, each variant naming the value it refused and why.
///
/// The core never knows which file or line a value came from; callers wrap it with that context
/// (see `recon-io`). Every variant carries the offending text so an on-call engineer can search for it.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum Error {
    /// The currency code is not an active ISO 4217 code.
    #[error("unknown currency code {value:?}: expected an ISO 4217 code such as MXN or USD")]
    UnknownCurrency {
        /// The text given as a currency code.
        value: String,
    },
    /// The amount text is not a number in the declared format.
    #[error("invalid amount {value:?}: {reason}")]
    InvalidAmount {
        /// The amount text.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// The amount has more decimals than the currency's minor unit and they are not zeros
    /// (or, for float sources, not float noise).
    #[error(
        "amount {value:?} has sub-minor-unit digits for {currency} ({minor_units} decimals): rounding would move it by {difference}"
    )]
    SubMinorUnitAmount {
        /// The amount text.
        value: String,
        /// The currency code.
        currency: String,
        /// The currency's minor units.
        minor_units: u32,
        /// How far rounding would move the amount.
        difference: String,
    },
    /// The amount does not fit in 64-bit minor units.
    #[error("amount {value:?} is out of range")]
    AmountOutOfRange {
        /// The amount text.
        value: String,
    },
    /// A line's texts together are longer than one typed record holds. It names no one text: the
    /// field error around it names the longest, cut short.
    #[error("the line's texts total {bytes} bytes, more than the {limit} one typed line holds")]
    TextsTooLong {
        /// Their total length in bytes.
        bytes: usize,
        /// The most a typed line holds.
        limit: usize,
    },
    /// The timestamp or date text is in none of the accepted forms.
    #[error("invalid timestamp {value:?}: {reason}")]
    InvalidTimestamp {
        /// The timestamp text.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// The time zone is not an IANA zone name.
    #[error("unknown time zone {value:?}: expected an IANA name such as America/Mexico_City")]
    UnknownTimeZone {
        /// The zone name given.
        value: String,
    },
    /// The CLABE is not 18 characters long.
    #[error("CLABE {value:?} has {length} characters, expected 18 digits")]
    ClabeLength {
        /// The CLABE text.
        value: String,
        /// Its length in characters.
        length: usize,
    },
    /// The CLABE contains something other than digits.
    #[error("CLABE {value:?} contains non-digit characters")]
    ClabeNotDigits {
        /// The CLABE text.
        value: String,
    },
    /// The CLABE's 18th digit does not match the 3-7-1 check digit.
    #[error("CLABE {value:?} has check digit {found}, expected {expected}")]
    ClabeCheckDigit {
        /// The CLABE text.
        value: String,
        /// The check digit written.
        found: u8,
        /// The check digit computed from the first 17 digits.
        expected: u8,
    },
    /// The CLABE's 3-digit bank prefix is not in the Banxico catalogue.
    #[error("CLABE {value:?} has bank prefix {prefix} that is not in the Banxico catalogue")]
    ClabeUnknownBank {
        /// The CLABE text.
        value: String,
        /// The three-digit bank prefix.
        prefix: String,
    },
    /// A required value is empty.
    #[error("{field} is required but empty")]
    Empty {
        /// The field name.
        field: String,
    },
    /// A value is not one of the allowed words.
    #[error("{value:?} is not one of: {allowed}")]
    NotOneOf {
        /// The text given.
        value: String,
        /// The allowed values, comma-separated.
        allowed: String,
    },
    /// A configuration value is out of its allowed range or inconsistent.
    #[error("invalid configuration {key}: {reason}")]
    InvalidConfig {
        /// The configuration key (dotted path).
        key: String,
        /// Why it was refused.
        reason: String,
    },
}
