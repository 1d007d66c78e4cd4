//! `recon run` with PostgreSQL everywhere: NEON read from its table, Odoo read from its own tables,
//! the store in PostgreSQL; and Neon's faults in the middle of a run — connections terminated with
//! `pg_terminate_backend` (as a suspending compute does), the server stopped and started again, the
//! process killed, a commit whose acknowledgement is lost. The run either completes correctly or
//! fails cleanly, and the store holds exactly one copy of everything.
//!
//! The timing is fixed by test hooks, not by sleeps: the run pauses at a known point (before the
//! write, or inside the write transaction after the run row), logs that it does, and waits for a
//! resume file that the test creates once it has done its part.
//!
//! Servers come from recon-testpg. Tests that disturb their server start a cluster of their own, so
//! that terminating "recon" connections never touches another test.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use recon_testpg::{ClusterOptions, PgServer, run_sql_files};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, Row};

use crate::support::{FROM, Ran, TO, Workspace, demo, recon, run};

/// The store's tables, counted after each run.
const STORE_TABLES: [&str; 8] =
    ["runs", "run_kpi", "matches", "match_items", "cases", "case_items", "case_events", "quarantine"];

/// The application name of recon's connections (store pool and sources).
const RECON_APPLICATION: &str = "recon";

/// Runs `future` on a fresh two-thread runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(future)
}

/// `testdata/<relative>` of the workspace.
fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(relative)
}

async fn connect(url: &str) -> PgConnection {
    let options: PgConnectOptions = url.parse().unwrap();
    options.application_name("recon-it").connect().await.unwrap()
}

/// A fresh database holding the NEON table (`testdata/postgres/neon/schema.sql`) loaded from
/// `csv` with `COPY ... FROM` (the inverse of NEON's `COPY ... TO STDOUT WITH CSV HEADER`).
async fn neon_database(server: &PgServer, name: &str, csv: &Path) -> String {
    let url = server.fresh_database(name).await;
    run_sql_files(&url, &[&testdata("postgres/neon/schema.sql")]).await;
    let mut connection = connect(&url).await;
    let mut copy =
        connection.copy_in_raw("COPY bank_statement_lines FROM STDIN WITH (FORMAT csv, HEADER true)").await.unwrap();
    copy.send(std::fs::read(csv).unwrap()).await.unwrap();
    copy.finish().await.unwrap();
    connection.close().await.unwrap();
    url
}

/// The NEON table as its CSV export has it (`COPY bank_statement_lines TO STDOUT WITH CSV HEADER`:
/// every column as PostgreSQL prints it, NULL as an empty field), in id order.
async fn neon_export(url: &str) -> Vec<u8> {
    // NEON's columns, in its order, as the generator writes them.
    const COLUMNS: [&str; 10] = recon_gen::StatementRow::COLUMNS;
    let select: Vec<String> = COLUMNS.iter().map(|column| format!("{column}::text")).collect();
    let sql = format!("SELECT {} FROM bank_statement_lines ORDER BY id", select.join(", "));
    let mut connection = connect(url).await;
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut connection).await.unwrap();
    connection.close().await.unwrap();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS).unwrap();
    for row in &rows {
        let fields: Vec<String> =
            (0..COLUMNS.len()).map(|index| row.get::<Option<String>, _>(index).unwrap_or_default()).collect();
        writer.write_record(&fields).unwrap();
    }
    writer.into_inner().unwrap()
}

/// Row counts of the store's tables.
async fn store_counts(url: &str) -> BTreeMap<&'static str, i64> {
    let mut connection = connect(url).await;
    let mut counts = BTreeMap::new();
    for table in STORE_TABLES {
        let sql = format!("SELECT count(*) FROM {table}");
        let count: i64 = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut connection).await.unwrap();
        counts.insert(table, count);
    }
    connection.close().await.unwrap();
    counts
}

/// Waits (at most 30 s) until no connection of recon is left on the server: a killed run's lock
/// goes away when the server notices its connection is gone.
async fn wait_until_recon_is_gone(server: &PgServer) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut connection = connect(server.admin_url()).await;
    loop {
        const SQL: &str = "SELECT count(*) FROM pg_stat_activity \
                           WHERE application_name = 'recon' OR application_name LIKE 'recon lock:%'";
        let left: i64 = sqlx::query_scalar(SQL).fetch_one(&mut connection).await.unwrap();
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} recon connection(s) still open after 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    connection.close().await.unwrap();
}

/// `recon --store STORE run` over the demo range with the demo configuration.
fn run_command(store: &str, statements: &str, moves: &Path) -> Command {
    let mut command = recon();
    command.arg("--store").arg(store).args(["run", "--from", FROM, "--to", TO, "--config"]).arg(demo("recon.toml"));
    command.arg("--statements").arg(statements).arg("--moves").arg(moves);
    command
}

/// `recon --store STORE export WHAT` as CSV text.
fn export(store: &str, what: &str, dir: &Path) -> String {
    let out = dir.join(format!("{what}-{}.csv", std::process::id()));
    let mut command = recon();
    command.arg("--store").arg(store).args(["export", what, "--format", "csv", "--out"]).arg(&out);
    run(&mut command).expect_code(0);
    let text = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_file(out).unwrap();
    text
}

/// The matches and cases of the demo run over CSV files into SQLite: what every PostgreSQL run of
/// the same data must store.
fn csv_sqlite_demo() -> (String, String) {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    (workspace.export("matches"), workspace.export("cases"))
}

/// A running `recon` whose stderr is watched line by line.
struct Running {
    child: Child,
    lines: Receiver<String>,
    stderr: JoinHandle<String>,
    stdout: JoinHandle<String>,
}

impl Running {
    fn spawn(command: &mut Command) -> Running {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let (sender, lines) = mpsc::channel();
        let stderr_pipe = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
                // The receiver may be gone once the test stopped watching.
                let _ = sender.send(line);
            }
            all
        });
        let mut stdout_pipe = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut all = String::new();
            stdout_pipe.read_to_string(&mut all).unwrap();
            all
        });
        Running { child, lines, stderr, stdout }
    }

    /// Blocks until a line of stderr contains `marker`; panics if the run ends first.
    fn wait_for(&self, marker: &str) {
        for line in self.lines.iter() {
            if line.contains(marker) {
                return;
            }
        }
        panic!("the run ended before logging {marker:?}");
    }

    /// Waits for the end; both streams and the exit code.
    fn finish(mut self) -> Ran {
        let status = self.child.wait().unwrap();
        Ran {
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.join().unwrap(),
            stderr: self.stderr.join().unwrap(),
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

const PAUSED_BEFORE_WRITE: &str = "pausing before the write transaction";
const PAUSED_IN_WRITE: &str = "test hook: pausing inside the write transaction";

/// A demo run into `store` reading NEON from `neon`, pausing at `pause_env` until `resume` exists.
fn paused_demo_run(store: &str, neon: &str, pause_env: &str, resume: &Path) -> Running {
    let mut command = run_command(store, neon, &demo("odoo_move_lines.csv"));
    command.env(pause_env, "120000").env("RECON_TEST_RESUME_FILE", resume);
    Running::spawn(&mut command)
}

/// A cluster of the test's own, with the demo's NEON table and a baseline: the store of an
/// undisturbed run of the same data, whose counts every disturbed run must end with.
struct FaultBed {
    server: PgServer,
    neon: String,
    store: String,
    baseline: BTreeMap<&'static str, i64>,
    dir: tempfile::TempDir,
}

impl FaultBed {
    fn new(name: &str) -> FaultBed {
        let server = PgServer::start_cluster(ClusterOptions::default());
        let dir = tempfile::tempdir().unwrap();
        let (neon, baseline_store, store) = block_on(async {
            let neon = neon_database(&server, &format!("{name}_neon"), &demo("neon_statement_lines.csv")).await;
            let baseline_store = server.fresh_database(&format!("{name}_baseline")).await;
            let store = server.fresh_database(&format!("{name}_store")).await;
            (neon, baseline_store, store)
        });
        run(&mut run_command(&baseline_store, &neon, &demo("odoo_move_lines.csv"))).expect_code(3);
        let baseline = block_on(store_counts(&baseline_store));
        assert_eq!(baseline["runs"], 1);
        FaultBed { server, neon, store, baseline, dir }
    }

    fn resume_file(&self) -> PathBuf {
        self.dir.path().join("resume")
    }

    fn resume(&self) {
        std::fs::write(self.resume_file(), b"go").unwrap();
    }

    fn counts(&self) -> BTreeMap<&'static str, i64> {
        block_on(store_counts(&self.store))
    }

    /// The store holds exactly what the undisturbed run wrote: one run, no duplicate anything.
    fn assert_one_copy_of_everything(&self) {
        assert_eq!(self.counts(), self.baseline, "store counts after the disturbed run vs. the undisturbed run");
    }

    fn terminate_recon(&self) -> u64 {
        block_on(self.server.terminate_backends(RECON_APPLICATION))
    }
}

#[test]
fn demo_from_a_neon_table_into_a_postgres_store_equals_the_csv_run_into_sqlite() {
    let (csv_matches, csv_cases) = csv_sqlite_demo();
    // Neon's URLs: TLS with the server verified, and channel_binding=require, which sqlx ignores.
    let server = PgServer::start_cluster(ClusterOptions { tls: true });
    let root = server.tls_root_cert().unwrap();
    let tls = format!("?sslmode=verify-full&sslrootcert={}&channel_binding=require", root.display());
    let (neon, store) = block_on(async {
        let neon = neon_database(&server, "job_demo_neon", &demo("neon_statement_lines.csv")).await;
        (neon, server.fresh_database("job_demo_store").await)
    });
    let (neon, store) = (format!("{neon}{tls}"), format!("{store}{tls}"));
    let dir = tempfile::tempdir().unwrap();

    let first = run(&mut run_command(&store, &neon, &demo("odoo_move_lines.csv"))).expect_code(3);
    assert!(
        first.stdout.contains("all accounts                           *       23       15       1     65.21 %"),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("postgres://127.0.0.1:"), "the input is named by its database: {}", first.stdout);
    assert!(first.stdout.contains("#bank_statement_lines"), "{}", first.stdout);
    assert_eq!(export(&store, "matches", dir.path()), csv_matches);
    assert_eq!(export(&store, "cases", dir.path()), csv_cases);

    let again = run(&mut run_command(&store, &neon, &demo("odoo_move_lines.csv"))).expect_code(3);
    assert!(again.stdout.contains("matches 0 new, 15 kept"), "{}", again.stdout);
    let counts = block_on(store_counts(&server.database_url("recon_it_job_demo_store")));
    assert_eq!((counts["runs"], counts["matches"], counts["cases"]), (2, 15, 10));
    block_on(server.drop_databases());
}

/// The configuration of the Odoo fixture (testdata/postgres/odoo): STP in pesos on journal BNK1 and
/// a dollar account on journal BNK2, both of company 1.
const ODOO_FIXTURE_CONFIG: &str = r#"
zone = "America/Mexico_City"
company_currency = "MXN"
kpi_threshold = "0.95"

[[accounts]]
name = "STP concentradora"
clabe = "646180111805034237"
journal = "BNK1"
gl_account_code = "102.01.01"
currency = "MXN"

[[accounts]]
name = "BBVA USD"
clabe = "012180001234567899"
journal = "BNK2"
gl_account_code = "102.01.02"
currency = "USD"
"#;

/// Bank lines for two of the Odoo fixture's posted lines: the Conekta payout 0598792 (line 111) and
/// the USD wire (line 109, 1,000.00 USD booked as 17,034.50 MXN).
const NEON_LINES_OF_THE_ODOO_FIXTURE: &str = "INSERT INTO bank_statement_lines \
    (id, account, booked_at, value_date, amount, currency, reference, description, counterparty_name) VALUES \
    (5001, '646180111805034237', '2024-03-15 11:02:00-06', '2024-03-15', 4589.21, 'MXN', '0598792', \
     'Conekta 0598792', 'Conekta'), \
    (5002, '012180001234567899', NULL, '2024-03-12', 1000.00, 'USD', NULL, \
     'Wire transfer INV/2024/00098', 'Abarrotes La Esperanza SA de CV')";

/// The fixture's run: the middle of March 2024, whose context (7 banking days each side, 18 March a
/// holiday) stays within March.
const ODOO_FROM: &str = "2024-03-12";
const ODOO_TO: &str = "2024-03-15";

fn odoo_run(store: &str, config: &Path, statements: &str, moves: &str) -> Command {
    let mut command = recon();
    command.arg("--store").arg(store).args(["run", "--from", ODOO_FROM, "--to", ODOO_TO, "--skip-bad-rows"]);
    command.arg("--config").arg(config).arg("--statements").arg(statements).arg("--moves").arg(moves);
    command
}

#[test]
fn odoo_read_from_its_database_equals_the_run_over_its_export() {
    let server = PgServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("recon.toml");
    std::fs::write(&config, ODOO_FIXTURE_CONFIG).unwrap();
    let neon = block_on(async {
        let url = server.fresh_database("job_odoo_neon").await;
        run_sql_files(&url, &[&testdata("postgres/neon/schema.sql"), &testdata("postgres/neon/data.sql")]).await;
        let mut connection = connect(&url).await;
        sqlx::raw_sql(NEON_LINES_OF_THE_ODOO_FIXTURE).execute(&mut connection).await.unwrap();
        connection.close().await.unwrap();
        url
    });
    // The exports of the same data: NEON's COPY, and Odoo's March lines on the two bank accounts
    // and journals (the fixture's expected CSV).
    let neon_csv = dir.path().join("neon.csv");
    std::fs::write(&neon_csv, block_on(neon_export(&neon))).unwrap();
    let odoo_csv = testdata("postgres/odoo/expected/march_en_US.csv");
    let workspace = Workspace::new();
    let mut over_exports =
        odoo_run(&workspace.store(), &config, &neon_csv.display().to_string(), &odoo_csv.display().to_string());
    let over_exports = run(&mut over_exports);
    assert!(matches!(over_exports.code, 0 | 3), "{}\n{}", over_exports.stdout, over_exports.stderr);
    let (matches, cases) = (workspace.export("matches"), workspace.export("cases"));
    assert_eq!(matches.lines().count(), 3, "both bank lines match their Odoo lines: {matches}");

    for version in ["17", "18"] {
        let (odoo, store) = block_on(async {
            let odoo = server.fresh_database(&format!("job_odoo{version}")).await;
            let files = [
                testdata(&format!("postgres/odoo/{version}/schema.sql")),
                testdata("postgres/odoo/base.sql"),
                testdata(&format!("postgres/odoo/{version}/accounts.sql")),
                testdata("postgres/odoo/moves.sql"),
            ];
            run_sql_files(&odoo, &files.iter().map(PathBuf::as_path).collect::<Vec<_>>()).await;
            (odoo, server.fresh_database(&format!("job_odoo{version}_store")).await)
        });
        let ran = run(&mut odoo_run(&store, &config, &neon, &odoo));
        assert_eq!(ran.code, over_exports.code, "Odoo {version}\n{}\n{}", ran.stdout, ran.stderr);
        assert!(ran.stdout.contains("#account_move_line"), "Odoo {version}: {}", ran.stdout);
        assert_eq!(export(&store, "matches", dir.path()), matches, "Odoo {version}");
        assert_eq!(export(&store, "cases", dir.path()), cases, "Odoo {version}");
    }
    block_on(server.drop_databases());
}

#[test]
fn a_configuration_that_does_not_match_the_databases_stops_the_run_before_any_work() {
    let server = PgServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (neon, odoo) = block_on(async {
        let neon = neon_database(&server, "job_check_neon", &demo("neon_statement_lines.csv")).await;
        let odoo = server.fresh_database("job_check_odoo18").await;
        let files = [
            testdata("postgres/odoo/18/schema.sql"),
            testdata("postgres/odoo/base.sql"),
            testdata("postgres/odoo/18/accounts.sql"),
            testdata("postgres/odoo/moves.sql"),
        ];
        run_sql_files(&odoo, &files.iter().map(PathBuf::as_path).collect::<Vec<_>>()).await;
        (neon, odoo)
    });
    let store = dir.path().join("never.sqlite");
    let store = store.display().to_string();

    // The demo's journals and GL accounts are not the fixture's: every one is named, with look-alikes.
    let mut command = run_command(&store, &neon, Path::new(&odoo));
    let refused = run(&mut command).expect_code(2);
    for expected in
        ["missing journals: \"Banco STP\"", "\"Banco Santander USD\"", "missing bank GL accounts: \"102.02.01\""]
    {
        assert!(refused.stderr.contains(expected), "{expected:?} not in {}", refused.stderr);
    }
    assert!(refused.stderr.contains("(similar: "), "{}", refused.stderr);

    // A NEON table that does not exist, and one that is not an identifier.
    for (table, expected) in
        [("bank_lines", "table bank_lines does not exist"), ("lines; DROP TABLE x", "is not a valid SQL identifier")]
    {
        let text = std::fs::read_to_string(demo("recon.toml")).unwrap();
        let config = dir.path().join("recon.toml");
        std::fs::write(
            &config,
            text.replace("[sources.statements]\n", &format!("[sources.statements]\ntable = {table:?}\n")),
        )
        .unwrap();
        let mut command = recon();
        command.arg("--store").arg(&store).args(["run", "--from", FROM, "--to", TO, "--config"]).arg(&config);
        command.arg("--statements").arg(&neon).arg("--moves").arg(demo("odoo_move_lines.csv"));
        let refused = run(&mut command).expect_code(2);
        assert!(refused.stderr.contains(expected), "{expected:?} not in {}", refused.stderr);
    }
    assert!(!Path::new(&store).exists(), "nothing was done: not even the store was created");
    block_on(server.drop_databases());
}

#[test]
fn the_pooled_endpoint_is_refused_for_the_run_lock_before_any_work() {
    // No server: the refusal comes before anything is connected.
    let pooled = "postgres://recon:secret@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/recon?sslmode=require";
    let csv = demo("neon_statement_lines.csv").display().to_string();
    let refused = run(&mut run_command(pooled, &csv, &demo("odoo_move_lines.csv"))).expect_code(2);
    assert!(refused.stderr.contains("is a pooled endpoint (PgBouncer in transaction mode)"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "use the direct endpoint for this: the same URL with host ep-cool-darkness-123456.us-east-2.aws.neon.tech"
        ),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("secret"), "{}", refused.stderr);
}

#[test]
fn connections_terminated_before_the_write_do_not_stop_the_run() {
    let bed = FaultBed::new("job_terminate_before");
    let running = paused_demo_run(&bed.store, &bed.neon, "RECON_TEST_PAUSE_BEFORE_WRITE_MS", &bed.resume_file());
    running.wait_for(PAUSED_BEFORE_WRITE);
    assert!(bed.terminate_recon() >= 1, "the store pool's idle connections are recon's");
    bed.resume();
    running.finish().expect_code(3);
    bed.assert_one_copy_of_everything();
}

#[test]
fn connections_terminated_inside_the_write_retry_the_whole_transaction() {
    let bed = FaultBed::new("job_terminate_in_write");
    let (csv_matches, csv_cases) = csv_sqlite_demo();
    let running = paused_demo_run(&bed.store, &bed.neon, "RECON_TEST_PAUSE_IN_WRITE_MS", &bed.resume_file());
    running.wait_for(PAUSED_IN_WRITE);
    // The write transaction's connection is recon's: 57P01 in the middle of the write.
    assert!(bed.terminate_recon() >= 1);
    assert_eq!(bed.counts()["runs"], 0, "nothing is visible before the commit");
    bed.resume();
    let ran = running.finish().expect_code(3);
    assert!(ran.stderr.contains("transient PostgreSQL error; retrying"), "{}", ran.stderr);
    assert!(ran.stderr.contains("run written after retrying the whole transaction"), "{}", ran.stderr);
    assert!(ran.stdout.contains("matches 15 new"), "{}", ran.stdout);
    bed.assert_one_copy_of_everything();
    assert_eq!(export(&bed.store, "matches", bed.dir.path()), csv_matches);
    assert_eq!(export(&bed.store, "cases", bed.dir.path()), csv_cases);
}

#[test]
fn a_server_restart_inside_the_write_is_survived() {
    let bed = FaultBed::new("job_restart_in_write");
    let running = paused_demo_run(&bed.store, &bed.neon, "RECON_TEST_PAUSE_IN_WRITE_MS", &bed.resume_file());
    running.wait_for(PAUSED_IN_WRITE);
    bed.server.stop();
    bed.server.start_again();
    bed.resume();
    let ran = running.finish().expect_code(3);
    // The lock's connection went with the server; the run took the lock again before writing.
    assert!(ran.stderr.contains("run lock taken again"), "{}", ran.stderr);
    bed.assert_one_copy_of_everything();
}

#[test]
fn a_server_that_stays_down_fails_the_run_cleanly() {
    let bed = FaultBed::new("job_down_in_write");
    // connect_timeout=1: each write attempt gives up on a connection after a second.
    let store = format!("{}?connect_timeout=1", bed.store);
    let running = paused_demo_run(&store, &bed.neon, "RECON_TEST_PAUSE_IN_WRITE_MS", &bed.resume_file());
    running.wait_for(PAUSED_IN_WRITE);
    bed.server.stop();
    bed.resume();
    let ran = running.finish().expect_code(4);
    assert!(ran.stderr.contains("writing run R-"), "{}", ran.stderr);
    assert!(ran.stderr.contains("could not record the failed run either"), "{}", ran.stderr);
    bed.server.start_again();
    let counts = bed.counts();
    assert!(counts.values().all(|&count| count == 0), "a failed run leaves nothing: {counts:?}");
    // The next night works.
    run(&mut run_command(&bed.store, &bed.neon, &demo("odoo_move_lines.csv"))).expect_code(3);
    bed.assert_one_copy_of_everything();
}

#[test]
fn a_lost_commit_acknowledgement_is_recognised_as_success() {
    let bed = FaultBed::new("job_lost_ack");
    let mut command = run_command(&bed.store, &bed.neon, &demo("odoo_move_lines.csv"));
    command.env("RECON_TEST_DROP_COMMIT_ACK", "1");
    let ran = run(&mut command).expect_code(3);
    assert!(ran.stderr.contains("an earlier attempt committed, its acknowledgement was lost"), "{}", ran.stderr);
    assert!(
        ran.stdout.contains("was committed by an earlier attempt whose acknowledgement was lost"),
        "{}",
        ran.stdout
    );
    bed.assert_one_copy_of_everything();
}

#[test]
fn a_run_killed_inside_the_write_leaves_nothing_behind() {
    let bed = FaultBed::new("job_killed_in_write");
    let running = paused_demo_run(&bed.store, &bed.neon, "RECON_TEST_PAUSE_IN_WRITE_MS", &bed.resume_file());
    running.wait_for(PAUSED_IN_WRITE);
    running.kill();
    block_on(wait_until_recon_is_gone(&bed.server));
    let counts = bed.counts();
    assert!(counts.values().all(|&count| count == 0), "a killed run leaves nothing: {counts:?}");
    run(&mut run_command(&bed.store, &bed.neon, &demo("odoo_move_lines.csv"))).expect_code(3);
    bed.assert_one_copy_of_everything();
}

#[test]
fn a_second_run_on_a_postgres_store_is_refused_with_exit_5() {
    let server = PgServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = block_on(server.fresh_database("job_second_run"));
    let csv = demo("neon_statement_lines.csv").display().to_string();
    let mut first = run_command(&store, &csv, &demo("odoo_move_lines.csv"));
    first.env("RECON_TEST_PAUSE_BEFORE_WRITE_MS", "120000").env("RECON_TEST_RESUME_FILE", dir.path().join("resume"));
    let first = Running::spawn(&mut first);
    first.wait_for(PAUSED_BEFORE_WRITE);
    let refused = run(&mut run_command(&store, &csv, &demo("odoo_move_lines.csv")));
    std::fs::write(dir.path().join("resume"), b"go").unwrap();
    first.finish().expect_code(3);
    let refused = refused.expect_code(5);
    assert!(refused.stderr.contains("the store is locked (pg_advisory_lock("), "{}", refused.stderr);
    assert!(refused.stderr.contains("(recon lock: nightly run R-"), "{}", refused.stderr);
    block_on(server.drop_databases());
}

#[test]
fn migrate_on_postgres_lists_what_is_applied() {
    let server = PgServer::start();
    let store = block_on(server.fresh_database("job_migrate"));
    let mut command = recon();
    command.arg("--store").arg(&store).arg("migrate");
    let ran = run(&mut command).expect_code(0);
    assert!(ran.stdout.contains("(postgres)"), "{}", ran.stdout);
    assert!(ran.stdout.contains("applied 0001 init"), "{}", ran.stdout);
    block_on(server.drop_databases());
}
