//! The two migration directories describe the same schema.

use std::fs;
use std::path::Path;

fn read(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dir);
    let mut files: Vec<(String, String)> = fs::read_dir(&root)
        .expect("migrations directory")
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path.file_name().expect("file name").to_string_lossy().into_owned();
            (name, fs::read_to_string(&path).expect("migration text"))
        })
        .collect();
    files.sort();
    files
}

/// The PostgreSQL text spelled the SQLite way, comments dropped.
fn as_sqlite(postgres: &str) -> String {
    postgres
        .replace(" COLLATE \"C\"", "")
        .replace("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT")
        .replace("BIGINT", "INTEGER")
}

fn without_comments(sql: &str) -> String {
    sql.lines().filter(|line| !line.starts_with("--")).collect::<Vec<_>>().join("\n")
}

#[test]
fn sqlite_and_postgres_migrations_are_equivalent() {
    let sqlite = read("sqlite");
    let postgres = read("postgres");
    assert_eq!(
        sqlite.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        postgres.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        "same migration files on both sides"
    );
    for ((name, lite), (_, pg)) in sqlite.iter().zip(&postgres) {
        assert_eq!(
            without_comments(&as_sqlite(pg)),
            without_comments(lite),
            "{name}: the PostgreSQL schema differs from SQLite's by more than type spelling"
        );
    }
}
