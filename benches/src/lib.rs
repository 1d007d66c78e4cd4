//! recon's benchmarks: the criterion bench of the matching core (`benches/matching.rs`), the generator's
//! CSV writer (`src/bin/recon-gen.rs`) and stage timings (`src/bin/match-timing.rs`). Typing and
//! configuration of generated data live in `recon_gen::Dataset`.

#![forbid(unsafe_code)]
