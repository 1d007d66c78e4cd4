//! CLABE: Mexico's 18-digit standardized bank account number.
//!
//! Layout: bank (3) + plaza (3) + account (11) + check digit (1). The check digit weights the first 17
//! digits by 3, 7, 1 repeated, takes each product mod 10, sums, and is `(10 - sum mod 10) mod 10`.
//! The bank prefix must be in the Banxico catalogue (`data/banxico.csv`, from cuenca-mx/clabe-python).

use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A validated CLABE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Clabe {
    digits: [u8; 18],
}

/// One entry of the Banxico bank catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bank {
    /// The three-digit CLABE prefix.
    pub prefix: String,
    /// The five-digit SPEI institution code, when known.
    pub institution_code: Option<String>,
    /// The bank's short name.
    pub name: String,
}

const CATALOGUE_CSV: &str = include_str!("../data/banxico.csv");

/// The catalogue indexed by the prefix as a number (0..1000), so validating a CLABE allocates and
/// hashes nothing: every statement line's counterparty account is one lookup.
fn catalogue() -> &'static [Option<Bank>] {
    static CATALOGUE: OnceLock<Vec<Option<Bank>>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let mut banks: Vec<Option<Bank>> = vec![None; 1000];
        for line in CATALOGUE_CSV.lines().skip(1).filter(|line| !line.trim().is_empty() && !line.starts_with('#')) {
            let mut fields = line.splitn(3, ',');
            let prefix = fields.next().unwrap_or_default().trim().to_owned();
            let institution_code = fields.next().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
            let name = fields.next().unwrap_or_default().trim().trim_matches('"').to_owned();
            let number: usize = prefix.parse().expect("data/banxico.csv prefixes are three digits");
            assert!(prefix.len() == 3 && number < 1000, "data/banxico.csv prefixes are three digits: {prefix}");
            banks[number] = Some(Bank { prefix, institution_code, name });
        }
        banks
    })
}

/// Looks up a three-digit bank prefix in the Banxico catalogue.
pub fn bank_by_prefix(prefix: &str) -> Option<&'static Bank> {
    if prefix.len() != 3 {
        return None;
    }
    catalogue().get(prefix.parse::<usize>().ok()?)?.as_ref()
}

/// The 3-7-1 check digit of the first 17 digits.
pub fn check_digit(first_17: &[u8; 17]) -> u8 {
    const WEIGHTS: [u8; 3] = [3, 7, 1];
    let sum: u32 = first_17.iter().enumerate().map(|(i, d)| u32::from((d * WEIGHTS[i % 3]) % 10)).sum();
    u8::try_from((10 - sum % 10) % 10).expect("a value mod 10 fits in u8")
}

impl Clabe {
    /// Parses and validates a CLABE. Surrounding white space is ignored. Errors are checked in this
    /// order, each a different variant: length, non-digits, check digit, unknown bank.
    pub fn parse(text: &str) -> Result<Clabe, Error> {
        let trimmed = text.trim();
        let length = trimmed.chars().count();
        if length != 18 {
            return Err(Error::ClabeLength { value: text.to_owned(), length });
        }
        if !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::ClabeNotDigits { value: text.to_owned() });
        }
        let mut digits = [0u8; 18];
        for (slot, byte) in digits.iter_mut().zip(trimmed.bytes()) {
            *slot = byte - b'0';
        }
        let first_17: [u8; 17] = digits[..17].try_into().expect("18 digits have 17 leading digits");
        let expected = check_digit(&first_17);
        if digits[17] != expected {
            return Err(Error::ClabeCheckDigit { value: text.to_owned(), found: digits[17], expected });
        }
        let clabe = Clabe { digits };
        let prefix_number = usize::from(digits[0]) * 100 + usize::from(digits[1]) * 10 + usize::from(digits[2]);
        if catalogue()[prefix_number].is_none() {
            return Err(Error::ClabeUnknownBank { value: text.to_owned(), prefix: clabe.bank_prefix() });
        }
        Ok(clabe)
    }

    /// The three-digit bank prefix (`646` for STP).
    pub fn bank_prefix(&self) -> String {
        self.digits[..3].iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The bank from the Banxico catalogue.
    pub fn bank(&self) -> &'static Bank {
        bank_by_prefix(&self.bank_prefix()).expect("a parsed CLABE has a catalogued bank")
    }
}

impl fmt::Display for Clabe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One write of the 18 ASCII digits: a CLABE is printed for every statement line that has one.
        let ascii = self.digits.map(|digit| b'0' + digit);
        f.write_str(std::str::from_utf8(&ascii).expect("ASCII digits are UTF-8"))
    }
}

impl TryFrom<String> for Clabe {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Clabe::parse(&value)
    }
}

impl From<Clabe> for String {
    fn from(value: Clabe) -> Self {
        value.to_string()
    }
}
