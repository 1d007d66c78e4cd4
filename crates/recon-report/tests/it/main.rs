//! Integration tests of recon-report: the fixture report under `testdata/report/` against its
//! expected HTML, properties of the page (escaping, threshold markers, no external assets), bad
//! records, and a look at the page through headless Chromium.

// Tests fail loudly on unexpected input: unwrap is the right tool here.
#![allow(clippy::unwrap_used)]

mod fixture;
mod records;
mod render;
mod screenshot;
