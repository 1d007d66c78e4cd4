//! One run at a time per store.
//!
//! SQLite: an OS lock (`flock`) on `<db file>.lock`; the holder writes its pid and scope
//! into the file so that a refused caller can say who holds it. PostgreSQL: a session
//! advisory lock held by a dedicated connection (to the direct endpoint: a pooler in
//! transaction mode cannot hold a session lock, so a pooled endpoint is refused) whose
//! `application_name` names the holder. Either way the lock goes away with the process
//! that holds it.
//!
//! A PostgreSQL lock also goes away with its connection: when Neon suspends the compute,
//! or the server restarts, mid-run. [`RunLock::ensure_held`] finds that out and takes the
//! lock again (or reports who took it meanwhile); the run calls it before each write
//! attempt.

use std::ffi::OsString;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use crate::error::StoreError;
use crate::store::{Backend, Store};

/// The PostgreSQL advisory lock key of the run lock: FNV-1a of `recon-store:run`.
const PG_LOCK_KEY: i64 = fnv1a(b"recon-store:run");

const fn fnv1a(bytes: &[u8]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The run lock of a store, held until dropped (or [`RunLock::release`]d).
pub struct RunLock {
    inner: LockInner,
}

enum LockInner {
    File {
        path: PathBuf,
        file: File,
    },
    Postgres {
        /// The connection holding the lock; `None` after it was found dead and could not
        /// be replaced yet.
        connection: Option<PgConnection>,
        /// How to connect again.
        options: Box<PgConnectOptions>,
        /// What the lock is held for.
        scope: String,
    },
}

impl std::fmt::Debug for RunLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunLock").field("lock", &self.description()).finish()
    }
}

impl RunLock {
    /// What is locked: the lock file path, or the PostgreSQL advisory lock key.
    pub fn description(&self) -> String {
        Self::describe(&self.inner)
    }

    /// Releases the lock now (dropping it does the same, without waiting for PostgreSQL).
    ///
    /// A PostgreSQL lock whose connection is gone is released already (the server drops
    /// a session's advisory locks with the session), so a failure to unlock or to close
    /// is only logged.
    pub async fn release(self) -> Result<(), StoreError> {
        match self.inner {
            LockInner::File { path, file } => file.unlock().map_err(|source| StoreError::LockFile { path, source }),
            LockInner::Postgres { connection: None, .. } => Ok(()),
            LockInner::Postgres { connection: Some(mut connection), .. } => {
                let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(PG_LOCK_KEY)
                    .persistent(false)
                    .execute(&mut connection)
                    .await;
                if let Err(error) = unlocked {
                    tracing::debug!(%error, "unlocking failed; the lock goes with its connection");
                }
                if let Err(error) = connection.close().await {
                    tracing::debug!(%error, "closing the lock connection failed; the lock goes with it");
                }
                Ok(())
            }
        }
    }

    /// Makes sure the lock is still held, taking it again when its PostgreSQL connection
    /// was lost (a suspended compute, a restarted server). Fails with
    /// [`StoreError::Locked`] when someone else took it meanwhile, and with
    /// [`StoreError::Database`] when the server cannot be reached (worth retrying). A
    /// file lock cannot be lost.
    pub async fn ensure_held(&mut self) -> Result<(), StoreError> {
        let LockInner::Postgres { connection, options, scope } = &mut self.inner else {
            return Ok(());
        };
        if let Some(held) = connection.as_mut() {
            match still_held(held).await {
                Ok(true) => return Ok(()),
                Ok(false) => tracing::warn!("the run lock is no longer held by its connection; taking it again"),
                Err(error) => tracing::warn!(%error, "the run lock's connection is lost; taking the lock again"),
            }
        }
        // The old connection (dead or without the lock) is dropped before reconnecting.
        *connection = None;
        *connection = Some(connect_and_lock(options, scope).await?);
        tracing::warn!(scope = %scope, "run lock taken again");
        Ok(())
    }
}

/// `recon lock: <scope>`, cut to the 63 bytes PostgreSQL keeps of an application name (at a
/// character boundary), so that the server has nothing to truncate and nothing to warn about.
fn lock_application_name(scope: &str) -> String {
    const BYTES_MAX: usize = 63;
    let mut name = format!("recon lock: {scope}");
    if name.len() > BYTES_MAX {
        let cut = (0..=BYTES_MAX).rev().find(|&index| name.is_char_boundary(index)).unwrap_or(0);
        name.truncate(cut);
    }
    name
}

/// Whether the session of `connection` holds the run lock.
async fn still_held(connection: &mut PgConnection) -> Result<bool, sqlx::Error> {
    const SQL: &str = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
        AND pid = pg_backend_pid() AND objsubid = 1 AND classid::text::bigint = $1 AND objid::text::bigint = $2)";
    let (high, low) = key_halves();
    sqlx::query_scalar(SQL).bind(high).bind(low).persistent(false).fetch_one(connection).await
}

/// The two 32-bit halves of [`PG_LOCK_KEY`] as `pg_locks` shows them (`classid`, `objid`).
fn key_halves() -> (i64, i64) {
    ((PG_LOCK_KEY >> 32) & 0xffff_ffff, PG_LOCK_KEY & 0xffff_ffff)
}

impl Store {
    /// Takes the store's run lock: one run at a time per store. `scope` says what the
    /// lock is taken for (e.g. `nightly 2025-01-31 by scheduler`); it is recorded so that
    /// a refused caller can tell who holds the lock. Fails with [`StoreError::Locked`]
    /// when someone holds it.
    pub async fn try_lock(&self, scope: &str) -> Result<RunLock, StoreError> {
        let inner = match &self.backend {
            Backend::Sqlite { db_path, .. } => lock_file(db_path, scope)?,
            Backend::Postgres { pooled: Some(endpoint), .. } => {
                return Err(endpoint.refuse("hold the run lock (a session advisory lock)"));
            }
            Backend::Postgres { options, .. } => lock_postgres(options, scope).await?,
        };
        tracing::info!(lock = %RunLock::describe(&inner), scope, "run lock taken");
        Ok(RunLock { inner })
    }
}

impl RunLock {
    fn describe(inner: &LockInner) -> String {
        match inner {
            LockInner::File { path, .. } => path.display().to_string(),
            LockInner::Postgres { .. } => format!("pg_advisory_lock({PG_LOCK_KEY})"),
        }
    }
}

/// `<db file>.lock`.
fn lock_path(db_path: &Path) -> PathBuf {
    let mut name = OsString::from(db_path.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}

fn lock_file(db_path: &Path, scope: &str) -> Result<LockInner, StoreError> {
    let path = lock_path(db_path);
    let io_error = |source| StoreError::LockFile { path: path.clone(), source };
    let mut file =
        OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io_error)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(StoreError::Locked { lock: path.display().to_string(), holder: read_holder(&mut file) });
        }
        Err(TryLockError::Error(source)) => return Err(io_error(source)),
    }
    let holder = format!("held by pid {} for {scope}", std::process::id());
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(holder.as_bytes()))
        .and_then(|()| file.flush())
        .map_err(io_error)?;
    Ok(LockInner::File { path, file })
}

fn read_holder(file: &mut File) -> String {
    let mut holder = String::new();
    match file.read_to_string(&mut holder) {
        Ok(_) if !holder.trim().is_empty() => holder.trim().to_owned(),
        _ => "held by another process (holder unknown)".to_owned(),
    }
}

async fn lock_postgres(options: &PgConnectOptions, scope: &str) -> Result<LockInner, StoreError> {
    let connection = connect_and_lock(options, scope).await?;
    Ok(LockInner::Postgres {
        connection: Some(connection),
        options: Box::new(options.clone()),
        scope: scope.to_owned(),
    })
}

/// A new connection holding the advisory lock, or [`StoreError::Locked`] naming the holder.
async fn connect_and_lock(options: &PgConnectOptions, scope: &str) -> Result<PgConnection, StoreError> {
    let key = PG_LOCK_KEY.to_string();
    let application_name = lock_application_name(scope);
    let mut connection = PgConnection::connect_with(&options.clone().application_name(&application_name))
        .await
        .map_err(StoreError::db("try_lock: connect", key.clone()))?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(PG_LOCK_KEY)
        .persistent(false)
        .fetch_one(&mut connection)
        .await
        .map_err(StoreError::db("try_lock", key.clone()))?;
    if locked {
        return Ok(connection);
    }
    let holder = pg_holder(&mut connection).await;
    // Closing is best effort: the refusal is what matters.
    if let Err(error) = connection.close().await {
        tracing::debug!(%error, "closing the refused lock connection failed");
    }
    Err(StoreError::Locked { lock: format!("pg_advisory_lock({key})"), holder })
}

/// Who holds the advisory lock, from `pg_locks` and `pg_stat_activity`.
async fn pg_holder(connection: &mut PgConnection) -> String {
    const SQL: &str = "SELECT 'held by backend pid ' || a.pid::text \
            || ' (' || COALESCE(NULLIF(a.application_name, ''), 'no application name') || ')' \
            || ' since ' || COALESCE(a.backend_start::text, '?') \
            || ' from ' || COALESCE(a.client_addr::text, 'local socket') \
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
          AND l.classid::text::bigint = $1 AND l.objid::text::bigint = $2";
    let (high, low) = key_halves();
    let found: Result<Option<String>, sqlx::Error> =
        sqlx::query_scalar(SQL).bind(high).bind(low).persistent(false).fetch_optional(connection).await;
    match found {
        Ok(Some(holder)) => holder,
        Ok(None) => "held by another session (holder not visible)".to_owned(),
        Err(error) => format!("held by another session (holder lookup failed: {error})"),
    }
}

#[cfg(test)]
mod tests {
    use super::lock_application_name;

    #[test]
    fn lock_application_names_fit_postgresql() {
        assert_eq!(lock_application_name("nightly"), "recon lock: nightly");
        let long =
            lock_application_name("nightly run R-20261123T081813Z-33a4b170 for 2026-10-01 .. 2026-10-31 by ñandú");
        assert_eq!(long, "recon lock: nightly run R-20261123T081813Z-33a4b170 for 2026-10");
        assert!(lock_application_name(&"ñ".repeat(40)).len() <= 63);
    }
}
