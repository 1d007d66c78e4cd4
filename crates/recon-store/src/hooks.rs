//! Test hooks: fixed points inside the write where a fault-injection test can act.
//!
//! A test that kills a run, terminates its connections or restarts the server "in the
//! middle of the write" needs the run to be in the middle of the write when it acts; a
//! sleep that hopes so is flaky. With [`TestHooks::pause_in_write`] the store pauses
//! inside the write transaction, after the run row is inserted, and logs that it does;
//! the test waits for that line, acts, then creates the resume file to let the run go on.
//! Each hook fires once per store, on the first attempt only, so a retried write runs
//! straight through. Never set hooks in production.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a pause looks for its resume file.
const RESUME_POLL: Duration = Duration::from_millis(20);

/// Hooks for fault-injection tests (see the module docs). Empty by default.
#[derive(Debug, Default)]
pub struct TestHooks {
    pause_in_write: Option<Duration>,
    resume_file: Option<PathBuf>,
    drop_commit_ack: bool,
    bulk_load_from: Option<usize>,
    pause_done: AtomicBool,
    ack_dropped: AtomicBool,
}

impl TestHooks {
    /// No hooks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pause for `pause` inside the first write transaction, right after the run row is
    /// inserted (logged at warn level: `test hook: pausing inside the write transaction`).
    #[must_use]
    pub fn pause_in_write(mut self, pause: Duration) -> Self {
        self.pause_in_write = Some(pause);
        self
    }

    /// End pauses early as soon as `path` exists.
    #[must_use]
    pub fn resume_file(mut self, path: PathBuf) -> Self {
        self.resume_file = Some(path);
        self
    }

    /// After the first write transaction commits, fail as if the connection had dropped
    /// before the commit's acknowledgement arrived: the data is committed, the caller
    /// sees a transient error. A caller that retries must recognise its own run.
    #[must_use]
    pub fn drop_first_commit_ack(mut self) -> Self {
        self.drop_commit_ack = true;
        self
    }

    /// Take the bulk-load path of the matches upsert (secondary indexes dropped and built
    /// again after the rows) from `matches` matches on, instead of from one round of
    /// 65,536: lets a small test exercise the path a large night takes.
    #[must_use]
    pub fn bulk_load_from(mut self, matches: usize) -> Self {
        self.bulk_load_from = Some(matches);
        self
    }

    /// The bulk-load threshold set by [`TestHooks::bulk_load_from`], if any.
    pub(crate) fn bulk_load_threshold(&self) -> Option<usize> {
        self.bulk_load_from
    }

    /// The resume file, if any.
    pub fn resume_path(&self) -> Option<&Path> {
        self.resume_file.as_deref()
    }

    /// Runs the in-write pause the first time it is reached.
    pub(crate) async fn in_write(&self, run_id: &str) {
        let Some(pause) = self.pause_in_write else { return };
        if self.pause_done.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::warn!(run_id, ms = pause.as_millis(), "test hook: pausing inside the write transaction");
        test_pause(pause, self.resume_path()).await;
        tracing::warn!(run_id, "test hook: resuming the write transaction");
    }

    /// Whether to report this commit's acknowledgement as lost (true once at most).
    pub(crate) fn drops_commit_ack(&self) -> bool {
        self.drop_commit_ack && !self.ack_dropped.swap(true, Ordering::SeqCst)
    }
}

/// Sleeps for `pause`, or until `resume_file` exists, whichever comes first: a test pause
/// that the test ends when it has done its part.
pub async fn test_pause(pause: Duration, resume_file: Option<&Path>) {
    let Some(resume_file) = resume_file else {
        tokio::time::sleep(pause).await;
        return;
    };
    let deadline = Instant::now() + pause;
    // Bounded by the deadline: one poll per RESUME_POLL.
    while Instant::now() < deadline && !resume_file.exists() {
        tokio::time::sleep(RESUME_POLL.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}
