//! The store through Neon's faults: a compute waking from suspension, connections terminated
//! (`57P01`) or dropped (SQLSTATE class `08`), a server restarting. Opening the store, reading it and
//! writing a run are retried with backoff and a bound ([`RetryPolicy::default`]: 5 attempts, waits of
//! 0.2, 0.4, 0.8 and 1.6 s) when the error is transient ([`recon_postgres::retry::is_transient`] of
//! the driver's error); any other error is returned at once.
//!
//! A write is retried as a whole transaction: a transaction cut by a lost connection is rolled back
//! by the server, so the next attempt starts from the store as it was. The run id is fixed before
//! the first attempt and matches and cases are upserts keyed by stable ids, so a retry never writes
//! anything twice. One case needs care: the commit reached the server but its acknowledgement was
//! lost with the connection. The retry then finds its own run already recorded as succeeded
//! ([`StoreError::RunExists`]) and takes that as the success it is.

use recon_postgres::retry::{RetryPolicy, is_transient, with_retry_if};
use recon_store::{
    CaseWrite, MatchWrite, RowSource, RunLock, RunStatus, RunWrite, RunWriteSummary, Store, StoreError, TestHooks,
};

/// How a run's write ended.
#[derive(Debug)]
pub enum Written {
    /// Written by this attempt: what the store did.
    Now(RunWriteSummary),
    /// An earlier attempt committed but its acknowledgement was lost; a retry found the run
    /// recorded as succeeded. What the store did is not known, and nothing was written twice.
    ByEarlierAttempt,
}

/// Whether trying again may succeed.
pub fn is_transient_store_error(error: &StoreError) -> bool {
    error.driver_error().is_some_and(is_transient)
}

/// Opens the store (applying migrations), retrying transient failures, with `hooks` attached.
pub async fn open(url: &str, hooks: Option<TestHooks>) -> Result<Store, StoreError> {
    let policy = RetryPolicy::default();
    let (store, _attempts) =
        with_retry_if(&policy, "open the store", is_transient_store_error, async |_attempt| Store::open(url).await)
            .await
            .map_err(|gave_up| gave_up.error)?;
    Ok(match hooks {
        Some(hooks) => store.with_test_hooks(hooks),
        None => store,
    })
}

/// Runs a read of the store, retrying transient failures.
pub async fn read<T>(what: &str, mut operation: impl AsyncFnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let policy = RetryPolicy::default();
    with_retry_if(&policy, what, is_transient_store_error, async |_attempt| operation().await)
        .await
        .map(|(value, _attempts)| value)
        .map_err(|gave_up| gave_up.error)
}

/// Writes `run` in one transaction, retrying the whole transaction on transient failures. Before
/// each attempt the run lock is checked, and taken again if its connection was lost; a lock that
/// another run took meanwhile ends the write ([`StoreError::Locked`]).
pub async fn write_run<M: RowSource<MatchWrite>, C: RowSource<CaseWrite>>(
    store: &Store,
    lock: &mut RunLock,
    run: &RunWrite<M, C>,
) -> Result<Written, StoreError> {
    let policy = RetryPolicy::default();
    let run_id = run.header.run_id.as_str();
    let written = with_retry_if(&policy, "write the run", is_transient_store_error, async |attempt| {
        lock.ensure_held().await?;
        match store.write_run(run).await {
            Ok(summary) => Ok(Written::Now(summary)),
            Err(StoreError::RunExists { run_id: found, status })
                if attempt > 1 && found == run_id && status == RunStatus::Succeeded.as_str() =>
            {
                tracing::warn!(
                    attempt,
                    "the run is recorded already: an earlier attempt committed, its acknowledgement was lost"
                );
                Ok(Written::ByEarlierAttempt)
            }
            Err(error) => Err(error),
        }
    })
    .await;
    match written {
        Ok((written, attempts)) => {
            if attempts > 1 {
                tracing::info!(attempts, "run written after retrying the whole transaction");
            }
            Ok(written)
        }
        Err(gave_up) => {
            tracing::error!(attempts = gave_up.attempts, transient = gave_up.transient, "the write failed");
            Err(gave_up.error)
        }
    }
}
