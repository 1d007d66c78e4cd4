//! The references of every prepared line, in one buffer.
//!
//! A line carries one or two references (1.6 a statement line and 1.1 an Odoo line in the generated
//! data, 15 bytes of canonical text on average). Held in the line as a `SmallVec` of two
//! [`Reference`]s they took 72 bytes of its 136, plus a heap block for each canonical text over 24
//! bytes (a quarter of them: SPEI claves de rastreo); in one buffer a reference takes its text plus
//! three bytes, and the line keeps where its references start and how many there are.

use crate::reference::{REFERENCES_PER_TEXT_MAX, Reference, ReferenceKind, Rule};

/// Bytes before each reference's canonical text: its kind, its rule and the text's length.
const HEADER: usize = 3;

/// Longest canonical text the arena holds, so its length fits in the header (and stays below 128,
/// see [`ReferenceArena`]). The parser's longest is a Conekta order id: `ord_` and at most 40
/// characters (`reference::conekta_order`), all ASCII.
const CANONICAL_MAX: usize = 127;

/// Most references of a line: those of its reference field and of its free text.
const REFERENCES_PER_LINE_MAX: usize = 2 * REFERENCES_PER_TEXT_MAX;

/// Where a line's references start in the arena and how many there are (a line has at most two
/// texts of [`crate::reference::REFERENCES_PER_TEXT_MAX`] references each).
#[derive(Clone, Copy, Debug)]
pub(super) struct ReferenceSpan {
    pub start: u64,
    pub count: u8,
}

/// Every line's references, one after another: for each a header of three bytes (the kind's index
/// in [`ReferenceKind::ALL`], the rule's in [`Rule::ALL`], the canonical text's length) and the
/// canonical text. The header bytes are below 128, so the buffer is valid UTF-8 as it is built
/// (ASCII bytes between whole texts) and a canonical text is read by slicing it, without checking
/// its bytes again.
#[derive(Debug, Default)]
pub(super) struct ReferenceArena {
    text: String,
}

impl ReferenceArena {
    /// Appends `references` and returns their span.
    pub fn push(&mut self, references: &[Reference]) -> ReferenceSpan {
        let start = self.text.len() as u64;
        for reference in references {
            let canonical = reference.canonical.as_str();
            let length = u8::try_from(canonical.len())
                .ok()
                .filter(|&length| usize::from(length) <= CANONICAL_MAX)
                .unwrap_or_else(|| panic!("a canonical reference has at most {CANONICAL_MAX} bytes: {canonical}"));
            let kind = u8::try_from(reference.kind.index()).expect("six kinds");
            let rule = u8::try_from(reference.rule.index()).expect("twelve rules");
            for byte in [kind, rule, length] {
                self.text.push(char::from(byte));
            }
            self.text.push_str(canonical);
        }
        let count = u8::try_from(references.len())
            .ok()
            .filter(|&count| usize::from(count) <= REFERENCES_PER_LINE_MAX)
            .unwrap_or_else(|| panic!("a line has at most {REFERENCES_PER_LINE_MAX} references"));
        ReferenceSpan { start, count }
    }

    /// Appends another arena's references; the spans it gave are now `offset` further on, where
    /// `offset` is this arena's length before (the returned value).
    pub fn append(&mut self, other: &ReferenceArena) -> u64 {
        let offset = self.text.len() as u64;
        self.text.push_str(&other.text);
        offset
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Reserves room for `additional` more bytes.
    pub fn reserve(&mut self, additional: usize) {
        self.text.reserve(additional);
    }

    /// The references of `span`, in the order pushed.
    pub fn get(&self, span: ReferenceSpan) -> References<'_> {
        let start = usize::try_from(span.start).expect("a span starts inside the arena");
        References { rest: &self.text[start..], left: span.count }
    }

    /// The references of `span` with where each starts in the arena (for [`ReferenceArena::at`]).
    pub fn get_positioned(&self, span: ReferenceSpan) -> impl Iterator<Item = (u64, ReferenceView<'_>)> + Clone {
        let total = self.text.len();
        let mut references = self.get(span);
        // `References::rest` is always a suffix of the arena's text: the next reference starts where it does.
        std::iter::from_fn(move || {
            let position = (total - references.rest.len()) as u64;
            references.next().map(|reference| (position, reference))
        })
    }

    /// The reference that starts at `position`, as [`ReferenceArena::get_positioned`] of this arena
    /// gave it (a position means nothing in another arena).
    pub fn at(&self, position: u64) -> ReferenceView<'_> {
        let start = usize::try_from(position).expect("a reference starts inside the arena");
        debug_assert!(start < self.text.len(), "position {start} past the arena's {} bytes", self.text.len());
        References { rest: &self.text[start..], left: 1 }.next().expect("one reference asked for")
    }
}

/// One reference as the arena holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ReferenceView<'a> {
    pub kind: ReferenceKind,
    pub rule: Rule,
    pub canonical: &'a str,
}

impl ReferenceView<'_> {
    pub fn to_reference(self) -> Reference {
        Reference { kind: self.kind, canonical: self.canonical.into(), rule: self.rule }
    }
}

/// The references of one line ([`ReferenceArena::get`]).
#[derive(Clone, Debug)]
pub(super) struct References<'a> {
    rest: &'a str,
    left: u8,
}

impl<'a> Iterator for References<'a> {
    type Item = ReferenceView<'a>;

    fn next(&mut self) -> Option<ReferenceView<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let bytes = self.rest.as_bytes();
        let (kind, rule, length) = (bytes[0], bytes[1], usize::from(bytes[2]));
        let canonical = &self.rest[HEADER..HEADER + length];
        self.rest = &self.rest[HEADER + length..];
        Some(ReferenceView {
            kind: ReferenceKind::ALL[usize::from(kind)],
            rule: Rule::ALL[usize::from(rule)],
            canonical,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::from(self.left), Some(usize::from(self.left)))
    }
}

impl ExactSizeIterator for References<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{TextSource, extract_references};

    #[test]
    fn kinds_and_rules_sit_at_their_own_index() {
        for (index, kind) in ReferenceKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), index, "{kind:?}");
        }
        for (index, rule) in Rule::ALL.into_iter().enumerate() {
            assert_eq!(rule.index(), index, "{rule:?}");
        }
    }

    #[test]
    fn references_come_back_as_pushed() {
        let texts = [
            "SPEI MBAN01002308280073291391 OXXO 9300-0262-2769-08",
            "",
            "Conekta 0598792 ord_2xayxSvfWzQ2TLz7r CLABE 002010077777777771",
            "OXXO 9300 0262 2769 08 RASTREO BBVA2026112400001 REF 123",
        ];
        let mut arena = ReferenceArena::default();
        let spans: Vec<(Vec<Reference>, ReferenceSpan)> = texts
            .iter()
            .map(|text| {
                let references = extract_references(text, TextSource::FreeText);
                let span = arena.push(&references);
                (references, span)
            })
            .collect();
        let mut other = ReferenceArena::default();
        let moved: Vec<ReferenceSpan> = spans.iter().map(|(references, _)| other.push(references)).collect();
        let offset = arena.append(&other);
        for ((references, span), moved) in spans.iter().zip(moved) {
            let moved = ReferenceSpan { start: moved.start + offset, ..moved };
            for span in [*span, moved] {
                let back: Vec<Reference> = arena.get(span).map(ReferenceView::to_reference).collect();
                assert_eq!(&back, references);
                assert_eq!(arena.get(span).len(), references.len());
                // Each reference is found again alone where the positioned walk says it starts.
                let positioned: Vec<(u64, ReferenceView<'_>)> = arena.get_positioned(span).collect();
                assert_eq!(
                    positioned.iter().map(|(_, view)| *view).collect::<Vec<_>>(),
                    arena.get(span).collect::<Vec<_>>()
                );
                for (position, view) in positioned {
                    assert_eq!(arena.at(position), view, "at {position}");
                }
            }
        }
        assert!(spans.iter().any(|(references, _)| references.len() >= 2), "the texts carry several references");
    }
}
