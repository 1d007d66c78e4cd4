//! Running the binary and looking into its store.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use recon_store::{CaseFilter, CaseRecord, MatchFilter, MatchRecord, RunFilter, RunRecord, Store};
use tempfile::TempDir;

/// The demo's range: Monday 2026-10-12 to Friday 2026-10-16.
pub const FROM: &str = "2026-10-12";
/// See [`FROM`].
pub const TO: &str = "2026-10-16";

/// A file under `testdata/demo/`.
pub fn demo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/demo").join(name)
}

/// `recon` with a clean environment: no inherited `RECON_*` variables, logs at `info`.
pub fn recon() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_recon"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RECON_") {
            command.env_remove(key);
        }
    }
    command.env("RUST_LOG", "info");
    command
}

/// What a finished command said.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn from(output: Output) -> Ran {
        Ran {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Ran {
        assert_eq!(self.code, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}

/// A stdout on which every write fails ("no space left on device").
pub fn full_stdout() -> std::fs::File {
    std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full")
}

/// Runs a command to completion.
pub fn run(command: &mut Command) -> Ran {
    Ran::from(command.output().unwrap())
}

/// A temporary directory holding a store.
pub struct Workspace {
    pub dir: TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The SQLite store file.
    pub fn store(&self) -> String {
        self.path("recon.sqlite").display().to_string()
    }

    /// `recon --store STORE ARGS` (more arguments may follow).
    pub fn recon(&self, args: &[&str]) -> Command {
        let mut command = recon();
        command.arg("--store").arg(self.store()).args(args);
        command
    }

    /// `recon run` on the given inputs over the demo range.
    pub fn run_command(&self, statements: &Path, moves: &Path, extra: &[&str]) -> Command {
        let mut command = self.recon(&["run", "--from", FROM, "--to", TO]);
        command.arg("--config").arg(demo("recon.toml"));
        command.arg("--statements").arg(statements).arg("--moves").arg(moves).args(extra);
        command
    }

    /// `recon run` on the demo data.
    pub fn run_demo(&self, extra: &[&str]) -> Ran {
        run(&mut self.run_command(&demo("neon_statement_lines.csv"), &demo("odoo_move_lines.csv"), extra))
    }

    /// `recon export WHAT` as CSV text.
    pub fn export(&self, what: &str) -> String {
        let out = self.path(&format!("{what}.csv"));
        let out_text = out.display().to_string();
        run(&mut self.recon(&["export", what, "--format", "csv", "--out", &out_text])).expect_code(0);
        std::fs::read_to_string(out).unwrap()
    }

    /// What the store holds.
    pub fn contents(&self) -> Contents {
        let store = self.store();
        tokio::runtime::Runtime::new().unwrap().block_on(async move {
            let store = Store::open(&store).await.unwrap();
            let contents = Contents {
                runs: store.runs(&RunFilter::default()).await.unwrap(),
                matches: store.matches(&MatchFilter::default()).await.unwrap(),
                cases: store.cases(&CaseFilter::default()).await.unwrap(),
            };
            store.close().await;
            contents
        })
    }

    /// The rows quarantined by a run.
    pub fn quarantined(&self, run_id: &str) -> Vec<recon_store::QuarantineRow> {
        let store = self.store();
        let run_id = run_id.to_owned();
        tokio::runtime::Runtime::new().unwrap().block_on(async move {
            let store = Store::open(&store).await.unwrap();
            let rows = store.quarantined_rows(&run_id).await.unwrap();
            store.close().await;
            rows
        })
    }
}

/// Runs, matches and cases in a store.
pub struct Contents {
    pub runs: Vec<RunRecord>,
    pub matches: Vec<MatchRecord>,
    pub cases: Vec<CaseRecord>,
}

impl Contents {
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty() && self.matches.is_empty() && self.cases.is_empty()
    }
}

/// Lines of a CSV export, header first.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

/// The values of column `name` in a CSV export.
pub fn column(text: &str, name: &str) -> Vec<String> {
    let rows = csv_rows(text);
    let index = rows[0].iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"));
    rows[1..].iter().map(|row| row[index].clone()).collect()
}

/// A copy of a demo file with `from` replaced by `to` on the line starting with `line_prefix`.
pub fn edited_copy(workspace: &Workspace, name: &str, line_prefix: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(demo(name)).unwrap();
    let mut found = false;
    let edited: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with(line_prefix) && line.contains(from) {
                found = true;
                line.replacen(from, to, 1)
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(found, "{line_prefix}... with {from:?} not in {name}");
    let path = workspace.path(name);
    std::fs::write(&path, edited.join("\n") + "\n").unwrap();
    path
}

/// Asserts that each line a case names as a source (`external_ids.sources`: side, id, file, line)
/// is the line of that file that holds the id (the first column of the demo's CSV files, whose
/// header is line 1), and returns how many it names.
pub fn assert_sources_point_at_their_lines(case: &CaseRecord) -> usize {
    let sources = case.external_ids["sources"].as_array().unwrap_or_else(|| panic!("{}", case.external_ids));
    for source in sources {
        let (file, id) = (source["file"].as_str().unwrap(), source["id"].as_str().unwrap());
        let line = usize::try_from(source["line"].as_u64().unwrap()).unwrap();
        let text = std::fs::read_to_string(file).unwrap();
        let read = text.lines().nth(line - 1).unwrap_or_else(|| panic!("{file} has no line {line}"));
        assert!(read.starts_with(&format!("{id},")), "case {}: {file}:{line} is {read:?}, not {id}", case.case_id);
    }
    sources.len()
}
