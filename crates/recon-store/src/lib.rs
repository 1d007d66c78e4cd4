//! The recon store: what each reconciliation run did (runs, KPI), the current matches,
//! the cases (exceptions) with their audit trail, and quarantined input rows.
//!
//! It lives in a SQLite file by default, or in PostgreSQL (`postgres://` URLs), with the
//! same schema (see `migrations/`). Everything is plain text and integers: money is a
//! decimal string plus a currency code, never a float. The store never reads the clock:
//! every instant is given by the caller.
//!
//! On PostgreSQL every statement is an unnamed prepared statement run inside a
//! transaction, and no session state is set, so reads work through a transaction-mode
//! pooler (Neon's `-pooler` endpoint); the run lock (a session advisory lock) and
//! migrations need the direct endpoint and refuse a pooled one
//! ([`StoreError::PooledEndpoint`]). A lock whose connection was lost is taken again by
//! [`RunLock::ensure_held`]; [`StoreError::driver_error`] lets a caller retry transient
//! failures, and [`TestHooks`] pause a write at a fixed point for fault-injection tests.
//!
//! ```no_run
//! # async fn demo(run: recon_store::RunWrite) -> Result<(), recon_store::StoreError> {
//! let store = recon_store::Store::open("recon.sqlite").await?;
//! let lock = store.try_lock("nightly 2025-01-31").await?;
//! let _summary = store.write_run(&run).await?;
//! lock.release().await?;
//! # Ok(()) }
//! ```

mod codec;
mod db;
mod error;
mod hooks;
mod lock;
mod manual;
mod model;
mod read;
mod resolve;
mod store;
mod write;

pub use error::StoreError;
pub use hooks::{TestHooks, test_pause};
pub use lock::RunLock;
pub use manual::{
    CaseTransition, CaseWithItems, ManualApply, ManualApplySummary, ManualProposal, ProposalApproval, ProposalFilter,
    ProposalRecord, ProposalStatus, ProposalWrite,
};
pub use model::{
    AppliedMigration, CaseClosure, CaseDetail, CaseEvent, CaseEventKind, CaseFilter, CaseItemRef, CaseRecord,
    CaseResolution, CaseStatus, CaseWrite, ItemRef, ItemSide, JsonText, KeyedRow, KpiRecord, KpiRow, MatchFilter,
    MatchRecord, MatchReview, MatchStatus, MatchWrite, QuarantineRow, RowSource, RunFilter, RunHeader, RunInput,
    RunKpi, RunMode, RunRecord, RunScope, RunStatus, RunWrite, RunWriteSummary,
};
pub use store::{DEFAULT_APPLICATION_NAME, Store, check_lock_endpoint, pg_connect_options, redact_url};
