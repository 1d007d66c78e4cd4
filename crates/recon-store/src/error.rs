//! The one error type of the store.

use std::path::PathBuf;

/// Everything that can go wrong in the store. Each variant says which operation failed
/// and, where there is one, which run or case it was about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL could not be understood.
    #[error("invalid store URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given, with any password removed.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// Connecting to the database failed.
    #[error("cannot open store {url:?}: {source}")]
    Connect {
        /// The URL as given, with any password removed.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the schema migrations failed.
    #[error("cannot migrate store {url:?}: {source}")]
    Migrate {
        /// The URL as given, with any password removed.
        url: String,
        /// The migrator's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed.
    #[error("store operation {operation} failed ({context}): {source}")]
    Database {
        /// What the store was doing, e.g. `write_run: insert matches`.
        operation: &'static str,
        /// Which run, case or filter it was about.
        context: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The run lock is held by someone else.
    #[error("the store is locked ({lock}): {holder}; wait for that run to finish")]
    Locked {
        /// What the lock is: the lock file path or the PostgreSQL advisory lock key.
        lock: String,
        /// Who or what holds it, as far as known.
        holder: String,
    },
    /// The store URL names a connection pooler's endpoint (Neon's `-pooler` host:
    /// PgBouncer in transaction mode), which cannot do what was asked: hold a session
    /// advisory lock, or apply migrations (sqlx's migrator takes one).
    #[error(
        "store host {host} is a pooled endpoint (PgBouncer in transaction mode), which cannot {needs}; \
         use the direct endpoint for this: the same URL with host {direct_host}"
    )]
    PooledEndpoint {
        /// The pooled host, e.g. `ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech`.
        host: String,
        /// What it cannot do, e.g. `hold the run lock (a session advisory lock)`.
        needs: &'static str,
        /// The direct endpoint's host: the pooled one without `-pooler`.
        direct_host: String,
    },
    /// The lock file could not be created, read or written.
    #[error("lock file {path}: {source}")]
    LockFile {
        /// The lock file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A run with this id has already been recorded.
    #[error("run {run_id} is already recorded (status {status})")]
    RunExists {
        /// The run id given by the caller.
        run_id: String,
        /// The status of the recorded run.
        status: String,
    },
    /// No case has this id.
    #[error("case {case_id} not found")]
    CaseNotFound {
        /// The case id asked for.
        case_id: String,
    },
    /// The case is not open, so it cannot be resolved or ignored.
    #[error("case {case_id} is already {status}; only open cases can be closed")]
    CaseNotOpen {
        /// The case id asked for.
        case_id: String,
        /// Its current status.
        status: String,
    },
    /// No manual proposal has this id.
    #[error("proposal {proposal_id} not found")]
    ProposalNotFound {
        /// The proposal id asked for.
        proposal_id: String,
    },
    /// The proposal is not in a status that allows the operation.
    #[error("proposal {proposal_id} is {status}; {expected}")]
    ProposalStatus {
        /// The proposal id.
        proposal_id: String,
        /// Its current status.
        status: String,
        /// What the operation needs.
        expected: String,
    },
    /// Four-eyes: the operator approving a proposal is the one who proposed it.
    #[error("proposal {proposal_id} was proposed by {operator}; four-eyes approval needs a different operator")]
    SelfApproval {
        /// The proposal id.
        proposal_id: String,
        /// The proposer (and would-be approver).
        operator: String,
    },
    /// The data handed to the store breaks one of its rules.
    #[error("invalid input to {operation} ({context}): {reason}")]
    InvalidInput {
        /// The store operation that refused the data.
        operation: &'static str,
        /// Which run, case, match or field it was about.
        context: String,
        /// What is wrong.
        reason: String,
    },
    /// A value could not be turned into JSON for storage, or stored JSON could not be read.
    #[error("JSON for {operation} ({context}): {source}")]
    Json {
        /// The store operation.
        operation: &'static str,
        /// Which run, case or column it was about.
        context: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A stored value is not one the store writes (e.g. an unknown status).
    #[error("unexpected value {value:?} in {table}.{column}")]
    Corrupt {
        /// The table read.
        table: &'static str,
        /// The column read.
        column: &'static str,
        /// The value found.
        value: String,
    },
}

impl StoreError {
    /// The database driver's error behind this one, if any: for a caller deciding
    /// whether to try again (a lost connection, a server starting up) or not.
    pub fn driver_error(&self) -> Option<&sqlx::Error> {
        match self {
            StoreError::Connect { source, .. } | StoreError::Database { source, .. } => Some(source),
            StoreError::Migrate {
                source:
                    sqlx::migrate::MigrateError::Execute(error) | sqlx::migrate::MigrateError::ExecuteMigration(error, _),
                ..
            } => Some(error),
            _ => None,
        }
    }

    /// Wraps a driver error with the operation and its context.
    pub(crate) fn db(operation: &'static str, context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Self {
        let context = context.into();
        move |source| StoreError::Database { operation, context, source }
    }

    /// An [`StoreError::InvalidInput`] for `operation`.
    pub(crate) fn invalid(operation: &'static str, context: impl Into<String>, reason: impl Into<String>) -> Self {
        StoreError::InvalidInput { operation, context: context.into(), reason: reason.into() }
    }
}
