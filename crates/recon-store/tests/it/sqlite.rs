//! The scenarios on SQLite files, plus what is specific to SQLite.

use std::path::PathBuf;

use recon_store::{Store, StoreError};
use tempfile::TempDir;

use crate::scenarios::{self, all_scenarios};

/// A fresh directory and the `sqlite://` URL of a database file in it (not yet created).
fn fresh() -> (TempDir, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("recon.sqlite").display());
    (dir, url)
}

macro_rules! sqlite_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_dir, url) = fresh();
                scenarios::$name(&url).await;
            }
        )*
    };
}

all_scenarios!(sqlite_tests);

#[tokio::test]
async fn plain_path_creates_the_file_in_wal_mode() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path: PathBuf = dir.path().join("nested.sqlite");
    let store = Store::open(path.to_str().expect("utf-8 path")).await.expect("open by path");
    assert!(path.exists(), "database file created");
    assert_eq!(store.backend_name(), "sqlite");
    let lock = store.try_lock("wal check").await.expect("lock");
    assert_eq!(lock.description(), format!("{}.lock", path.display()));
    drop(lock);
    store.close().await;
    let header = std::fs::read(&path).expect("database file");
    // Bytes 18 and 19 of the header are 2 in WAL mode.
    assert_eq!((header[18], header[19]), (2, 2), "journal mode is WAL");
}

#[tokio::test]
async fn in_memory_is_refused() {
    match Store::open("sqlite::memory:").await {
        Err(StoreError::InvalidUrl { reason, .. }) => assert!(reason.contains("in-memory")),
        other => panic!("in-memory SQLite must be refused, got {other:?}"),
    }
}
