//! End-to-end tests of the `recon` binary: the real executable, real SQLite files in temporary
//! directories, the demo data under `testdata/demo/`.
#![allow(clippy::unwrap_used)]

mod cases;
mod config;
mod explain;
mod inputs;
mod kpi;
mod manual;
mod postgres;
mod report;
mod run;
mod support;
