//! Manual controlled runs: proposals (a decision set, who proposed and approved it), and the one
//! transaction that applies it.
//!
//! A proposal is `proposed`, then (with four-eyes) `approved` by a different operator, then `applied`
//! once, by the run it produced. [`Store::write_manual_run`] writes that run exactly as
//! [`Store::write_run`] does (its manual matches are ordinary [`MatchWrite`]s with review `manual`),
//! then, in the same transaction, withdraws the ignore dispositions a reopen undoes, moves the cases
//! the decisions touch, and marks the proposal applied (or records it, already applied, when no
//! approval was required). Nothing of it is visible until all of it is.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::codec::{from_json, instant, parse_instant, parse_opt_instant, to_json};
use crate::db::{Conn, DbRow, Param, Sql};
use crate::error::StoreError;
use crate::model::{CaseEventKind, CaseFilter, CaseItemRef, CaseRecord, CaseStatus, RunHeader, RunInput, RunMode};
use crate::model::{RunScope, RunWrite, RunWriteSummary};
use crate::read::case_item_from_row;
use crate::store::Store;
use crate::write::{insert_events, validate_run, write_all};

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Stored, waiting for a second operator's approval.
    Proposed,
    /// Approved by a second operator; ready to apply.
    Approved,
    /// Applied by a manual run (see [`ProposalRecord::applied_run_id`]).
    Applied,
}

impl ProposalStatus {
    /// The text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalStatus::Proposed => "proposed",
            ProposalStatus::Approved => "approved",
            ProposalStatus::Applied => "applied",
        }
    }

    fn from_db(value: &str) -> Result<ProposalStatus, StoreError> {
        match value {
            "proposed" => Ok(ProposalStatus::Proposed),
            "approved" => Ok(ProposalStatus::Approved),
            "applied" => Ok(ProposalStatus::Applied),
            _ => Err(crate::codec::corrupt("manual_proposals", "status", value)),
        }
    }
}

impl std::fmt::Display for ProposalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision set as proposed: what was decided, against which inputs, by whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalWrite {
    /// Unique id given by the caller (`P-...`).
    pub proposal_id: String,
    /// True when the configuration required a second operator's approval.
    pub four_eyes: bool,
    /// Accounts and business dates the decisions may touch.
    pub scope: RunScope,
    /// The decisions file as named by the proposer.
    pub decisions_file: String,
    /// The decisions file's text, as validated.
    pub decisions_text: String,
    /// BLAKE3 of the decisions file's bytes, hex.
    pub decisions_blake3: String,
    /// The input files validated against, with their BLAKE3.
    pub inputs: Vec<RunInput>,
    /// BLAKE3 of the configuration file, hex.
    pub config_blake3: String,
    /// The dry run shown to the proposer (and later to the approver), opaque JSON.
    pub preview: serde_json::Value,
    /// Who proposed it.
    pub proposed_by: String,
    /// When.
    pub proposed_at: DateTime<Utc>,
    /// The proposer's note.
    pub proposal_note: Option<String>,
}

/// A proposal as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposalRecord {
    /// What was proposed.
    #[serde(flatten)]
    pub proposal: ProposalWrite,
    /// Where it stands.
    pub status: ProposalStatus,
    /// Who approved it, if anyone did.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<DateTime<Utc>>,
    /// The approver's note.
    pub approval_note: Option<String>,
    /// Who applied it.
    pub applied_by: Option<String>,
    /// When.
    pub applied_at: Option<DateTime<Utc>>,
    /// The manual run that applied it.
    pub applied_run_id: Option<String>,
    /// Where the Markdown report was written.
    pub report_path: Option<String>,
    /// The Markdown report's text.
    pub report_markdown: Option<String>,
}

/// A second operator approving a proposal, for [`Store::approve_proposal`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalApproval {
    /// The proposal.
    pub proposal_id: String,
    /// Who approves it: never the proposer.
    pub approved_by: String,
    /// When.
    pub approved_at: DateTime<Utc>,
    /// The approver's note.
    pub note: Option<String>,
}

/// Which proposals to list. The default lists all, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalFilter {
    /// Only proposals with this status.
    pub status: Option<ProposalStatus>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// A case and its items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseWithItems {
    /// The case.
    #[serde(flatten)]
    pub case: CaseRecord,
    /// Its items, ordered by side then id.
    pub items: Vec<CaseItemRef>,
}

/// A case a manual decision moves: closed as resolved or ignored, or reopened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTransition {
    /// The case.
    pub case_id: String,
    /// `resolved`, `ignored` or `open` (a reopen).
    pub to: CaseStatus,
    /// Who decided (recorded as `resolved_by` and on the event).
    pub operator: String,
    /// What was done, for closures (recorded as the corrective action).
    pub corrective_action: Option<String>,
    /// The event's note: decision, reason, proposal.
    pub note: String,
}

/// Which proposal a manual run applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ManualProposal {
    /// A stored proposal: approved when it asked for four-eyes, else proposed or approved.
    Existing {
        /// Its id.
        proposal_id: String,
    },
    /// A decision set applied directly (no approval required): recorded as applied.
    New(Box<ProposalWrite>),
}

/// What a manual run writes besides the run itself, for [`Store::write_manual_run`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManualApply {
    /// The proposal applied.
    pub proposal: ManualProposal,
    /// Who applies it.
    pub applied_by: String,
    /// Where the Markdown report is written.
    pub report_path: Option<String>,
    /// The Markdown report's text.
    pub report_markdown: String,
    /// Cases to close or reopen, at most one transition per case.
    pub case_transitions: Vec<CaseTransition>,
    /// Active manual matches (ignore dispositions) a reopen withdraws: they become superseded.
    pub withdrawn_match_ids: Vec<String>,
}

/// What [`Store::write_manual_run`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ManualApplySummary {
    /// The run's own write.
    pub run: RunWriteSummary,
    /// Cases closed as resolved by a decision.
    pub cases_resolved: u64,
    /// Cases closed as ignored by a decision.
    pub cases_ignored: u64,
    /// Cases reopened by a decision.
    pub cases_reopened: u64,
    /// Manual matches withdrawn.
    pub matches_withdrawn: u64,
}

const OP: &str = "write_manual_run";

impl Store {
    /// Stores a new proposal (status `proposed`).
    pub async fn create_proposal(&self, proposal: &ProposalWrite) -> Result<(), StoreError> {
        const OP_CREATE: &str = "create_proposal";
        validate_proposal(proposal, OP_CREATE)?;
        let id = proposal.proposal_id.as_str();
        let mut tx = self.begin(OP_CREATE, id).await?;
        insert_proposal(&mut tx.conn(), proposal, ProposalStatus::Proposed, None, OP_CREATE).await?;
        tx.commit().await.map_err(StoreError::db("create_proposal: commit", id))?;
        tracing::info!(proposal_id = id, proposed_by = %proposal.proposed_by, "proposal stored");
        Ok(())
    }

    /// Approves a `proposed` proposal. Fails with [`StoreError::ProposalNotFound`],
    /// [`StoreError::ProposalStatus`], or [`StoreError::SelfApproval`] when the approver is the
    /// proposer (names compared trimmed and case-insensitively).
    pub async fn approve_proposal(&self, approval: &ProposalApproval) -> Result<(), StoreError> {
        const OP_APPROVE: &str = "approve_proposal";
        let id = approval.proposal_id.as_str();
        if approval.approved_by.trim().is_empty() {
            return Err(StoreError::invalid(OP_APPROVE, format!("proposal {id}"), "approver is empty"));
        }
        let mut tx = self.begin(OP_APPROVE, id).await?;
        {
            let mut conn = tx.conn();
            let (status, _, proposed_by) = proposal_state(&mut conn, id, OP_APPROVE).await?;
            if status != ProposalStatus::Proposed {
                return Err(status_error(id, status, "only a proposed decision set can be approved"));
            }
            if same_operator(&proposed_by, &approval.approved_by) {
                return Err(StoreError::SelfApproval { proposal_id: id.to_owned(), operator: proposed_by });
            }
            let mut sql = Sql::new("UPDATE manual_proposals SET status = 'approved'");
            sql.push_bind(", approved_by = ", approval.approved_by.trim())
                .push_bind(", approved_at = ", instant(approval.approved_at))
                .push_bind(", approval_note = ", approval.note.clone())
                .push_bind(" WHERE status = 'proposed' AND proposal_id = ", id);
            conn.execute(&sql.text, sql.params).await.map_err(StoreError::db(OP_APPROVE, id))?;
        }
        tx.commit().await.map_err(StoreError::db("approve_proposal: commit", id))?;
        tracing::info!(proposal_id = id, approved_by = %approval.approved_by, "proposal approved");
        Ok(())
    }

    /// Proposals matching `filter`, newest first.
    pub async fn proposals(&self, filter: &ProposalFilter) -> Result<Vec<ProposalRecord>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM manual_proposals WHERE 1 = 1");
        if let Some(status) = filter.status {
            sql.push_bind(" AND status = ", status.as_str());
        }
        sql.push(" ORDER BY proposed_at DESC, proposal_id DESC");
        if let Some(limit) = filter.limit {
            sql.push_bind(" LIMIT ", i64::from(limit));
        }
        let rows = self.fetch("proposals", &format!("{filter:?}"), sql).await?;
        rows.iter().map(proposal_from_row).collect()
    }

    /// One proposal, or `None` if no proposal has this id.
    pub async fn proposal(&self, proposal_id: &str) -> Result<Option<ProposalRecord>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM manual_proposals WHERE ");
        sql.push_bind("proposal_id = ", proposal_id);
        let rows = self.fetch("proposal", proposal_id, sql).await?;
        rows.first().map(proposal_from_row).transpose()
    }

    /// Cases matching `filter` with their items, ordered by case id.
    pub async fn cases_with_items(&self, filter: &CaseFilter) -> Result<Vec<CaseWithItems>, StoreError> {
        let cases = self.cases(filter).await?;
        let mut sql = Sql::new("SELECT ci.* FROM case_items ci JOIN cases c ON c.case_id = ci.case_id WHERE 1 = 1");
        if let Some(status) = filter.status {
            sql.push_bind(" AND c.status = ", status.as_str());
        }
        if let Some(kind) = &filter.kind {
            sql.push_bind(" AND c.kind = ", kind);
        }
        if let Some(account) = &filter.account {
            sql.push_bind(" AND c.account = ", account);
        }
        if let Some(from) = filter.date_from {
            sql.push_bind(" AND c.business_date >= ", crate::codec::date(from));
        }
        if let Some(to) = filter.date_to {
            sql.push_bind(" AND c.business_date <= ", crate::codec::date(to));
        }
        sql.push(" ORDER BY ci.case_id, ci.side, ci.item_id");
        let mut items: std::collections::HashMap<String, Vec<CaseItemRef>> = std::collections::HashMap::new();
        for row in self.fetch("cases_with_items", &format!("{filter:?}"), sql).await? {
            items.entry(row.text("case_id")?).or_default().push(case_item_from_row(&row)?);
        }
        Ok(cases
            .into_iter()
            .map(|case| CaseWithItems { items: items.remove(&case.case_id).unwrap_or_default(), case })
            .collect())
    }

    /// Writes a manual run and what it applies, in one transaction (all or nothing): the run as
    /// [`Store::write_run`] writes it (its manual matches included), then the withdrawn ignore
    /// dispositions (superseded by the run), then the case transitions, then the proposal, marked
    /// applied with the run's id and the report's text.
    ///
    /// A transition closes an open case (or one this very run auto-resolved, which it then
    /// attributes to the operator) or reopens a resolved or ignored one (or attributes the reopen
    /// the run itself made). Anything else is refused and nothing is written: the caller validated
    /// the decisions against a store that cannot have changed under the run lock.
    pub async fn write_manual_run(
        &self,
        run: &RunWrite,
        apply: &ManualApply,
    ) -> Result<ManualApplySummary, StoreError> {
        let validated = validate_run(run)?;
        validate_apply(run, apply)?;
        let run_id = run.header.run_id.as_str();
        let mut tx = self.begin(OP, run_id).await?;
        let summary = {
            let mut conn = tx.conn();
            let allowed = check_proposal(&mut conn, &apply.proposal).await?;
            let mut summary = ManualApplySummary { run: write_all(&mut conn, &validated).await?, ..Default::default() };
            summary.matches_withdrawn = withdraw_matches(&mut conn, &run.header, &apply.withdrawn_match_ids).await?;
            for transition in &apply.case_transitions {
                match apply_transition(&mut conn, &run.header, transition).await? {
                    CaseStatus::Resolved => summary.cases_resolved += 1,
                    CaseStatus::Ignored => summary.cases_ignored += 1,
                    CaseStatus::Open => summary.cases_reopened += 1,
                }
            }
            record_applied(&mut conn, &run.header, apply, &allowed).await?;
            summary
        };
        tx.commit().await.map_err(StoreError::db("write_manual_run: commit", run_id))?;
        tracing::info!(run_id, ?summary, "manual run written");
        Ok(summary)
    }
}

fn same_operator(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

fn status_error(proposal_id: &str, status: ProposalStatus, expected: &str) -> StoreError {
    StoreError::ProposalStatus {
        proposal_id: proposal_id.to_owned(),
        status: status.as_str().to_owned(),
        expected: expected.to_owned(),
    }
}

fn validate_proposal(proposal: &ProposalWrite, operation: &'static str) -> Result<(), StoreError> {
    let context = format!("proposal {}", proposal.proposal_id);
    if proposal.proposal_id.trim().is_empty() {
        return Err(StoreError::invalid(operation, "proposal", "proposal_id is empty"));
    }
    if proposal.proposed_by.trim().is_empty() {
        return Err(StoreError::invalid(operation, context, "proposed_by is empty"));
    }
    if proposal.scope.date_from > proposal.scope.date_to {
        return Err(StoreError::invalid(operation, context, "scope date_from is after date_to"));
    }
    Ok(())
}

fn validate_apply(run: &RunWrite, apply: &ManualApply) -> Result<(), StoreError> {
    let context = format!("run {}", run.header.run_id);
    if run.header.mode != RunMode::Manual {
        return Err(StoreError::invalid(OP, context, "a manual run must have mode manual"));
    }
    if apply.applied_by.trim().is_empty() {
        return Err(StoreError::invalid(OP, context, "applied_by is empty"));
    }
    if let ManualProposal::New(proposal) = &apply.proposal {
        validate_proposal(proposal, OP)?;
    }
    let mut seen = std::collections::HashSet::new();
    for transition in &apply.case_transitions {
        if !seen.insert(transition.case_id.as_str()) {
            return Err(StoreError::invalid(OP, format!("{context}, case {}", transition.case_id), "two transitions"));
        }
    }
    Ok(())
}

/// The status, four-eyes flag and proposer of a proposal.
async fn proposal_state(
    conn: &mut Conn<'_>,
    proposal_id: &str,
    operation: &'static str,
) -> Result<(ProposalStatus, bool, String), StoreError> {
    let rows = conn
        .fetch_all(
            "SELECT status, four_eyes, proposed_by FROM manual_proposals WHERE proposal_id = $1",
            vec![proposal_id.into()],
        )
        .await
        .map_err(StoreError::db(operation, proposal_id))?;
    let row = rows.first().ok_or_else(|| StoreError::ProposalNotFound { proposal_id: proposal_id.to_owned() })?;
    Ok((ProposalStatus::from_db(&row.text("status")?)?, row.int("four_eyes")? != 0, row.text("proposed_by")?))
}

/// Checks that a stored proposal may be applied; returns the statuses it may be applied from.
async fn check_proposal(conn: &mut Conn<'_>, proposal: &ManualProposal) -> Result<Vec<ProposalStatus>, StoreError> {
    let ManualProposal::Existing { proposal_id } = proposal else {
        return Ok(Vec::new());
    };
    let (status, four_eyes, _) = proposal_state(conn, proposal_id, OP).await?;
    let allowed = if four_eyes {
        vec![ProposalStatus::Approved]
    } else {
        vec![ProposalStatus::Proposed, ProposalStatus::Approved]
    };
    if !allowed.contains(&status) {
        let expected = if status == ProposalStatus::Applied {
            "a decision set is applied once"
        } else {
            "four-eyes: it must be approved by a second operator before it is applied"
        };
        return Err(status_error(proposal_id, status, expected));
    }
    Ok(allowed)
}

/// Supersedes the active manual matches a reopen withdraws.
async fn withdraw_matches(conn: &mut Conn<'_>, header: &RunHeader, match_ids: &[String]) -> Result<u64, StoreError> {
    if match_ids.is_empty() {
        return Ok(0);
    }
    let run_id = header.run_id.as_str();
    let mut sql = Sql::new("UPDATE matches SET status = 'superseded'");
    sql.push_bind(", superseded_by_run_id = ", run_id)
        .push(" WHERE status = 'active' AND review = 'manual' AND match_id IN ")
        .push_in_list(match_ids.iter());
    let withdrawn = conn
        .execute(&sql.text, sql.params)
        .await
        .map_err(StoreError::db("write_manual_run: withdraw matches", run_id))?;
    if withdrawn != match_ids.len() as u64 {
        return Err(StoreError::invalid(
            OP,
            format!("run {run_id}"),
            format!(
                "{} of the manual matches to withdraw are not active: {match_ids:?}",
                match_ids.len() as u64 - withdrawn
            ),
        ));
    }
    Ok(withdrawn)
}

/// Moves one case; returns the status it ends in.
async fn apply_transition(
    conn: &mut Conn<'_>,
    header: &RunHeader,
    transition: &CaseTransition,
) -> Result<CaseStatus, StoreError> {
    let case_id = transition.case_id.as_str();
    let run_id = header.run_id.as_str();
    let rows = conn
        .fetch_all("SELECT status, resolved_by_run_id FROM cases WHERE case_id = $1", vec![case_id.into()])
        .await
        .map_err(StoreError::db("write_manual_run: read case", case_id))?;
    let row = rows.first().ok_or_else(|| StoreError::CaseNotFound { case_id: case_id.to_owned() })?;
    let status = CaseStatus::from_db(&row.text("status")?)?;
    let closed_by_this_run = row.opt_text("resolved_by_run_id")?.as_deref() == Some(run_id);
    match (transition.to, status) {
        (CaseStatus::Resolved | CaseStatus::Ignored, CaseStatus::Open) => close(conn, header, transition).await?,
        (CaseStatus::Resolved | CaseStatus::Ignored, CaseStatus::Resolved) if closed_by_this_run => {
            attribute_closure(conn, header, transition).await?;
        }
        (CaseStatus::Open, CaseStatus::Resolved | CaseStatus::Ignored) => reopen(conn, header, transition).await?,
        (CaseStatus::Open, CaseStatus::Open) => {
            // Reopened by this very run (it found the exception again): the event names the operator.
            if attribute_event(conn, header, transition, CaseEventKind::Reopened, CaseEventKind::Reopened).await? == 0 {
                return Err(StoreError::CaseNotOpen { case_id: case_id.to_owned(), status: "open".to_owned() });
            }
        }
        (_, status) => {
            return Err(StoreError::invalid(
                OP,
                format!("run {run_id}, case {case_id}"),
                format!("the case is {status}; a decision cannot make it {}", transition.to),
            ));
        }
    }
    Ok(transition.to)
}

fn event_of(status: CaseStatus) -> CaseEventKind {
    match status {
        CaseStatus::Open => CaseEventKind::Reopened,
        CaseStatus::Resolved => CaseEventKind::Resolved,
        CaseStatus::Ignored => CaseEventKind::Ignored,
    }
}

fn event<'a>(header: &RunHeader, transition: &'a CaseTransition) -> Vec<Param<'a>> {
    vec![
        transition.case_id.as_str().into(),
        Some(header.run_id.clone()).into(),
        instant(header.finished_at).into(),
        event_of(transition.to).as_str().into(),
        Some(transition.operator.clone()).into(),
        Some(transition.note.clone()).into(),
    ]
}

async fn close(conn: &mut Conn<'_>, header: &RunHeader, transition: &CaseTransition) -> Result<(), StoreError> {
    let case_id = transition.case_id.as_str();
    let mut sql = Sql::new("UPDATE cases SET ");
    sql.push_bind("status = ", transition.to.as_str())
        .push_bind(", resolved_at = ", instant(header.finished_at))
        .push_bind(", resolved_by_run_id = ", header.run_id.as_str())
        .push_bind(", resolved_by = ", transition.operator.as_str())
        .push_bind(", corrective_action = ", transition.corrective_action.clone())
        .push(", prevention = NULL WHERE status = 'open'")
        .push_bind(" AND case_id = ", case_id);
    conn.execute(&sql.text, sql.params).await.map_err(StoreError::db("write_manual_run: close case", case_id))?;
    insert_events(conn, vec![event(header, transition)])
        .await
        .map_err(StoreError::db("write_manual_run: insert case event", case_id))?;
    Ok(())
}

/// The run auto-resolved the case (all its items are matched now): the closure is the decision's.
async fn attribute_closure(
    conn: &mut Conn<'_>,
    header: &RunHeader,
    transition: &CaseTransition,
) -> Result<(), StoreError> {
    let case_id = transition.case_id.as_str();
    let mut sql = Sql::new("UPDATE cases SET ");
    sql.push_bind("status = ", transition.to.as_str())
        .push_bind(", resolved_by = ", transition.operator.as_str())
        .push_bind(", corrective_action = ", transition.corrective_action.clone())
        .push_bind(" WHERE case_id = ", case_id);
    conn.execute(&sql.text, sql.params).await.map_err(StoreError::db("write_manual_run: attribute case", case_id))?;
    attribute_event(conn, header, transition, CaseEventKind::Resolved, event_of(transition.to)).await?;
    Ok(())
}

/// Rewrites this run's `from` event of the case as a `to` event by the operator; returns rows changed.
async fn attribute_event(
    conn: &mut Conn<'_>,
    header: &RunHeader,
    transition: &CaseTransition,
    from: CaseEventKind,
    to: CaseEventKind,
) -> Result<u64, StoreError> {
    let case_id = transition.case_id.as_str();
    let mut sql = Sql::new("UPDATE case_events SET ");
    sql.push_bind("event = ", to.as_str())
        .push_bind(", operator = ", transition.operator.as_str())
        .push_bind(", note = ", transition.note.as_str())
        .push_bind(" WHERE case_id = ", case_id)
        .push_bind(" AND run_id = ", header.run_id.as_str())
        .push_bind(" AND event = ", from.as_str());
    conn.execute(&sql.text, sql.params).await.map_err(StoreError::db("write_manual_run: attribute event", case_id))
}

async fn reopen(conn: &mut Conn<'_>, header: &RunHeader, transition: &CaseTransition) -> Result<(), StoreError> {
    let case_id = transition.case_id.as_str();
    conn.execute(
        "UPDATE cases SET status = 'open', resolved_at = NULL, resolved_by_run_id = NULL, resolved_by = NULL, \
         corrective_action = NULL, prevention = NULL WHERE case_id = $1",
        vec![case_id.into()],
    )
    .await
    .map_err(StoreError::db("write_manual_run: reopen case", case_id))?;
    insert_events(conn, vec![event(header, transition)])
        .await
        .map_err(StoreError::db("write_manual_run: insert case event", case_id))?;
    Ok(())
}

/// Marks a stored proposal applied, or records a direct one as applied.
async fn record_applied(
    conn: &mut Conn<'_>,
    header: &RunHeader,
    apply: &ManualApply,
    allowed: &[ProposalStatus],
) -> Result<(), StoreError> {
    let run_id = header.run_id.as_str();
    match &apply.proposal {
        ManualProposal::New(proposal) => {
            insert_proposal(conn, proposal, ProposalStatus::Applied, Some((header, apply)), OP).await
        }
        ManualProposal::Existing { proposal_id } => {
            let mut sql = Sql::new("UPDATE manual_proposals SET status = 'applied'");
            sql.push_bind(", applied_by = ", apply.applied_by.trim())
                .push_bind(", applied_at = ", instant(header.finished_at))
                .push_bind(", applied_run_id = ", run_id)
                .push_bind(", report_path = ", apply.report_path.clone())
                .push_bind(", report_markdown = ", apply.report_markdown.as_str())
                .push_bind(" WHERE proposal_id = ", proposal_id.as_str())
                .push(" AND status IN ")
                .push_in_list(allowed.iter().map(|s| s.as_str()));
            let changed = conn
                .execute(&sql.text, sql.params)
                .await
                .map_err(StoreError::db("write_manual_run: proposal", run_id))?;
            if changed != 1 {
                return Err(StoreError::invalid(OP, format!("proposal {proposal_id}"), "changed while being applied"));
            }
            Ok(())
        }
    }
}

async fn insert_proposal(
    conn: &mut Conn<'_>,
    proposal: &ProposalWrite,
    status: ProposalStatus,
    applied: Option<(&RunHeader, &ManualApply)>,
    operation: &'static str,
) -> Result<(), StoreError> {
    const HEAD: &str = "INSERT INTO manual_proposals (proposal_id, status, four_eyes, scope_json, decisions_file, \
        decisions_text, decisions_blake3, inputs_json, config_blake3, preview_json, proposed_by, proposed_at, \
        proposal_note, applied_by, applied_at, applied_run_id, report_path, report_markdown)";
    let id = proposal.proposal_id.as_str();
    let context = format!("proposal {id}");
    let row: Vec<Param> = vec![
        id.into(),
        status.as_str().into(),
        i64::from(proposal.four_eyes).into(),
        to_json(&proposal.scope, operation, &context)?.into(),
        proposal.decisions_file.as_str().into(),
        proposal.decisions_text.as_str().into(),
        proposal.decisions_blake3.as_str().into(),
        to_json(&proposal.inputs, operation, &context)?.into(),
        proposal.config_blake3.as_str().into(),
        to_json(&proposal.preview, operation, &context)?.into(),
        proposal.proposed_by.trim().into(),
        instant(proposal.proposed_at).into(),
        proposal.proposal_note.clone().into(),
        applied.map(|(_, apply)| apply.applied_by.trim().to_owned()).into(),
        applied.map(|(header, _)| instant(header.finished_at)).into(),
        applied.map(|(header, _)| header.run_id.clone()).into(),
        applied.and_then(|(_, apply)| apply.report_path.clone()).into(),
        applied.map(|(_, apply)| apply.report_markdown.clone()).into(),
    ];
    conn.insert_batched(HEAD, "", vec![row]).await.map_err(StoreError::db(operation, id))?;
    Ok(())
}

fn proposal_from_row(row: &DbRow) -> Result<ProposalRecord, StoreError> {
    const TABLE: &str = "manual_proposals";
    let proposal = ProposalWrite {
        proposal_id: row.text("proposal_id")?,
        four_eyes: row.int("four_eyes")? != 0,
        scope: from_json(&row.text("scope_json")?, TABLE, "scope_json")?,
        decisions_file: row.text("decisions_file")?,
        decisions_text: row.text("decisions_text")?,
        decisions_blake3: row.text("decisions_blake3")?,
        inputs: from_json(&row.text("inputs_json")?, TABLE, "inputs_json")?,
        config_blake3: row.text("config_blake3")?,
        preview: from_json(&row.text("preview_json")?, TABLE, "preview_json")?,
        proposed_by: row.text("proposed_by")?,
        proposed_at: parse_instant(&row.text("proposed_at")?, TABLE, "proposed_at")?,
        proposal_note: row.opt_text("proposal_note")?,
    };
    Ok(ProposalRecord {
        proposal,
        status: ProposalStatus::from_db(&row.text("status")?)?,
        approved_by: row.opt_text("approved_by")?,
        approved_at: parse_opt_instant(row.opt_text("approved_at")?, TABLE, "approved_at")?,
        approval_note: row.opt_text("approval_note")?,
        applied_by: row.opt_text("applied_by")?,
        applied_at: parse_opt_instant(row.opt_text("applied_at")?, TABLE, "applied_at")?,
        applied_run_id: row.opt_text("applied_run_id")?,
        report_path: row.opt_text("report_path")?,
        report_markdown: row.opt_text("report_markdown")?,
    })
}
