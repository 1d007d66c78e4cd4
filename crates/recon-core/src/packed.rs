//! The texts of one typed record: its own texts in one heap block, the texts many records share
//! interned.
//!
//! A night holds its typed lines whole while it matches them (10 M statement lines and 13 M Odoo
//! lines at the top of the range). Held as separate `Text`s, a statement line's six texts cost 144
//! bytes of struct plus a heap block for each longer than 24 bytes (its description nearly always,
//! its counterparty name and reference often; an Odoo line's external id always): about 280 bytes a
//! statement line and 320 an Odoo line in the generated data. Held here, a record's own texts are
//! one exact-size block beside 16 bytes of pointer and four bytes of offset per text after the
//! first, and each text it shares with many others (a bank account, a journal, a partner's name) is
//! four bytes: its key in a process-wide interner ([`Shared`]).

use std::hash::BuildHasherDefault;
use std::sync::LazyLock;

use lasso::{Spur, ThreadedRodeo};
use rustc_hash::FxHasher;

/// `SPLITS + 1` texts of the record's own, concatenated, with the byte offsets where texts
/// `1..=SPLITS` start; and `SHARED` texts many records hold the same, interned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PackedTexts<const SPLITS: usize, const SHARED: usize> {
    text: Box<str>,
    starts: [u32; SPLITS],
    shared: [Shared; SHARED],
}

/// Bytes one record's texts may total: the offsets are `u32`. Far above any line a source writes
/// (typing refuses a longer one with its field; see `records`).
pub(crate) const MAX_RECORD_TEXT_BYTES: usize = u32::MAX as usize;

impl<const SPLITS: usize, const SHARED: usize> PackedTexts<SPLITS, SHARED> {
    /// Packs `first` and `rest`, `SPLITS + 1` texts, and interns `shared` (counts the types hold).
    ///
    /// # Panics
    /// If the texts total more than [`MAX_RECORD_TEXT_BYTES`], or (see [`Shared::of`]) the process
    /// has interned 2^32 - 1 distinct shared texts.
    pub(crate) fn new(first: &str, rest: [&str; SPLITS], shared: [&str; SHARED]) -> Self {
        let len = first.len() + rest.iter().map(|part| part.len()).sum::<usize>();
        assert!(len <= MAX_RECORD_TEXT_BYTES, "a record's texts total {len} bytes, above {MAX_RECORD_TEXT_BYTES}");
        let mut text = String::with_capacity(len);
        text.push_str(first);
        let mut starts = [0u32; SPLITS];
        for (start, part) in starts.iter_mut().zip(rest) {
            *start = u32::try_from(text.len()).expect("at most MAX_RECORD_TEXT_BYTES, checked above");
            text.push_str(part);
        }
        // `with_capacity(len)` and exactly `len` bytes pushed: no reallocation here.
        PackedTexts { text: text.into_boxed_str(), starts, shared: shared.map(Shared::of) }
    }

    /// Own text `index` (`0..=SPLITS`).
    pub(crate) fn get(&self, index: usize) -> &str {
        let start = match index {
            0 => 0,
            _ => self.starts[index - 1] as usize,
        };
        let end = if index == SPLITS { self.text.len() } else { self.starts[index] as usize };
        &self.text[start..end]
    }

    /// Shared text `index` (`0..SHARED`).
    pub(crate) fn shared(&self, index: usize) -> &'static str {
        self.shared[index].as_str()
    }
}

/// A text many typed records hold the same (a bank account's CLABE, a GL account, a journal, a
/// partner's or counterparty's name), as its key in one interner for the process.
///
/// The generated 10 M night's lines hold 3 bank accounts, 3 GL accounts, 3 journals and 6,501
/// names: interned, these texts cost four bytes each (8 a statement line, 12 an Odoo line, in the
/// room the offsets of packed texts took) instead of 39 bytes a statement line and 47 an Odoo line
/// (about 1.2 GB of the night's peak). An interned text stays for the life of the process, so only
/// texts whose kinds repeat across lines by nature are interned (never ids, references,
/// descriptions or labels); what a process holds this way grows with the distinct accounts and
/// names it has read, not with its lines. A source where nearly every line names a new
/// counterparty would pay for each name about 50 bytes of interner entries on top of its text,
/// held until the process ends. Keys are compared for equality only (equal texts have equal keys):
/// never ordered, hashed or printed, so the order texts were first seen in, which depends on
/// threads, never shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shared(Spur);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text, not the key: a key's number depends on which thread saw the text first.
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The process's shared texts (FxHash: these are short texts from bounded files, see `rustc-hash`
/// in the workspace manifest).
static SHARED_TEXTS: LazyLock<ThreadedRodeo<Spur, BuildHasherDefault<FxHasher>>> =
    LazyLock::new(|| ThreadedRodeo::with_hasher(BuildHasherDefault::default()));

impl Shared {
    /// The key of `text`, interning it on first sight.
    ///
    /// # Panics
    /// If the process has interned 2^32 - 1 distinct texts (the keys are 32-bit); with the kinds of
    /// text interned (see above) a process would need billions of distinct names first.
    pub(crate) fn of(text: &str) -> Shared {
        Shared(SHARED_TEXTS.get_or_intern(text))
    }

    /// The text.
    pub(crate) fn as_str(self) -> &'static str {
        SHARED_TEXTS.resolve(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{PackedTexts, Shared};

    #[test]
    fn every_text_comes_back_as_given_empty_ones_and_multibyte_ones_included() {
        let parts = ["1001", "", "ÑANDÚ S.A. — pago", "", "x"];
        let shared = ["012180001183597101", "", "RICARDO LÓPEZ REYES"];
        let packed = PackedTexts::new(parts[0], [parts[1], parts[2], parts[3], parts[4]], shared);
        for (index, part) in parts.iter().enumerate() {
            assert_eq!(packed.get(index), *part, "text {index}");
        }
        for (index, part) in shared.iter().enumerate() {
            assert_eq!(packed.shared(index), *part, "shared text {index}");
        }
        let empty = PackedTexts::new("", ["", ""], []);
        assert_eq!([empty.get(0), empty.get(1), empty.get(2)], ["", "", ""]);
    }

    #[test]
    fn the_same_bytes_split_elsewhere_are_other_texts() {
        assert_ne!(PackedTexts::new("ab", ["c"], ["x"]), PackedTexts::new("a", ["bc"], ["x"]));
        assert_eq!(PackedTexts::new("a", ["bc"], ["x"]), PackedTexts::new("a", ["bc"], ["x"]));
        assert_ne!(PackedTexts::new("a", ["bc"], ["x"]), PackedTexts::new("a", ["bc"], ["y"]));
    }

    #[test]
    fn a_shared_text_has_one_key_whichever_thread_sees_it_first() {
        let texts: Vec<String> = (0..1_000).map(|n| format!("PARTNER {}", n % 250)).collect();
        let keys = |order: &[String]| -> Vec<(String, Shared)> {
            std::thread::scope(|scope| {
                let halves = order.chunks(order.len() / 2 + 1).map(|half| {
                    scope.spawn(move || half.iter().map(|text| (text.clone(), Shared::of(text))).collect::<Vec<_>>())
                });
                halves.collect::<Vec<_>>().into_iter().flat_map(|half| half.join().expect("no panic")).collect()
            })
        };
        let mut reversed = texts.clone();
        reversed.reverse();
        let all: Vec<(String, Shared)> = keys(&texts).into_iter().chain(keys(&reversed)).collect();
        for (text, key) in &all {
            assert_eq!(key.as_str(), text);
            for (other, other_key) in &all {
                assert_eq!(text == other, key == other_key, "{text:?} and {other:?}");
            }
        }
    }
}
