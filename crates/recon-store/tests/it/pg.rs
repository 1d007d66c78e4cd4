//! The scenarios on PostgreSQL, and the harness that provides a server.
//!
//! The harness ([`PgServer`]) is self-contained so that it can move to a shared
//! test-support crate: it uses `DATABASE_URL` when set (a role allowed to create
//! databases), else starts a throwaway cluster with `initdb` and `pg_ctl` (from
//! `PG_BIN_DIR`, default `/usr/lib/postgresql/15/bin`) in a temporary directory on a free
//! port, as the `postgres` system user when running as root, and stops it when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tempfile::TempDir;

use crate::scenarios::{self, all_scenarios};

const DEFAULT_PG_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
const INSTALL_HINT: &str = "set DATABASE_URL to a PostgreSQL server (role with CREATEDB), \
     or install the PostgreSQL 15 server binaries (Debian: `apt-get install postgresql-15`) \
     or point PG_BIN_DIR at a directory holding initdb and pg_ctl";

/// A PostgreSQL server for tests.
pub struct PgServer {
    admin_url: String,
    databases: Mutex<Vec<String>>,
    // Dropped last: stops the cluster, then removes its directory.
    _cluster: Option<Cluster>,
}

impl PgServer {
    /// `DATABASE_URL` if set, else a throwaway cluster. Panics with what to install when
    /// neither is possible.
    pub fn start() -> PgServer {
        match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                PgServer { admin_url: url, databases: Mutex::new(Vec::new()), _cluster: None }
            }
            _ => {
                let cluster = Cluster::start();
                PgServer {
                    admin_url: cluster.url("postgres"),
                    databases: Mutex::new(Vec::new()),
                    _cluster: Some(cluster),
                }
            }
        }
    }

    /// Creates (or re-creates) an empty database named `recon_it_<name>`; returns its URL.
    pub async fn fresh_database(&self, name: &str) -> String {
        let database = format!("recon_it_{name}");
        assert!(
            database.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "database name {database:?} must be a plain identifier"
        );
        let mut admin = self.admin().await;
        for sql in [format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"), format!("CREATE DATABASE {database}")] {
            sqlx::query(AssertSqlSafe(sql.clone())).execute(&mut admin).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        admin.close().await.expect("close admin connection");
        self.databases.lock().expect("database list").push(database.clone());
        with_database(&self.admin_url, &database)
    }

    /// Drops the databases made by [`PgServer::fresh_database`].
    pub async fn drop_databases(&self) {
        let databases = std::mem::take(&mut *self.databases.lock().expect("database list"));
        let mut admin = self.admin().await;
        for database in databases {
            let sql = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            sqlx::query(AssertSqlSafe(sql.clone())).execute(&mut admin).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    async fn admin(&self) -> PgConnection {
        PgConnection::connect(&self.admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}; {INSTALL_HINT}"))
    }
}

/// `url` with its database name replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A cluster in a temporary directory, stopped when dropped.
struct Cluster {
    dir: TempDir,
    bin: PathBuf,
    as_postgres_user: bool,
    port: u16,
}

impl Cluster {
    fn start() -> Cluster {
        let bin = std::env::var_os("PG_BIN_DIR").map_or_else(|| PathBuf::from(DEFAULT_PG_BIN_DIR), PathBuf::from);
        assert!(
            bin.join("initdb").exists() && bin.join("pg_ctl").exists(),
            "no initdb/pg_ctl in {}: {INSTALL_HINT}",
            bin.display()
        );
        let dir = tempfile::Builder::new().prefix("recon-pg-").tempdir().expect("temporary directory for the cluster");
        let as_postgres_user = running_as_root();
        if as_postgres_user {
            run(Command::new("chown").arg("postgres:postgres").arg(dir.path()), "chown", None);
        }
        let port = free_port();
        let cluster = Cluster { dir, bin, as_postgres_user, port };
        cluster.init_and_start();
        cluster
    }

    fn init_and_start(&self) {
        let data = self.data_dir();
        let mut initdb = self.command("initdb");
        initdb.arg("-D").arg(&data).args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
        run(&mut initdb, "initdb", None);
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let mut start = self.command("pg_ctl");
        start.arg("-D").arg(&data).arg("-l").arg(&log).args(["-w", "-t", "60", "-o", &options, "start"]);
        run(&mut start, "pg_ctl start", Some(&log));
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `program` from the cluster's bin directory, as the `postgres` user when root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let status =
            self.command("pg_ctl").arg("-D").arg(self.data_dir()).args(["-m", "immediate", "-w", "stop"]).output();
        if let Err(error) = status {
            eprintln!("stopping the test cluster failed: {error}");
        }
    }
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Runs `command`; on failure panics with its output and, if given, the server log.
fn run(command: &mut Command, what: &str, log: Option<&Path>) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: cannot run ({e}); {INSTALL_HINT}"));
    let log_text = log.and_then(|path| std::fs::read_to_string(path).ok()).unwrap_or_default();
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}\n{log_text}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

macro_rules! pg_scenarios {
    ($($name:ident),* $(,)?) => {
        /// Every scenario, each in a fresh database of one server.
        #[test]
        fn postgres_runs_every_scenario() {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            let server = PgServer::start();
            $(
                eprintln!("postgres scenario: {}", stringify!($name));
                let url = runtime.block_on(server.fresh_database(stringify!($name)));
                runtime.block_on(scenarios::$name(&url));
            )*
            runtime.block_on(server.drop_databases());
        }
    };
}

all_scenarios!(pg_scenarios);

#[test]
fn database_is_replaced_in_urls() {
    assert_eq!(with_database("postgres://u:p@h:5432/app", "x"), "postgres://u:p@h:5432/x");
    assert_eq!(with_database("postgres://h/app?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}
