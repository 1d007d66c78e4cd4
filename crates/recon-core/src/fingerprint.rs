//! The runbook's unique hash per (amount, reference, date, account): a blake3 fingerprint over a
//! canonical, versioned byte encoding. It is a persisted identity (cases and duplicates are keyed by
//! it), so the encoding never changes without bumping [`FINGERPRINT_VERSION`].
//!
//! Encoding, version 1 (all integers big-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 17 | ASCII `recon.fingerprint` (domain separation) |
//! | 1 | version, `0x01` |
//! | 3 | currency code, ASCII uppercase |
//! | 8 | amount in minor units, signed `i64` |
//! | 1 | reference family tag (0 = none, see `ReferenceFamily::tag`) |
//! | 2 | reference length `n`, `u16` |
//! | n | canonical reference, UTF-8 |
//! | 4 | business date, signed `i32` days since 1970-01-01 |
//! | 2 | account length `m`, `u16` |
//! | m | account (canonical: trimmed; a CLABE's 18 digits), UTF-8 |

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::reference::Reference;

/// Version of the byte encoding hashed by [`fingerprint`].
pub const FINGERPRINT_VERSION: u8 = 1;

const DOMAIN: &[u8; 17] = b"recon.fingerprint";
/// Longest reference or account the encoding carries; longer text is cut at a character boundary
/// (references are at most 30 characters, so only garbage is ever cut).
const FIELD_LENGTH_MAX: usize = 512;

/// A 32-byte blake3 fingerprint. Displays as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The first 16 hex digits, for logs and case ids.
    pub fn short(&self) -> String {
        self.to_string()[..16].to_owned()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl From<Fingerprint> for String {
    fn from(value: Fingerprint) -> Self {
        value.to_string()
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let bytes = value.as_bytes();
        if bytes.len() != 64 {
            return Err(format!("fingerprint {value:?} is not 64 hex digits"));
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| format!("fingerprint {value:?} is not hex"))?;
            *slot = u8::from_str_radix(text, 16).map_err(|_| format!("fingerprint {value:?} is not hex"))?;
        }
        Ok(Fingerprint(out))
    }
}

/// What the fingerprint identifies.
#[derive(Clone, Copy, Debug)]
pub struct FingerprintInput<'a> {
    /// Signed amount and currency.
    pub money: Money,
    /// The primary canonical reference, if any.
    pub reference: Option<&'a Reference>,
    /// Business date.
    pub business_date: NaiveDate,
    /// Account key (the bank account's CLABE).
    pub account: &'a str,
}

/// The version-1 byte encoding (see the module docs).
pub fn encode(input: &FingerprintInput<'_>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(96);
    bytes.extend_from_slice(DOMAIN);
    bytes.push(FINGERPRINT_VERSION);
    bytes.extend_from_slice(&input.money.currency.code_bytes());
    bytes.extend_from_slice(&input.money.amount_minor.to_be_bytes());
    match input.reference {
        Some(reference) => {
            bytes.push(reference.kind.family().tag());
            push_text(&mut bytes, &reference.canonical);
        }
        None => {
            bytes.push(0);
            push_text(&mut bytes, "");
        }
    }
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch is a date");
    let days = i32::try_from((input.business_date - epoch).num_days()).expect("chrono dates fit in i32 days");
    bytes.extend_from_slice(&days.to_be_bytes());
    push_text(&mut bytes, input.account.trim());
    bytes
}

fn push_text(bytes: &mut Vec<u8>, text: &str) {
    let mut end = text.len().min(FIELD_LENGTH_MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let length = u16::try_from(end).expect("FIELD_LENGTH_MAX fits in u16");
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(&text.as_bytes()[..end]);
}

/// The blake3 fingerprint of (amount, reference, business date, account).
pub fn fingerprint(input: &FingerprintInput<'_>) -> Fingerprint {
    Fingerprint(*blake3::hash(&encode(input)).as_bytes())
}
