//! The sans-IO core of recon: it reads text and records and returns values. No files, no database,
//! no clock, no environment.
//!
//! - [`reference`](mod@reference): typed SPEI/OXXO/Conekta references found in free text;
//! - [`clabe`]: CLABE validation against the check digit and the Banxico catalogue;
//! - [`money`] and [`currency`]: exact amounts in minor units, never through a float;
//! - [`time`] and [`calendar`]: business dates in an IANA zone, SPEI operation dates, banking days;
//! - [`fingerprint`]: the versioned blake3 identity of (amount, reference, date, account);
//! - [`matching`]: tiered one-to-one and N:1 matching, exceptions and the KPI.
//!
//! ```
//! use recon_core::{currency::Currency, money::{parse_amount, AmountFormat}};
//! let money = parse_amount("$1,234.50", Currency::MXN, &AmountFormat::BANK).unwrap().unwrap();
//! assert_eq!(money.amount_minor, 123450);
//! ```

#![forbid(unsafe_code)]

pub mod calendar;
pub mod clabe;
pub mod currency;
pub mod error;
pub mod fingerprint;
pub mod matching;
pub mod money;
mod packed;
pub mod records;
pub mod reference;
pub mod time;

pub use error::Error;

/// Short text held by the millions: ids in matches, canonical references. Up to 24 bytes are
/// inline (an id, a CLABE, most references), so a million lines are not millions of heap blocks;
/// longer text (descriptions, Odoo's external ids) is on the heap as in a `String`.
pub type Text = compact_str::CompactString;
