//! ISO 4217 currencies and their minor units.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// An ISO 4217 currency: its alphabetic code and the number of decimal places of its minor unit.
///
/// Only active currencies with a defined minor unit are known; anything else is an error rather than a
/// guess, because a wrong minor unit silently scales money by powers of ten.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

/// ISO 4217 active codes with their minor units (the published list, funds codes and precious metals
/// left out). Sorted by code for binary search.
#[rustfmt::skip]
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2), ("BHD", 3), ("BIF", 0),
    ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2), ("BWP", 2), ("BYN", 2),
    ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2), ("CLP", 0), ("CNY", 2), ("COP", 2), ("CRC", 2),
    ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2),
    ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2),
    ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2),
    ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2),
    ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2), ("KRW", 0),
    ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2),
    ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2),
    ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2), ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2),
    ("NGN", 2), ("NIO", 2), ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2),
    ("PGK", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2),
    ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2),
    ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2), ("SYP", 2),
    ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2),
    ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0), ("USD", 2), ("UYI", 0), ("UYU", 2), ("UYW", 4),
    ("UZS", 2), ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2), ("XAF", 0), ("XCD", 2),
    ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
];

impl Currency {
    /// Mexican peso.
    pub const MXN: Currency = Currency { code: *b"MXN", minor_units: 2 };
    /// US dollar.
    pub const USD: Currency = Currency { code: *b"USD", minor_units: 2 };

    /// Looks up an ISO 4217 alphabetic code. Surrounding white space is ignored and lowercase is
    /// accepted (`mxn`), because exports vary; anything else unknown is an error.
    pub fn from_code(text: &str) -> Result<Currency, Error> {
        // Every code is three ASCII letters: compared as three bytes on the stack (a reader calls this
        // for every line, two or three times for an Odoo line).
        let upper = match text.trim().as_bytes() {
            &[a, b, c] => [a.to_ascii_uppercase(), b.to_ascii_uppercase(), c.to_ascii_uppercase()],
            _ => return Err(Error::UnknownCurrency { value: text.to_owned() }),
        };
        match ISO_4217.binary_search_by(|(code, _)| code.as_bytes().cmp(&upper[..])) {
            Ok(index) => {
                let (code, minor_units) = ISO_4217[index];
                let bytes = code.as_bytes();
                Ok(Currency { code: [bytes[0], bytes[1], bytes[2]], minor_units })
            }
            Err(_) => Err(Error::UnknownCurrency { value: text.to_owned() }),
        }
    }

    /// The three-letter code, uppercase.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).expect("currency codes are built from ASCII table entries")
    }

    /// Number of decimal places of the minor unit (MXN 2, JPY 0, KWD 3).
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }

    /// The code as three bytes, for fingerprint encoding.
    pub fn code_bytes(&self) -> [u8; 3] {
        self.code
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::from_code(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(ISO_4217.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }

    #[test]
    fn known_minor_units() {
        assert_eq!(Currency::from_code("MXN").unwrap().minor_units(), 2);
        assert_eq!(Currency::from_code(" jpy ").unwrap().minor_units(), 0);
        assert_eq!(Currency::from_code("KWD").unwrap().minor_units(), 3);
        assert_eq!(Currency::from_code("MXN").unwrap(), Currency::MXN);
        assert!(Currency::from_code("XXX").is_err());
        assert!(Currency::from_code("").is_err());
    }
}
