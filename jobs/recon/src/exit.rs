//! Exit codes, and how an error finds its code.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done; KPI at or above the threshold |
//! | 1 | unexpected internal error |
//! | 2 | bad input, bad configuration or bad usage |
//! | 3 | done, but the KPI is below the threshold |
//! | 4 | store failure |
//! | 5 | another run holds the store's lock |
//! | 6 | refused by four-eyes control: approval by the proposer, or applying without the required approval |
//!
//! Errors are `anyhow` chains. A chain that holds a [`BadInput`] exits 2; one that holds a
//! [`recon_store::StoreError`] exits 5 for a held lock, 2 for a refusal caused by the caller (unknown
//! case, case not open, bad URL, a pooled endpoint where the direct one is needed) and 4 otherwise;
//! anything else is an internal error. A database input that cannot be read or does not match the
//! configuration is bad input, like an unreadable file. A stdout that cannot be written is an error
//! (exit 1) only before a command has committed anything (see `stdout`).

use std::fmt;
use std::process::ExitCode;

use recon_store::StoreError;

/// The job's outcome as an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, KPI at or above the threshold.
    Done,
    /// 1: unexpected internal error.
    Internal,
    /// 2: bad input, configuration or usage.
    BadInput,
    /// 3: done, KPI below the threshold.
    BelowThreshold,
    /// 4: the store failed.
    Store,
    /// 5: another run holds the store lock.
    Locked,
    /// 6: four-eyes control refused it (self-approval, or a decision set applied without approval).
    FourEyes,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Internal => 1,
            Exit::BadInput => 2,
            Exit::BelowThreshold => 3,
            Exit::Store => 4,
            Exit::Locked => 5,
            Exit::FourEyes => 6,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// Marks an error as the caller's: bad input, bad configuration or bad usage (exit 2).
#[derive(Debug)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// A bad-input error with this message.
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(BadInput(message.into()))
}

/// Marks an error as a four-eyes refusal (exit 6): a decision set approved by its proposer, or
/// applied without the approval the configuration requires.
#[derive(Debug)]
pub struct FourEyes(pub String);

impl fmt::Display for FourEyes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FourEyes {}

/// A four-eyes refusal with this message.
pub fn four_eyes_refusal(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(FourEyes(message.into()))
}

/// The exit code an error maps to.
pub fn classify(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if cause.is::<BadInput>() {
            return Exit::BadInput;
        }
        if cause.is::<FourEyes>() {
            return Exit::FourEyes;
        }
        if let Some(store) = cause.downcast_ref::<StoreError>() {
            return match store {
                StoreError::Locked { .. } => Exit::Locked,
                StoreError::SelfApproval { .. } => Exit::FourEyes,
                StoreError::ProposalNotFound { .. } | StoreError::ProposalStatus { .. } => Exit::BadInput,
                StoreError::CaseNotFound { .. }
                | StoreError::CaseNotOpen { .. }
                | StoreError::InvalidUrl { .. }
                | StoreError::PooledEndpoint { .. } => Exit::BadInput,
                _ => Exit::Store,
            };
        }
    }
    Exit::Internal
}
