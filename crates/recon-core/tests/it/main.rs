//! Integration tests of recon-core: data-driven cases under `testdata/core/` and `testdata/clabe/`,
//! plus property tests.

// Tests fail loudly on unexpected input: unwrap is the right tool here.
#![allow(clippy::unwrap_used)]

mod data;
mod matching;
mod normalize;
mod properties;
mod scenarios;
