//! Integration tests of recon-postgres against a real PostgreSQL server (`DATABASE_URL`, or a
//! throwaway cluster from recon-testpg). Tests that disturb their server (terminate its
//! backends, stop it, serve TLS) start a cluster of their own.
#![allow(clippy::unwrap_used)]

mod faults;
mod neon;
mod odoo;
mod tls;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use recon_postgres::retry::RetryPolicy;

/// `testdata/postgres/<relative>` of the workspace.
fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/postgres").join(relative)
}

/// Runs `future` on a fresh two-thread runtime.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(future)
}

/// Retries that give up quickly: the tests count attempts, never time.
fn quick_retries(attempts_max: u32) -> RetryPolicy {
    RetryPolicy { attempts_max, delay_initial: Duration::from_millis(5), delay_max: Duration::from_millis(20) }
}

/// Whether expected-output files are to be rewritten instead of compared.
fn update_expect() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some()
}
