//! A PostgreSQL server for recon's integration tests.
//!
//! [`PgServer::start`] uses the server named by `DATABASE_URL` when it is set (a role
//! allowed to create databases), else starts a throwaway cluster: `initdb` and `pg_ctl`
//! from `PG_BIN_DIR` (default `/usr/lib/postgresql/15/bin`), in a temporary directory,
//! on a free port of 127.0.0.1, as the `postgres` system user when running as root. The
//! cluster is stopped and its directory removed when the [`PgServer`] is dropped. When
//! neither is possible it panics with what to install.
//!
//! ```no_run
//! # async fn example() {
//! let server = recon_testpg::PgServer::start();
//! let url = server.fresh_database("my_feature").await;
//! // ... connect to `url`, run the test ...
//! server.drop_databases().await;
//! # }
//! ```
//!
//! Tests that disturb the server — [`PgServer::stop`], [`PgServer::start_again`],
//! [`PgServer::terminate_backends`] — should use a server of their own
//! ([`PgServer::start_cluster`]) so that tests running in parallel are not disturbed.
//!
//! This crate is for tests: it panics (with the command, its output and the server log)
//! instead of returning errors.

#![forbid(unsafe_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection};
use tempfile::TempDir;

const DEFAULT_PG_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

/// What to do when no server can be had.
pub const INSTALL_HINT: &str = "set DATABASE_URL to a PostgreSQL server (role with CREATEDB), \
     or install the PostgreSQL 15 server binaries (Debian: `apt-get install postgresql-15`) \
     or point PG_BIN_DIR at a directory holding initdb and pg_ctl";

/// The `application_name` of the harness's own administrative connections, so that
/// [`PgServer::terminate_backends`] never confuses them with the connections under test.
const ADMIN_APPLICATION_NAME: &str = "recon-testpg";

/// How a throwaway cluster is set up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClusterOptions {
    /// Serve TLS (`ssl = on`) with a server certificate for `localhost` and `127.0.0.1`,
    /// signed by a test certificate authority whose certificate
    /// [`PgServer::tls_root_cert`] returns. Needs the `openssl` command.
    pub tls: bool,
}

/// A PostgreSQL server for tests: `DATABASE_URL`, or a throwaway cluster of its own.
pub struct PgServer {
    admin_url: String,
    databases: Mutex<Vec<String>>,
    // Dropped last: stops the cluster, then removes its directory.
    cluster: Option<Cluster>,
}

impl PgServer {
    /// The server of `DATABASE_URL` if set, else a throwaway cluster (without TLS).
    /// Panics with what to install when neither is possible.
    pub fn start() -> PgServer {
        match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                PgServer { admin_url: url, databases: Mutex::new(Vec::new()), cluster: None }
            }
            _ => Self::start_cluster(ClusterOptions::default()),
        }
    }

    /// A throwaway cluster of its own, whatever `DATABASE_URL` says: for tests that stop,
    /// restart or otherwise disturb the server. Panics with what to install when `initdb`
    /// and `pg_ctl` are missing.
    pub fn start_cluster(options: ClusterOptions) -> PgServer {
        let cluster = Cluster::start(options);
        PgServer { admin_url: cluster.url("postgres"), databases: Mutex::new(Vec::new()), cluster: Some(cluster) }
    }

    /// The URL of the server's `postgres` database, for a role allowed to create
    /// databases and terminate backends.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The URL of `database` on this server (whether or not it exists).
    pub fn database_url(&self, database: &str) -> String {
        with_database(&self.admin_url, database)
    }

    /// The test certificate authority's certificate (PEM), for `sslrootcert`, when the
    /// server is a cluster started with [`ClusterOptions::tls`].
    pub fn tls_root_cert(&self) -> Option<PathBuf> {
        let cluster = self.cluster.as_ref()?;
        cluster.options.tls.then(|| cluster.dir.path().join("ca.crt"))
    }

    /// The server's TCP port.
    pub fn port(&self) -> u16 {
        let options: PgConnectOptions = self.admin_url.parse().expect("the admin URL parses");
        options.get_port()
    }

    /// Creates (or re-creates) an empty database named `recon_it_<name>`; returns its URL.
    /// `name` must be a plain identifier (ASCII letters, digits, `_`).
    pub async fn fresh_database(&self, name: &str) -> String {
        let database = format!("recon_it_{name}");
        assert!(
            database.len() <= 63 && database.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "database name {database:?} must be a plain identifier of at most 63 bytes"
        );
        let mut admin = self.admin().await;
        for sql in [format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"), format!("CREATE DATABASE {database}")] {
            sqlx::query(AssertSqlSafe(sql.clone())).execute(&mut admin).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        admin.close().await.expect("close the admin connection");
        self.databases.lock().expect("database list").push(database.clone());
        self.database_url(&database)
    }

    /// Drops the databases made by [`PgServer::fresh_database`].
    pub async fn drop_databases(&self) {
        let databases = std::mem::take(&mut *self.databases.lock().expect("database list"));
        let mut admin = self.admin().await;
        for database in databases {
            let sql = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            sqlx::query(AssertSqlSafe(sql.clone())).execute(&mut admin).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        admin.close().await.expect("close the admin connection");
    }

    /// Terminates (`pg_terminate_backend`) every connection whose `application_name` is
    /// `application_name`, waiting up to 5 s for each to be gone; returns how many were
    /// terminated.
    pub async fn terminate_backends(&self, application_name: &str) -> u64 {
        assert_ne!(application_name, ADMIN_APPLICATION_NAME, "the harness's own connections are not for terminating");
        const SQL: &str = "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) \
                           FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()";
        let mut admin = self.admin().await;
        let terminated: i64 = sqlx::query_scalar(SQL)
            .bind(application_name)
            .fetch_one(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("terminating backends of {application_name:?}: {e}"));
        admin.close().await.expect("close the admin connection");
        u64::try_from(terminated).expect("a count is never negative")
    }

    /// Stops the server (`pg_ctl stop -m fast`: open connections are closed). Panics when
    /// the server is not a cluster of this harness (`DATABASE_URL`).
    pub fn stop(&self) {
        self.own_cluster("stop").stop();
    }

    /// Starts the server again after [`PgServer::stop`], on the same port with the same
    /// data. Panics when the server is not a cluster of this harness.
    pub fn start_again(&self) {
        self.own_cluster("start again").start_server();
    }

    fn own_cluster(&self, what: &str) -> &Cluster {
        self.cluster.as_ref().unwrap_or_else(|| {
            panic!("cannot {what} the server of DATABASE_URL; use PgServer::start_cluster for such a test")
        })
    }

    async fn admin(&self) -> PgConnection {
        let options: PgConnectOptions = self
            .admin_url
            .parse()
            .unwrap_or_else(|e| panic!("the test server URL does not parse: {e}; {INSTALL_HINT}"));
        options
            .application_name(ADMIN_APPLICATION_NAME)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}; {INSTALL_HINT}"))
    }
}

/// Runs the SQL files at `paths`, in order, on the database at `url` (each file as
/// one simple-query batch: several statements, no parameters). Panics naming the
/// file on failure.
pub async fn run_sql_files(url: &str, paths: &[&Path]) {
    let options: PgConnectOptions = url.parse().unwrap_or_else(|e| panic!("{url}: {e}"));
    let mut connection = options
        .application_name(ADMIN_APPLICATION_NAME)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}; {INSTALL_HINT}"));
    for path in paths {
        let sql = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    connection.close().await.expect("close the connection");
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
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
    options: ClusterOptions,
    running: AtomicBool,
}

impl Cluster {
    fn start(options: ClusterOptions) -> Cluster {
        let bin = std::env::var_os("PG_BIN_DIR").map_or_else(|| PathBuf::from(DEFAULT_PG_BIN_DIR), PathBuf::from);
        assert!(
            bin.join("initdb").exists() && bin.join("pg_ctl").exists(),
            "no initdb/pg_ctl in {}: {INSTALL_HINT}",
            bin.display()
        );
        let dir = tempfile::Builder::new().prefix("recon-pg-").tempdir().expect("temporary directory for the cluster");
        if options.tls {
            make_certificates(dir.path());
        }
        let as_postgres_user = running_as_root();
        if as_postgres_user {
            // The server refuses a key file that its own user does not own.
            run(Command::new("chown").arg("-R").arg("postgres:postgres").arg(dir.path()), "chown", None);
        }
        let cluster =
            Cluster { dir, bin, as_postgres_user, port: free_port(), options, running: AtomicBool::new(false) };
        cluster.init();
        cluster.start_server();
        cluster
    }

    fn init(&self) {
        let mut initdb = self.command("initdb");
        initdb.arg("-D").arg(self.data_dir()).args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
        run(&mut initdb, "initdb", None);
    }

    fn start_server(&self) {
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        if self.options.tls {
            let dir = self.dir.path().display();
            options.push_str(&format!(" -c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key"));
        }
        let log = self.log_file();
        let mut start = self.command("pg_ctl");
        start.arg("-D").arg(self.data_dir()).arg("-l").arg(&log).args(["-w", "-t", "60", "-o", &options, "start"]);
        run(&mut start, "pg_ctl start", Some(&log));
        self.running.store(true, Ordering::SeqCst);
    }

    fn stop(&self) {
        let mut stop = self.command("pg_ctl");
        stop.arg("-D").arg(self.data_dir()).args(["-m", "fast", "-w", "-t", "60", "stop"]);
        run(&mut stop, "pg_ctl stop", Some(&self.log_file()));
        self.running.store(false, Ordering::SeqCst);
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.log")
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
        if !self.running.load(Ordering::SeqCst) {
            return;
        }
        let status =
            self.command("pg_ctl").arg("-D").arg(self.data_dir()).args(["-m", "immediate", "-w", "stop"]).output();
        if let Err(error) = status {
            eprintln!("stopping the test cluster failed: {error}");
        }
    }
}

/// Writes `ca.crt` (a test certificate authority) and `server.crt`/`server.key` (for
/// `localhost` and `127.0.0.1`, signed by it) into `dir`, with the `openssl` command.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str], what: &str| {
        let mut command = Command::new("openssl");
        command.current_dir(dir).args(args);
        let output = command.output().unwrap_or_else(|e| {
            panic!("{what}: cannot run openssl ({e}); a TLS test cluster needs it (Debian: `apt-get install openssl`)")
        });
        assert!(output.status.success(), "{what} failed: {}", String::from_utf8_lossy(&output.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let ca: Vec<&str> = ["req", "-x509"]
        .into_iter()
        .chain(ec)
        .chain(["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=recon test CA"])
        .collect();
    openssl(&ca, "make the test CA");
    let request: Vec<&str> = ["req"]
        .into_iter()
        .chain(ec)
        .chain(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        .collect();
    openssl(&request, "make the server key");
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write the certificate extensions");
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
        "sign the server certificate",
    );
    set_private(&dir.join("server.key"));
}

#[cfg(unix)]
fn set_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600 the server key");
}

#[cfg(not(unix))]
fn set_private(_path: &Path) {}

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
    if output.status.success() {
        return;
    }
    let log_text = log.and_then(|path| std::fs::read_to_string(path).ok()).unwrap_or_default();
    panic!(
        "{what} failed ({}):\n{}\n{}\n{log_text}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(with_database("postgres://u:p@h:5432/app", "x"), "postgres://u:p@h:5432/x");
        assert_eq!(with_database("postgres://h/app?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
