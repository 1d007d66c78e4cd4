//! The texts of one typed record in one heap block.
//!
//! A night holds its typed lines whole while it matches them (10 M statement lines and 13 M Odoo
//! lines at the top of the range). Held as separate `Text`s, a statement line's six texts cost 144
//! bytes of struct plus a heap block for each longer than 24 bytes (its description nearly always,
//! its counterparty name and reference often; an Odoo line's external id always): about 280 bytes a
//! statement line and 320 an Odoo line in the generated data. Held here, the texts are one exact-size
//! block beside 16 bytes of pointer and four bytes of offset per text after the first.

/// `SPLITS + 1` texts, concatenated, with the byte offsets where texts `1..=SPLITS` start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PackedTexts<const SPLITS: usize> {
    text: Box<str>,
    starts: [u32; SPLITS],
}

/// Bytes one record's texts may total: the offsets are `u32`. Far above any line a source writes
/// (typing refuses a longer one with its field; see `records`).
pub(crate) const MAX_RECORD_TEXT_BYTES: usize = u32::MAX as usize;

impl<const SPLITS: usize> PackedTexts<SPLITS> {
    /// Packs `first` and `rest`: `SPLITS + 1` texts, a count the types hold.
    ///
    /// # Panics
    /// If the texts total more than [`MAX_RECORD_TEXT_BYTES`].
    pub(crate) fn new(first: &str, rest: [&str; SPLITS]) -> Self {
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
        PackedTexts { text: text.into_boxed_str(), starts }
    }

    /// Text `index` (`0..=SPLITS`).
    pub(crate) fn get(&self, index: usize) -> &str {
        let start = match index {
            0 => 0,
            _ => self.starts[index - 1] as usize,
        };
        let end = if index == SPLITS { self.text.len() } else { self.starts[index] as usize };
        &self.text[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::PackedTexts;

    #[test]
    fn every_text_comes_back_as_given_empty_ones_and_multibyte_ones_included() {
        let parts = ["1001", "", "ÑANDÚ S.A. — pago", "", "x"];
        let packed = PackedTexts::new(parts[0], [parts[1], parts[2], parts[3], parts[4]]);
        for (index, part) in parts.iter().enumerate() {
            assert_eq!(packed.get(index), *part, "text {index}");
        }
        let empty = PackedTexts::new("", ["", ""]);
        assert_eq!([empty.get(0), empty.get(1), empty.get(2)], ["", "", ""]);
    }

    #[test]
    fn the_same_bytes_split_elsewhere_are_other_texts() {
        assert_ne!(PackedTexts::new("ab", ["c"]), PackedTexts::new("a", ["bc"]));
        assert_eq!(PackedTexts::new("a", ["bc"]), PackedTexts::new("a", ["bc"]));
    }
}
