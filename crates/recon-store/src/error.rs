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
