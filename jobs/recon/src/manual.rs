//! `recon manual propose|approve|apply|list|show`: manual controlled runs.
//!
//! An analyst's decisions file (see [`crate::manual_decisions`]) is validated against the inputs and
//! the store, and its effect shown as a dry run: new matches, cases closed and reopened, exceptions that
//! appear, KPI before and after. With `[manual] four_eyes = true` in the configuration, `propose`
//! stores it as a proposal (decisions text and blake3, inputs' and configuration's blake3, scope, dry
//! run, proposer, time, note); a different operator approves it; `apply` re-validates it against the
//! current store and the same inputs (same blake3, or it refuses) and writes one manual run in one
//! transaction, then the Markdown report. With four-eyes off, `apply` takes a decisions file directly.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use recon_store::{
    ManualApply, ManualProposal, ProposalApproval, ProposalFilter, ProposalRecord, ProposalStatus, ProposalWrite, Store,
};
use serde_json::json;

use crate::cases::open_existing_store;
use crate::config::{self, Settings};
use crate::exit::{Exit, bad_input, four_eyes_refusal};
use crate::manual_decisions::{self, DecisionKind, ManualScope};
use crate::manual_plan::{self, DecisionsRecord, Operators, Plan, RunIdentity, StoreState};
use crate::manual_report::{self, Preview, ReportContext};
use crate::scope::DateRange;
use crate::stdout;
use crate::terminal::{TextTable, redact_url};

/// `recon manual ...`.
#[derive(Debug, Subcommand)]
pub enum ManualCommand {
    /// Validate a decisions file against the inputs and the store and show what it would change (a
    /// dry run). With `[manual] four_eyes = true`, store it as a proposal for a second operator.
    Propose(ProposeArgs),
    /// Approve a proposal: four-eyes, so never by the operator who proposed it (exit 6).
    Approve(ApproveArgs),
    /// Apply an approved proposal, or with four-eyes off a decisions file directly: one manual run.
    Apply(ApplyArgs),
    /// List proposals, newest first.
    List(ListArgs),
    /// Show a proposal: operators, decisions file, dry run and, once applied, its report.
    Show(ShowArgs),
}

/// `recon manual propose`.
#[derive(Debug, Args)]
pub struct ProposeArgs {
    /// The decisions CSV: action,statement_ids,move_line_ids,case_id,difference,reason.
    #[arg(long)]
    pub decisions: PathBuf,
    /// The TOML configuration.
    #[arg(long, env = "RECON_CONFIG")]
    pub config: PathBuf,
    /// NEON statement lines (.csv, .parquet or .pq), as the nightly run read them.
    #[arg(long)]
    pub statements: PathBuf,
    /// Odoo journal items (.csv, .parquet or .pq).
    #[arg(long)]
    pub moves: PathBuf,
    /// First business date of the scope.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last business date of the scope.
    #[arg(long)]
    pub to: NaiveDate,
    /// Only this account (CLABE); repeat for several (default: every configured account).
    #[arg(long)]
    pub account: Vec<String>,
    /// Who proposes the decisions.
    #[arg(long)]
    pub operator: String,
    /// A note for the approver and the report (a ticket, what was checked).
    #[arg(long)]
    pub note: Option<String>,
}

/// `recon manual approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The proposal (`P-...`).
    pub proposal_id: String,
    /// Who approves it: not its proposer.
    #[arg(long)]
    pub operator: String,
    /// What the approver checked.
    #[arg(long)]
    pub note: Option<String>,
}

/// `recon manual apply`.
#[derive(Debug, Args)]
#[command(group = ArgGroup::new("what").required(true).args(["proposal_id", "decisions"]))]
pub struct ApplyArgs {
    /// The proposal to apply (approved, when four-eyes is on).
    pub proposal_id: Option<String>,
    /// A decisions file to apply directly, without a proposal (only with four-eyes off).
    #[arg(long, conflicts_with = "proposal_id")]
    pub decisions: Option<PathBuf>,
    /// The TOML configuration (for a proposal: the same file it was proposed with).
    #[arg(long, env = "RECON_CONFIG")]
    pub config: PathBuf,
    /// NEON statement lines (default for a proposal: the file it was proposed with; same blake3).
    #[arg(long)]
    pub statements: Option<PathBuf>,
    /// Odoo journal items (default for a proposal: the file it was proposed with; same blake3).
    #[arg(long)]
    pub moves: Option<PathBuf>,
    /// First business date (direct apply only).
    #[arg(long, conflicts_with = "proposal_id")]
    pub from: Option<NaiveDate>,
    /// Last business date (direct apply only).
    #[arg(long, conflicts_with = "proposal_id")]
    pub to: Option<NaiveDate>,
    /// Only this account (direct apply only); repeat for several.
    #[arg(long, conflicts_with = "proposal_id")]
    pub account: Vec<String>,
    /// Who applies it.
    #[arg(long)]
    pub operator: String,
    /// A note for the report (direct apply only).
    #[arg(long, conflicts_with = "proposal_id")]
    pub note: Option<String>,
    /// Where the Markdown report is written (`manual-<run id>.md`).
    #[arg(long, default_value = ".")]
    pub report_dir: PathBuf,
}

/// `recon manual list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only proposals with this status.
    #[arg(long, value_enum)]
    pub status: Option<ProposalStatusArg>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Proposal statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProposalStatusArg {
    /// Waiting for approval.
    Proposed,
    /// Approved, not applied yet.
    Approved,
    /// Applied by a manual run.
    Applied,
}

/// `recon manual show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The proposal.
    pub proposal_id: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print only the Markdown report of the applied run.
    #[arg(long, conflicts_with = "json")]
    pub report: bool,
}

/// Runs `recon manual ...`.
pub async fn manual(command: &ManualCommand, store_url: &str) -> Result<Exit> {
    match command {
        ManualCommand::Propose(args) => propose(args, store_url).await,
        ManualCommand::Approve(args) => approve(args, store_url).await,
        ManualCommand::Apply(args) => apply(args, store_url).await,
        ManualCommand::List(args) => list(args, store_url).await,
        ManualCommand::Show(args) => show(args, store_url).await,
    }
}

/// A non-empty operator name, trimmed.
fn operator_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(bad_input("--operator must not be empty"));
    }
    Ok(name.to_owned())
}

/// A unique, sortable id: prefix, instant, 8 hex digits of a hash of the instant and the pid.
fn new_id(prefix: &str, at: DateTime<Utc>) -> String {
    let seed = format!("{}/{}", at.timestamp_nanos_opt().unwrap_or_default(), std::process::id());
    format!("{prefix}-{}-{}", at.format("%Y%m%dT%H%M%SZ"), &blake3::hash(seed.as_bytes()).to_hex()[..8])
}

/// A decisions file as read: its name, text and blake3.
struct DecisionsFile {
    record: DecisionsRecord,
    text: String,
}

impl DecisionsFile {
    fn read(path: &Path) -> Result<DecisionsFile> {
        let bytes =
            std::fs::read(path).map_err(|e| bad_input(format!("decisions {}: cannot read: {e}", path.display())))?;
        let text =
            String::from_utf8(bytes).map_err(|e| bad_input(format!("decisions {}: not UTF-8: {e}", path.display())))?;
        Ok(DecisionsFile::from_text(path.display().to_string(), text))
    }

    fn from_text(file: String, text: String) -> DecisionsFile {
        let blake3 = blake3::hash(text.as_bytes()).to_hex().to_string();
        DecisionsFile { record: DecisionsRecord { file, blake3 }, text }
    }
}

/// Reads the inputs and the store, validates the decisions and plans the run; refusals exit 2.
async fn plan_for(
    settings: &Settings,
    scope: &ManualScope,
    decisions: &DecisionsFile,
    inputs: manual_plan::Inputs,
    store: &Store,
    what: &str,
) -> Result<Plan> {
    let rows = manual_decisions::parse(&decisions.record.file, &decisions.text)
        .map_err(|refusals| manual_plan::refused(&refusals, what))?;
    let state = StoreState::read(store, scope).await?;
    manual_plan::plan(settings, scope, &decisions.record.file, &rows, inputs, &state)
        .map_err(|refusals| manual_plan::refused(&refusals, what))
}

/// `recon manual propose`.
async fn propose(args: &ProposeArgs, store_url: &str) -> Result<Exit> {
    let settings = config::load(&args.config)?;
    let operator = operator_name(&args.operator)?;
    let scope = manual_plan::manual_scope(&settings, DateRange { from: args.from, to: args.to }, &args.account)?;
    let decisions = DecisionsFile::read(&args.decisions)?;
    let store = open_existing_store(store_url).await?;
    let inputs = manual_plan::read_inputs(&settings, &args.statements, &args.moves)?;
    let plan = plan_for(&settings, &scope, &decisions, inputs, &store, "proposed").await?;
    let preview = Preview::new(&plan, &settings, &decisions.record);
    let text = manual_report::dry_run_text(&preview);
    if !settings.four_eyes {
        stdout::write(&format!(
            "{text}\nDry run: nothing was written. Four-eyes is off in the configuration: apply these decisions with \
             `recon manual apply --decisions {} ...` (same inputs and scope).\n",
            decisions.record.file
        ))?;
        return Ok(Exit::Done);
    }
    // Before anything is stored: an operator who cannot see the preview stores nothing.
    stdout::write_before_commit(&text)?;
    let proposed_at = Utc::now();
    let proposal = ProposalWrite {
        proposal_id: new_id("P", proposed_at),
        four_eyes: true,
        scope: recon_store::RunScope {
            accounts: scope.accounts.clone(),
            date_from: scope.range.from,
            date_to: scope.range.to,
        },
        decisions_file: decisions.record.file.clone(),
        decisions_text: decisions.text.clone(),
        decisions_blake3: decisions.record.blake3.clone(),
        inputs: plan.run_inputs.clone(),
        config_blake3: settings.blake3.clone(),
        preview: json!({ "text": text, "summary": preview }),
        proposed_by: operator,
        proposed_at,
        proposal_note: args.note.clone(),
    };
    store.create_proposal(&proposal).await.context("storing the proposal")?;
    stdout::write_done(
        &format!(
            "\nProposal {} stored: nothing is applied until a different operator runs \
             `recon manual approve {} --operator NAME`, and then `recon manual apply {} --operator NAME --config ...`.\n",
            proposal.proposal_id, proposal.proposal_id, proposal.proposal_id
        ),
        &format!("proposal {} is stored", proposal.proposal_id),
        "`recon manual list` and `recon manual show` read it from the store",
    );
    Ok(Exit::Done)
}

/// `recon manual approve`.
async fn approve(args: &ApproveArgs, store_url: &str) -> Result<Exit> {
    let operator = operator_name(&args.operator)?;
    let store = open_existing_store(store_url).await?;
    let approval = ProposalApproval {
        proposal_id: args.proposal_id.clone(),
        approved_by: operator,
        approved_at: Utc::now(),
        note: args.note.clone(),
    };
    // Read first: who proposed it and when do not change, and nothing fails after the approval is stored.
    let stored = proposal_record(&store, &args.proposal_id).await?;
    store.approve_proposal(&approval).await.with_context(|| format!("approving proposal {}", args.proposal_id))?;
    stdout::write_done(
        &format!(
            "proposal {} approved by {} (proposed by {} at {}); apply it with `recon manual apply {} --operator NAME --config ...`\n",
            args.proposal_id,
            approval.approved_by,
            stored.proposal.proposed_by,
            stored.proposal.proposed_at.format("%Y-%m-%d %H:%M:%S UTC"),
            args.proposal_id
        ),
        &format!("proposal {} is approved", args.proposal_id),
        "`recon manual show` reads it from the store",
    );
    Ok(Exit::Done)
}

async fn proposal_record(store: &Store, proposal_id: &str) -> Result<ProposalRecord> {
    store
        .proposal(proposal_id)
        .await
        .context("reading the proposal")?
        .ok_or_else(|| bad_input(format!("proposal {proposal_id} not found")))
}

/// What `apply` applies: a stored proposal or a decisions file, with its scope and inputs.
struct Source {
    /// True for a decisions file applied without a proposal (four-eyes off).
    direct: bool,
    /// True when the proposal asked for a second operator's approval.
    four_eyes: bool,
    operators: Operators,
    scope: ManualScope,
    decisions: DecisionsFile,
    statements: PathBuf,
    moves: PathBuf,
    /// The inputs' blake3 the proposal was validated against.
    expected_inputs: Option<Vec<recon_store::RunInput>>,
}

/// The stored proposal to apply, checked: four-eyes approval, not applied yet, same configuration.
fn source_of_proposal(
    record: ProposalRecord,
    args: &ApplyArgs,
    settings: &Settings,
    applied_by: &str,
) -> Result<Source> {
    let proposal = &record.proposal;
    let id = proposal.proposal_id.as_str();
    if record.status == ProposalStatus::Applied {
        let run = record.applied_run_id.as_deref().unwrap_or("?");
        return Err(bad_input(format!("proposal {id} is already applied (run {run}); a decision set is applied once")));
    }
    if (proposal.four_eyes || settings.four_eyes) && record.status != ProposalStatus::Approved {
        return Err(four_eyes_refusal(format!(
            "proposal {id} is {} and four-eyes requires the approval of an operator other than {} before it is applied: \
             `recon manual approve {id} --operator NAME`",
            record.status, proposal.proposed_by
        )));
    }
    if proposal.config_blake3 != settings.blake3 {
        return Err(bad_input(format!(
            "the configuration {} (blake3 {}) is not the one proposal {id} was validated with (blake3 {}); apply it \
             with that configuration, or propose the decisions again",
            args.config.display(),
            &settings.blake3[..16],
            &proposal.config_blake3[..16.min(proposal.config_blake3.len())]
        )));
    }
    let stored_text = DecisionsFile::from_text(proposal.decisions_file.clone(), proposal.decisions_text.clone());
    if stored_text.record.blake3 != proposal.decisions_blake3 {
        anyhow::bail!("proposal {id}: the stored decisions do not hash to the stored blake3; the store was altered");
    }
    let input_path = |given: &Option<PathBuf>, index: usize, flag: &str| -> Result<PathBuf> {
        match (given, proposal.inputs.get(index)) {
            (Some(path), _) => Ok(path.clone()),
            (None, Some(input)) => Ok(PathBuf::from(&input.path)),
            (None, None) => Err(bad_input(format!("proposal {id} names no input; give {flag}"))),
        }
    };
    let range = DateRange { from: proposal.scope.date_from, to: proposal.scope.date_to };
    Ok(Source {
        scope: manual_plan::manual_scope(settings, range, &proposal.scope.accounts)?,
        statements: input_path(&args.statements, 0, "--statements")?,
        moves: input_path(&args.moves, 1, "--moves")?,
        expected_inputs: Some(proposal.inputs.clone()),
        decisions: stored_text,
        operators: Operators {
            proposal_id: id.to_owned(),
            proposed_by: proposal.proposed_by.clone(),
            proposed_at: proposal.proposed_at,
            proposal_note: proposal.proposal_note.clone(),
            approved_by: record.approved_by.clone(),
            approved_at: record.approved_at,
            approval_note: record.approval_note.clone(),
            applied_by: applied_by.to_owned(),
        },
        direct: false,
        four_eyes: proposal.four_eyes,
    })
}

/// A decisions file applied directly: only when the configuration does not ask for four-eyes.
fn source_of_file(path: &Path, args: &ApplyArgs, settings: &Settings, applied_by: &str) -> Result<Source> {
    if settings.four_eyes {
        return Err(four_eyes_refusal(format!(
            "the configuration {} asks for four-eyes ([manual] four_eyes = true): a decisions file is not applied \
             directly; `recon manual propose` it, have another operator `approve` it, then `apply` the proposal",
            args.config.display()
        )));
    }
    let required = |value: Option<NaiveDate>, flag: &str| {
        value.ok_or_else(|| bad_input(format!("{flag} is required with --decisions")))
    };
    let range = DateRange { from: required(args.from, "--from")?, to: required(args.to, "--to")? };
    let path_of = |value: &Option<PathBuf>, flag: &str| {
        value.clone().ok_or_else(|| bad_input(format!("{flag} is required with --decisions")))
    };
    let now = Utc::now();
    Ok(Source {
        direct: true,
        four_eyes: false,
        operators: Operators {
            proposal_id: new_id("P", now),
            proposed_by: applied_by.to_owned(),
            proposed_at: now,
            proposal_note: args.note.clone(),
            approved_by: None,
            approved_at: None,
            approval_note: None,
            applied_by: applied_by.to_owned(),
        },
        scope: manual_plan::manual_scope(settings, range, &args.account)?,
        decisions: DecisionsFile::read(path)?,
        statements: path_of(&args.statements, "--statements")?,
        moves: path_of(&args.moves, "--moves")?,
        expected_inputs: None,
    })
}

/// Refuses inputs that are not the ones the proposal was validated against.
fn check_inputs(expected: &[recon_store::RunInput], actual: &[recon_store::RunInput], proposal_id: &str) -> Result<()> {
    for input in actual {
        let Some(proposed) = expected.iter().find(|e| e.name == input.name) else { continue };
        if proposed.blake3 != input.blake3 {
            return Err(bad_input(format!(
                "input {} ({}) has blake3 {} but proposal {proposal_id} was validated against {} (blake3 {}): the \
                 inputs changed; propose the decisions again against the current inputs",
                input.name,
                input.path,
                &input.blake3[..16],
                proposed.path,
                &proposed.blake3[..16.min(proposed.blake3.len())]
            )));
        }
    }
    Ok(())
}

/// `recon manual apply`.
async fn apply(args: &ApplyArgs, store_url: &str) -> Result<Exit> {
    let settings = config::load(&args.config)?;
    let applied_by = operator_name(&args.operator)?;
    let store = open_existing_store(store_url).await?;
    let source = match (&args.proposal_id, &args.decisions) {
        (Some(id), _) => source_of_proposal(proposal_record(&store, id).await?, args, &settings, &applied_by)?,
        (None, Some(path)) => source_of_file(path, args, &settings, &applied_by)?,
        (None, None) => return Err(bad_input("give a proposal id, or --decisions FILE")),
    };
    let started_at = Utc::now();
    let run_id = new_id("R", started_at);
    let lock_scope =
        format!("manual run {run_id} of {} for {} by {applied_by}", source.operators.proposal_id, source.scope.range);
    let lock = store
        .try_lock(&lock_scope)
        .await
        .with_context(|| format!("taking the run lock of {}", redact_url(store_url)))?;
    let inputs = manual_plan::read_inputs(&settings, &source.statements, &source.moves)?;
    if let Some(expected) = &source.expected_inputs {
        check_inputs(expected, &inputs.run_inputs, &source.operators.proposal_id)?;
    }
    let plan = plan_for(&settings, &source.scope, &source.decisions, inputs, &store, "applied").await?;
    let preview = Preview::new(&plan, &settings, &source.decisions.record);
    let text = manual_report::dry_run_text(&preview);
    // Before anything is written: an operator who cannot see the preview applies nothing.
    stdout::write_before_commit(&text)?;
    let identity = RunIdentity { run_id: run_id.clone(), started_at, finished_at: Utc::now() };
    let proposal = if source.direct {
        ManualProposal::New(Box::new(direct_proposal(&source, &settings, &plan, &preview, &text)?))
    } else {
        ManualProposal::Existing { proposal_id: source.operators.proposal_id.clone() }
    };
    let report_path = args.report_dir.join(format!("manual-{run_id}.md"));
    let report_context = ReportContext {
        run_id: &run_id,
        applied_at: identity.finished_at,
        operators: &source.operators,
        four_eyes: source.four_eyes,
    };
    let markdown = manual_report::markdown(&preview, &report_context, &settings);
    let writes = manual_plan::writes(&plan, &settings, &identity, &source.operators, &source.decisions.record)?;
    let manual_apply = ManualApply {
        proposal,
        applied_by: applied_by.clone(),
        report_path: Some(report_path.display().to_string()),
        report_markdown: markdown.clone(),
        case_transitions: writes.transitions,
        withdrawn_match_ids: writes.withdrawn_match_ids,
    };
    let summary = store
        .write_manual_run(&writes.run, &manual_apply)
        .await
        .with_context(|| format!("writing manual run {run_id} to {}", redact_url(store_url)))?;
    crate::run::release_after_commit(lock, &format!("manual run {run_id}")).await;
    write_report(&report_path, &markdown, &source.operators.proposal_id)?;
    let (matches, ignores) = count_decisions(&plan);
    stdout::write_done(
        &format!(
            "\nApplied {} as manual run {run_id}: {matches} manual match(es), {ignores} ignored line(s); cases {} resolved, \
             {} ignored, {} reopened, {} opened; ignore dispositions withdrawn {}.\nReport: {}\n",
            source.operators.proposal_id,
            summary.cases_resolved,
            summary.cases_ignored,
            summary.cases_reopened,
            summary.run.cases_opened,
            summary.matches_withdrawn,
            report_path.display()
        ),
        &format!("manual run {run_id} is committed"),
        &format!("its report is {}", report_path.display()),
    );
    tracing::info!(run_id = %run_id, proposal_id = %source.operators.proposal_id, ?summary, "manual run applied");
    Ok(Exit::Done)
}

fn count_decisions(plan: &Plan) -> (usize, usize) {
    let decisions = &plan.validated.decisions;
    let matches = decisions.iter().filter(|d| matches!(d.kind, DecisionKind::Match(_))).count();
    let ignores = decisions.iter().filter(|d| matches!(d.kind, DecisionKind::Ignore(_))).count();
    (matches, ignores)
}

/// The record of a decision set applied without a proposal (four-eyes off).
fn direct_proposal(
    source: &Source,
    settings: &Settings,
    plan: &Plan,
    preview: &Preview,
    text: &str,
) -> Result<ProposalWrite> {
    let operators = &source.operators;
    Ok(ProposalWrite {
        proposal_id: operators.proposal_id.clone(),
        four_eyes: false,
        scope: recon_store::RunScope {
            accounts: source.scope.accounts.clone(),
            date_from: source.scope.range.from,
            date_to: source.scope.range.to,
        },
        decisions_file: source.decisions.record.file.clone(),
        decisions_text: source.decisions.text.clone(),
        decisions_blake3: source.decisions.record.blake3.clone(),
        inputs: plan.run_inputs.clone(),
        config_blake3: settings.blake3.clone(),
        preview: json!({ "text": text, "summary": serde_json::to_value(preview).context("serializing the dry run")? }),
        proposed_by: operators.proposed_by.clone(),
        proposed_at: operators.proposed_at,
        proposal_note: operators.proposal_note.clone(),
    })
}

/// Writes the report file (its text is in the store already: `recon manual show ID --report`).
fn write_report(path: &Path, markdown: &str, proposal_id: &str) -> Result<()> {
    let written = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, markdown));
    written.with_context(|| {
        format!(
            "the manual run is applied, but its report could not be written to {}; its text is stored: \
             `recon manual show {proposal_id} --report`",
            path.display()
        )
    })
}

/// `recon manual list`.
async fn list(args: &ListArgs, store_url: &str) -> Result<Exit> {
    let store = open_existing_store(store_url).await?;
    let status = args.status.map(|s| match s {
        ProposalStatusArg::Proposed => ProposalStatus::Proposed,
        ProposalStatusArg::Approved => ProposalStatus::Approved,
        ProposalStatusArg::Applied => ProposalStatus::Applied,
    });
    let proposals = store.proposals(&ProposalFilter { status, limit: None }).await.context("listing proposals")?;
    if args.json {
        stdout::write(&(serde_json::to_string_pretty(&proposals).context("serializing proposals")? + "\n"))?;
        return Ok(Exit::Done);
    }
    let mut table = TextTable::new(&[
        "PROPOSAL",
        "STATUS",
        "PROPOSED BY",
        "PROPOSED AT",
        "APPROVED BY",
        "RUN",
        "DATES",
        "DECISIONS",
    ]);
    for record in &proposals {
        let proposal = &record.proposal;
        table.row(vec![
            proposal.proposal_id.clone(),
            record.status.to_string(),
            proposal.proposed_by.clone(),
            proposal.proposed_at.format("%Y-%m-%d %H:%M").to_string(),
            record.approved_by.clone().unwrap_or_default(),
            record.applied_run_id.clone().unwrap_or_default(),
            format!("{} .. {}", proposal.scope.date_from, proposal.scope.date_to),
            proposal.decisions_file.clone(),
        ]);
    }
    stdout::write(&format!("{}{} proposal(s)\n", table.render(0), proposals.len()))?;
    Ok(Exit::Done)
}

/// `recon manual show`.
async fn show(args: &ShowArgs, store_url: &str) -> Result<Exit> {
    let store = open_existing_store(store_url).await?;
    let record = proposal_record(&store, &args.proposal_id).await?;
    if args.json {
        stdout::write(&(serde_json::to_string_pretty(&record).context("serializing the proposal")? + "\n"))?;
        return Ok(Exit::Done);
    }
    if args.report {
        let report = record
            .report_markdown
            .as_deref()
            .ok_or_else(|| bad_input(format!("proposal {} is {}: no report yet", args.proposal_id, record.status)))?;
        stdout::write(report)?;
        return Ok(Exit::Done);
    }
    stdout::write(&render_record(&record))?;
    Ok(Exit::Done)
}

fn render_record(record: &ProposalRecord) -> String {
    use std::fmt::Write as _;
    let proposal = &record.proposal;
    let when = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}  four-eyes {}",
        proposal.proposal_id,
        record.status,
        if proposal.four_eyes { "on" } else { "off" }
    );
    let _ = writeln!(
        out,
        "proposed by {} at {}{}",
        proposal.proposed_by,
        when(proposal.proposed_at),
        proposal.proposal_note.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
    );
    if let (Some(by), Some(at)) = (&record.approved_by, record.approved_at) {
        let note = record.approval_note.as_deref().map(|n| format!(": {n}")).unwrap_or_default();
        let _ = writeln!(out, "approved by {by} at {}{note}", when(at));
    }
    if let (Some(by), Some(at), Some(run)) = (&record.applied_by, record.applied_at, &record.applied_run_id) {
        let path = record.report_path.as_deref().unwrap_or("-");
        let _ = writeln!(out, "applied by {by} at {} as run {run}; report {path}", when(at));
    }
    let _ = writeln!(
        out,
        "scope: accounts {}; business dates {} .. {}; configuration blake3 {}",
        proposal.scope.accounts.join(", "),
        proposal.scope.date_from,
        proposal.scope.date_to,
        proposal.config_blake3
    );
    for input in &proposal.inputs {
        let _ = writeln!(out, "  {:<6} {}  {} rows  blake3 {}", input.name, input.path, input.rows, input.blake3);
    }
    let _ = writeln!(
        out,
        "\nDecisions file {} (blake3 {})\n{}",
        proposal.decisions_file, proposal.decisions_blake3, proposal.decisions_text
    );
    if let Some(text) = proposal.preview.get("text").and_then(|t| t.as_str()) {
        let _ = writeln!(out, "Dry run when proposed\n{text}");
    }
    out
}
