//! Typed payment references found in free text: SPEI claves de rastreo and referencias numéricas, OXXO
//! and cash-network references, Conekta payout references, Conekta order ids and CLABEs.
//!
//! The parser reads whole tokens only. It never glues digits out of a mixed token (`a34bc3xxx1` is not
//! `3431`, the false match Odoo's matcher makes), never reads a CLABE or an OXXO reference as a
//! referencia numérica, and never reads a date, a time or an amount as a reference.

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::Text;
use crate::clabe::Clabe;

/// What a reference is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    /// SPEI clave de rastreo: up to 30 characters, letters, digits, `-` and `/`. Canonical: uppercase.
    ClaveRastreo,
    /// SPEI referencia numérica: up to 7 digits, compared as a number. Canonical: no leading zeros.
    ReferenciaNumerica,
    /// OXXO Pay reference (14 digits) or another cash network's (20 digits). Canonical: the digits.
    Oxxo,
    /// Conekta payout statement reference (`Conekta 0598792`). Canonical: no leading zeros.
    ConektaPayout,
    /// Conekta order id (`ord_2xayxSvfWzQ2TLz7r`), case-sensitive.
    ConektaOrder,
    /// A valid CLABE (an account, not a transaction: used to corroborate, never to match alone).
    Clabe,
}

impl ReferenceKind {
    /// Every kind, so that `ALL[kind.index()] == kind`: a compact form of a reference (the
    /// matching core's reference arena) stores the index in one byte.
    pub(crate) const ALL: [ReferenceKind; 6] = [
        ReferenceKind::ClaveRastreo,
        ReferenceKind::ReferenciaNumerica,
        ReferenceKind::Oxxo,
        ReferenceKind::ConektaPayout,
        ReferenceKind::ConektaOrder,
        ReferenceKind::Clabe,
    ];

    /// The kind's index in [`ReferenceKind::ALL`]. A kind added to the enum must get an arm here
    /// (the match is exhaustive) and its place in `ALL`.
    pub(crate) const fn index(self) -> usize {
        match self {
            ReferenceKind::ClaveRastreo => 0,
            ReferenceKind::ReferenciaNumerica => 1,
            ReferenceKind::Oxxo => 2,
            ReferenceKind::ConektaPayout => 3,
            ReferenceKind::ConektaOrder => 4,
            ReferenceKind::Clabe => 5,
        }
    }

    /// Kinds that compare with each other. A Conekta payout reference and a referencia numérica are both
    /// numbers that an Odoo user types into `ref`; they share a family so `0598792` matches `Conekta 598792`.
    pub fn family(self) -> ReferenceFamily {
        match self {
            ReferenceKind::ClaveRastreo => ReferenceFamily::Rastreo,
            ReferenceKind::ReferenciaNumerica | ReferenceKind::ConektaPayout => ReferenceFamily::Numeric,
            ReferenceKind::Oxxo => ReferenceFamily::Oxxo,
            ReferenceKind::ConektaOrder => ReferenceFamily::Order,
            ReferenceKind::Clabe => ReferenceFamily::Clabe,
        }
    }

    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::ClaveRastreo => "clave_rastreo",
            ReferenceKind::ReferenciaNumerica => "referencia_numerica",
            ReferenceKind::Oxxo => "oxxo",
            ReferenceKind::ConektaPayout => "conekta_payout",
            ReferenceKind::ConektaOrder => "conekta_order",
            ReferenceKind::Clabe => "clabe",
        }
    }
}

/// Families of kinds that are compared with each other; see [`ReferenceKind::family`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceFamily {
    /// Claves de rastreo.
    Rastreo,
    /// Referencias numéricas and Conekta payout references.
    Numeric,
    /// OXXO and cash-network references.
    Oxxo,
    /// Conekta order ids.
    Order,
    /// CLABEs.
    Clabe,
}

impl ReferenceFamily {
    /// A stable one-byte tag, used by the fingerprint encoding. Never renumber: fingerprints persist.
    pub fn tag(self) -> u8 {
        match self {
            ReferenceFamily::Rastreo => 1,
            ReferenceFamily::Numeric => 2,
            ReferenceFamily::Oxxo => 3,
            ReferenceFamily::Order => 4,
            ReferenceFamily::Clabe => 5,
        }
    }
}

/// Which rule of the parser found a reference: the answer to "why did you read this as a reference?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A dedicated reference field holding only up to 7 digits.
    ReferenceFieldDigits,
    /// A dedicated reference field holding one clave-shaped token.
    ReferenceFieldToken,
    /// Digits after a keyword such as `REF`, `REFERENCIA` or `REF NUM`.
    ReferenciaKeyword,
    /// A token after `RASTREO` or `CLAVE DE RASTREO`.
    RastreoKeyword,
    /// A token of letters and mostly digits, 8 to 30 characters, shaped like a bank's clave de rastreo.
    ClaveShape,
    /// 14 or 20 digits written in groups (`9300-0262-2769-08`, `9300 0262 2769 08`).
    OxxoGrouped,
    /// Digits glued to an `OXXO` prefix (`OXXO93000262276908`).
    OxxoPrefixed,
    /// A token of exactly 14 digits that is not a date-time.
    OxxoDigits,
    /// A token of exactly 20 digits.
    CashNetworkDigits,
    /// Up to 7 digits next to the word `Conekta`.
    ConektaPayout,
    /// A Conekta order id `ord_…`.
    ConektaOrderId,
    /// 18 digits with a valid check digit and a catalogued bank.
    ValidClabe,
}

impl Rule {
    /// Every rule, so that `ALL[rule.index()] == rule` (see [`ReferenceKind::ALL`]).
    pub(crate) const ALL: [Rule; 12] = [
        Rule::ReferenceFieldDigits,
        Rule::ReferenceFieldToken,
        Rule::ReferenciaKeyword,
        Rule::RastreoKeyword,
        Rule::ClaveShape,
        Rule::OxxoGrouped,
        Rule::OxxoPrefixed,
        Rule::OxxoDigits,
        Rule::CashNetworkDigits,
        Rule::ConektaPayout,
        Rule::ConektaOrderId,
        Rule::ValidClabe,
    ];

    /// The rule's index in [`Rule::ALL`]. A rule added to the enum must get an arm here (the
    /// match is exhaustive) and its place in `ALL`.
    pub(crate) const fn index(self) -> usize {
        match self {
            Rule::ReferenceFieldDigits => 0,
            Rule::ReferenceFieldToken => 1,
            Rule::ReferenciaKeyword => 2,
            Rule::RastreoKeyword => 3,
            Rule::ClaveShape => 4,
            Rule::OxxoGrouped => 5,
            Rule::OxxoPrefixed => 6,
            Rule::OxxoDigits => 7,
            Rule::CashNetworkDigits => 8,
            Rule::ConektaPayout => 9,
            Rule::ConektaOrderId => 10,
            Rule::ValidClabe => 11,
        }
    }
}

/// Where the text comes from: a dedicated reference field is read more eagerly than free text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    /// A field meant to hold a reference (NEON `reference`, Odoo `ref`): a lone number there is a
    /// referencia numérica, a lone token a clave de rastreo.
    ReferenceField,
    /// Free text (bank description, Odoo label): numbers count only after a keyword.
    FreeText,
}

/// A typed reference with its canonical text and the rule that found it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    /// What kind of reference.
    pub kind: ReferenceKind,
    /// Canonical text: compare these, never the raw text.
    pub canonical: Text,
    /// The rule that found it.
    pub rule: Rule,
}

impl Reference {
    fn new(kind: ReferenceKind, canonical: impl Into<Text>, rule: Rule) -> Reference {
        Reference { kind, canonical: canonical.into(), rule }
    }
}

/// Longest text the parser reads; the rest is ignored. Bounds the work per field.
pub const TEXT_LENGTH_MAX: usize = 4096;
/// Most references kept from one text.
pub const REFERENCES_PER_TEXT_MAX: usize = 16;

/// The references of one text or line as the parser finds them: nearly always one or two, held
/// inline (no heap block). A prepared line keeps its own in the matching core's arena instead.
pub(crate) type References = SmallVec<[Reference; 2]>;

/// A text's tokens; bank texts rarely have more than 32 (a longer text spills to the heap).
type Tokens<'t> = SmallVec<[&'t str; 32]>;

/// References found so far in one text, with the index of the token each starts at.
type Found = SmallVec<[(usize, Reference); 4]>;

/// Returns every typed reference in `text`, in order of appearance, without duplicates.
///
/// ```
/// use recon_core::reference::{extract_references, ReferenceKind, TextSource};
/// let found = extract_references("SPEI MBAN01002308280073291391 OXXO 9300-0262-2769-08", TextSource::FreeText);
/// assert_eq!(found[0].kind, ReferenceKind::ClaveRastreo);
/// assert_eq!(found[1].canonical, "93000262276908");
/// ```
pub fn extract_references(text: &str, source: TextSource) -> Vec<Reference> {
    references_in(text, source).into_vec()
}

/// [`extract_references`] into inline storage: the matching core reads millions of texts, and the
/// scratch of one text (its tokens, which are taken, what was found) lives on the stack.
pub(crate) fn references_in(text: &str, source: TextSource) -> References {
    let text = truncate(text, TEXT_LENGTH_MAX);
    if text.trim().is_empty() {
        return References::new();
    }
    let mut tokens = Tokens::new();
    tokenize(text, &mut tokens);
    // Which tokens a rule has taken: on the stack for texts of up to 64 tokens.
    let (mut consumed_inline, mut consumed_heap) = ([false; 64], Vec::new());
    let consumed: &mut [bool] = if tokens.len() <= consumed_inline.len() {
        &mut consumed_inline[..tokens.len()]
    } else {
        consumed_heap.resize(tokens.len(), false);
        &mut consumed_heap
    };
    let mut found = Found::new();
    if source == TextSource::ReferenceField
        && tokens.len() == 1
        && let Some(reference) = reference_field_token(tokens[0])
    {
        return smallvec::smallvec![reference];
    }
    find_grouped_oxxo(&tokens, consumed, &mut found);
    find_conekta_payouts(&tokens, consumed, &mut found);
    find_keyword_references(&tokens, consumed, &mut found);
    for (index, token) in tokens.iter().enumerate() {
        if !consumed[index]
            && let Some(reference) = classify_token(token, source)
        {
            found.push((index, reference));
        }
    }
    found.sort_by_key(|(index, _)| *index);
    let mut out = References::new();
    for (_, reference) in found {
        let duplicate =
            out.iter().any(|r| r.kind.family() == reference.kind.family() && r.canonical == reference.canonical);
        if !duplicate && out.len() < REFERENCES_PER_TEXT_MAX {
            out.push(reference);
        }
    }
    out
}

fn truncate(text: &str, length_max: usize) -> &str {
    if text.len() <= length_max {
        return text;
    }
    let mut end = length_max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Splits on white space and punctuation that never occurs inside a reference. `,`, `:` and `.` split
/// only when not between two digits, so `1,234.56` and `14:47` stay whole (and are then recognised as
/// amounts and times, not references). Reads bytes: only a non-ASCII character is decoded, to ask
/// whether it is white space (a no-break space, say).
fn tokenize<'t>(text: &'t str, tokens: &mut Tokens<'t>) {
    let bytes = text.as_bytes();
    let mut start: Option<usize> = None;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let (splits, width) = if byte.is_ascii() {
            let splits = match byte {
                // `char::is_whitespace` in ASCII: tab, line feed, vertical tab, form feed, carriage return, space.
                b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' => true,
                b';' | b'|' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b'\'' | b'#' | b'=' | b'*' | b'<'
                | b'>' | b'!' | b'?' => true,
                b',' | b':' | b'.' => {
                    let before = index > 0 && bytes[index - 1].is_ascii_digit();
                    let after = bytes.get(index + 1).is_some_and(u8::is_ascii_digit);
                    !(before && after)
                }
                _ => false,
            };
            (splits, 1)
        } else {
            let character = text[index..].chars().next().expect("index is at a character boundary");
            (character.is_whitespace(), character.len_utf8())
        };
        match (splits, start) {
            (true, Some(from)) => {
                tokens.push(&text[from..index]);
                start = None;
            }
            (false, None) => start = Some(index),
            _ => {}
        }
        index += width;
    }
    if let Some(from) = start {
        tokens.push(&text[from..]);
    }
}

fn is_digits(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit())
}

fn strip_leading_zeros(digits: &str) -> &str {
    let stripped = digits.trim_start_matches('0');
    if stripped.is_empty() { "0" } else { stripped }
}

/// `token` in upper case (ASCII), built in place: most references fit a `Text` inline.
fn upper(token: &str) -> Text {
    let mut text = Text::from(token);
    text.make_ascii_uppercase();
    text
}

/// A lone token in a dedicated reference field.
fn reference_field_token(token: &str) -> Option<Reference> {
    if is_digits(token) && token.len() <= 7 {
        return Some(Reference::new(
            ReferenceKind::ReferenciaNumerica,
            strip_leading_zeros(token),
            Rule::ReferenceFieldDigits,
        ));
    }
    if let Some(reference) = classify_token(token, TextSource::ReferenceField) {
        return Some(reference);
    }
    let shaped = token.len() <= 30
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/')
        && token.bytes().any(|b| b.is_ascii_digit())
        && !looks_like_date(token)
        && !looks_like_sequence(token);
    shaped.then(|| Reference::new(ReferenceKind::ClaveRastreo, upper(token), Rule::ReferenceFieldToken))
}

/// One token on its own, after keyword and grouping rules have had their turn.
fn classify_token(token: &str, source: TextSource) -> Option<Reference> {
    if let Some(order) = token.strip_prefix("ord_") {
        if order.len() >= 10 && order.len() <= 40 && order.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Some(Reference::new(ReferenceKind::ConektaOrder, token, Rule::ConektaOrderId));
        }
        return None;
    }
    if let Some(reference) = oxxo_prefixed(token) {
        return Some(reference);
    }
    if is_digits(token) {
        return classify_digits(token, source);
    }
    if let Some(digits) = hyphen_grouped_digits(token) {
        return Some(Reference::new(ReferenceKind::Oxxo, digits, Rule::OxxoGrouped));
    }
    clave_shape(token).then(|| Reference::new(ReferenceKind::ClaveRastreo, upper(token), Rule::ClaveShape))
}

fn classify_digits(token: &str, source: TextSource) -> Option<Reference> {
    match token.len() {
        18 => Clabe::parse(token)
            .ok()
            .map(|c| Reference::new(ReferenceKind::Clabe, compact_str::format_compact!("{c}"), Rule::ValidClabe)),
        14 if !looks_like_date(token) => Some(Reference::new(ReferenceKind::Oxxo, token, Rule::OxxoDigits)),
        20 => Some(Reference::new(ReferenceKind::Oxxo, token, Rule::CashNetworkDigits)),
        1..=7 if source == TextSource::ReferenceField => Some(Reference::new(
            ReferenceKind::ReferenciaNumerica,
            strip_leading_zeros(token),
            Rule::ReferenceFieldDigits,
        )),
        8..=30 if source == TextSource::ReferenceField && !looks_like_date(token) => {
            Some(Reference::new(ReferenceKind::ClaveRastreo, token, Rule::ReferenceFieldToken))
        }
        _ => None,
    }
}

/// `OXXO93000262276908` or `OXXO-9300-0262-2769-08`.
fn oxxo_prefixed(token: &str) -> Option<Reference> {
    let head = token.get(..4)?;
    if !head.eq_ignore_ascii_case("OXXO") {
        return None;
    }
    let rest = token[4..].trim_start_matches(['-', ':', '_']);
    let digits: String = if is_digits(rest) { rest.to_owned() } else { hyphen_grouped_digits(rest)? };
    matches!(digits.len(), 14 | 20).then(|| Reference::new(ReferenceKind::Oxxo, digits, Rule::OxxoPrefixed))
}

/// `9300-0262-2769-08`: digit groups of four (the last may be two) joined by `-`, 14 or 20 digits.
fn hyphen_grouped_digits(token: &str) -> Option<String> {
    if !token.contains('-') {
        return None;
    }
    let groups: Vec<&str> = token.split('-').collect();
    oxxo_groups(&groups)
}

fn oxxo_groups(groups: &[&str]) -> Option<String> {
    let (last, leading) = groups.split_last()?;
    let shaped = groups.len() >= 3
        && groups.iter().all(|g| is_digits(g))
        && leading.iter().all(|g| g.len() == 4)
        && matches!(last.len(), 2 | 4);
    let digits = groups.concat();
    (shaped && matches!(digits.len(), 14 | 20)).then_some(digits)
}

/// A free-text token shaped like a clave de rastreo: 8 to 30 characters of letters, digits, `-` and `/`,
/// with at least one letter and at least as many digits as letters (so words and mixed tokens such as
/// `a34bc3xxx1` are not read as references).
fn clave_shape(token: &str) -> bool {
    if !(8..=30).contains(&token.len()) {
        return false;
    }
    // One pass over the bytes; most claves have no separator, and only a token with one can read as
    // a date (a token with a letter is never all digits) or a sequence name.
    let (mut letters, mut digits, mut separators) = (0usize, 0usize, 0usize);
    for byte in token.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' => letters += 1,
            b'0'..=b'9' => digits += 1,
            b'-' | b'/' => separators += 1,
            _ => return false,
        }
    }
    letters >= 1 && digits >= letters && (separators == 0 || (!looks_like_date(token) && !looks_like_sequence(token)))
}

/// Odoo sequence names (`INV/2024/00098`, `BNK1/2026/00001`, `RINV/2025/0003`): a prefix of letters
/// (and digits), a four-digit year and a number, joined by `/`. They name journal entries, not payments.
fn looks_like_sequence(token: &str) -> bool {
    let Some([prefix, year, number]) = three_parts(token, &['/']) else { return false };
    prefix.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && prefix.bytes().all(|b| b.is_ascii_alphanumeric())
        && year.len() == 4
        && is_digits(year)
        && is_digits(number)
}

/// `token` split on `separators` when that gives exactly three parts; no allocation (these checks run
/// on most tokens of millions of texts).
fn three_parts<'t>(token: &'t str, separators: &[char]) -> Option<[&'t str; 3]> {
    let mut parts = token.split(separators);
    let three = [parts.next()?, parts.next()?, parts.next()?];
    parts.next().is_none().then_some(three)
}

/// Month abbreviations, Spanish and English, as banks write dates (`16/OCT/2026`, `16-ENE-26`).
const MONTHS: &[&str] = &[
    "ENE", "JAN", "FEB", "MAR", "ABR", "APR", "MAY", "JUN", "JUL", "AGO", "AUG", "SEP", "SET", "OCT", "NOV", "DIC",
    "DEC",
];

/// Dates and date-times written as digits with optional `-`, `/` or `.` separators: `25/08/2023`,
/// `2023-08-25`, `20230825`, `20230825144700`. A reference is never read from these.
fn looks_like_date(token: &str) -> bool {
    if let Some(parts) = three_parts(token, &['/', '-', '.']) {
        if is_digits(parts[0])
            && is_digits(parts[2])
            && parts[0].len() <= 2
            && MONTHS.iter().any(|m| parts[1].eq_ignore_ascii_case(m))
        {
            return true;
        }
        if parts.iter().all(|p| is_digits(p)) {
            let numbers = parts.map(|p| p.parse::<u32>().unwrap_or(u32::MAX));
            let (year_first, year_last) = (parts[0].len() == 4, parts[2].len() == 4 || parts[2].len() == 2);
            let plausible_day_month = |a: u32, b: u32| (1..=31).contains(&a) && (1..=12).contains(&b);
            return (year_first && plausible_day_month(numbers[2], numbers[1]))
                || (year_last
                    && (plausible_day_month(numbers[0], numbers[1]) || plausible_day_month(numbers[1], numbers[0])));
        }
    }
    if is_digits(token) && (token.len() == 8 || token.len() == 14) {
        let year: u32 = token[..4].parse().unwrap_or(0);
        let month: u32 = token[4..6].parse().unwrap_or(0);
        let day: u32 = token[6..8].parse().unwrap_or(0);
        let date_ok = (1990..=2099).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day);
        if token.len() == 8 {
            return date_ok;
        }
        let hour: u32 = token[8..10].parse().unwrap_or(99);
        let minute: u32 = token[10..12].parse().unwrap_or(99);
        let second: u32 = token[12..14].parse().unwrap_or(99);
        return date_ok && hour < 24 && minute < 60 && second < 61;
    }
    false
}

/// `Conekta 0598792`, `0598792 Conekta`, `Liquidación Conekta 598792`.
fn find_conekta_payouts(tokens: &[&str], consumed: &mut [bool], found: &mut Found) {
    for (index, token) in tokens.iter().enumerate() {
        if !token.trim_end_matches([':', '-']).eq_ignore_ascii_case("conekta") {
            continue;
        }
        let after = index + 1;
        let candidate = [Some(after), index.checked_sub(1)]
            .into_iter()
            .flatten()
            .find(|&i| i < tokens.len() && !consumed[i] && is_digits(tokens[i]) && tokens[i].len() <= 7);
        if let Some(at) = candidate {
            consumed[at] = true;
            consumed[index] = true;
            found.push((
                at,
                Reference::new(ReferenceKind::ConektaPayout, strip_leading_zeros(tokens[at]), Rule::ConektaPayout),
            ));
        }
    }
}

/// `9300 0262 2769 08` written as separate tokens, optionally after `OXXO`.
fn find_grouped_oxxo(tokens: &[&str], consumed: &mut [bool], found: &mut Found) {
    let mut index = 0;
    while index < tokens.len() {
        let mut matched = None;
        if tokens[index].len() == 4 && is_digits(tokens[index]) {
            for groups in [4usize, 5, 6] {
                let end = index + groups;
                if end <= tokens.len()
                    && (index..end).all(|i| !consumed[i])
                    && let Some(digits) = oxxo_groups(&tokens[index..end])
                {
                    matched = Some((end, digits));
                    break;
                }
            }
        }
        match matched {
            Some((end, digits)) => {
                consumed[index..end].iter_mut().for_each(|c| *c = true);
                found.push((index, Reference::new(ReferenceKind::Oxxo, digits, Rule::OxxoGrouped)));
                index = end;
            }
            None => index += 1,
        }
    }
}

/// Case-insensitive comparison against uppercase keywords, without allocating: ASCII letters fold
/// directly; the accented capitals of the keywords (`É`, `Ú`) also match their lowercase forms.
fn is_one_of(word: &str, keywords: &[&str]) -> bool {
    if word.is_ascii() {
        // An ASCII word can only equal an ASCII keyword, byte for byte up to case.
        return keywords.iter().any(|keyword| word.eq_ignore_ascii_case(keyword));
    }
    keywords.iter().any(|keyword| {
        word.len() == keyword.len()
            && word
                .chars()
                .zip(keyword.chars())
                .all(|(a, b)| a.eq_ignore_ascii_case(&b) || (a == 'é' && b == 'É') || (a == 'ú' && b == 'Ú') || a == b)
    })
}

/// Keywords that announce a referencia numérica or a clave de rastreo in free text.
fn find_keyword_references(tokens: &[&str], consumed: &mut [bool], found: &mut Found) {
    for index in 0..tokens.len() {
        let word = tokens[index].trim_end_matches(['.', ':', '-']);
        let next = index + 1;
        let is_referencia = is_one_of(word, &["REF", "REFERENCIA", "REFNUM", "NUMERICA", "NUMÉRICA", "REF/NUM"]);
        let is_rastreo = is_one_of(word, &["RASTREO", "CVE", "CLAVE", "TRACKING"]);
        if !(is_referencia || is_rastreo) {
            continue;
        }
        // Skip a second keyword word: `REF NUM 123`, `CLAVE DE RASTREO X`.
        let mut value_at = next;
        while value_at < tokens.len() && value_at <= next + 2 {
            let follower = tokens[value_at].trim_end_matches(['.', ':']);
            if is_one_of(follower, &["NUM", "NUMERICA", "NUMÉRICA", "DE", "RASTREO", "NO", "NÚM"]) {
                value_at += 1;
            } else {
                break;
            }
        }
        let Some(value) = tokens.get(value_at) else { continue };
        if consumed[value_at] {
            continue;
        }
        let value = value.trim_end_matches('.');
        if is_referencia && is_digits(value) && value.len() <= 7 {
            consumed[value_at] = true;
            found.push((
                value_at,
                Reference::new(ReferenceKind::ReferenciaNumerica, strip_leading_zeros(value), Rule::ReferenciaKeyword),
            ));
        } else if is_rastreo
            && reference_field_token(value)
                .is_some_and(|r| r.kind == ReferenceKind::ClaveRastreo || r.kind == ReferenceKind::ReferenciaNumerica)
        {
            consumed[value_at] = true;
            found.push((value_at, Reference::new(ReferenceKind::ClaveRastreo, upper(value), Rule::RastreoKeyword)));
        }
    }
}

/// The reference a fingerprint uses when a line carries several: the most specific family first
/// (clave de rastreo, OXXO, order id, numeric), then the smallest canonical text, so the choice never
/// depends on the order the text was written in.
pub fn primary_reference(references: &[Reference]) -> Option<&Reference> {
    let rank = |r: &Reference| match r.kind.family() {
        ReferenceFamily::Rastreo => 0,
        ReferenceFamily::Oxxo => 1,
        ReferenceFamily::Order => 2,
        ReferenceFamily::Numeric => 3,
        ReferenceFamily::Clabe => 4,
    };
    references
        .iter()
        .filter(|r| r.kind != ReferenceKind::Clabe)
        .min_by(|a, b| (rank(a), &a.canonical).cmp(&(rank(b), &b.canonical)))
}
