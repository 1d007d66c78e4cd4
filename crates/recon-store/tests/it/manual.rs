//! Manual controlled runs on every backend: proposals with four-eyes approval, and the one
//! transaction that writes a manual run, its case transitions and the applied proposal.

use chrono::Duration;
use recon_store::{
    CaseEventKind, CaseStatus, CaseTransition, ManualApply, ManualProposal, MatchFilter, MatchReview, MatchStatus,
    ProposalApproval, ProposalFilter, ProposalStatus, ProposalWrite, RunFilter, RunMode, RunScope, RunWrite, Store,
    StoreError,
};
use serde_json::json;

use crate::fixtures::{ACCOUNTS, at, day, matched, mv, night_one, stmt};

async fn open(url: &str) -> Store {
    Store::open(url).await.expect("store opens")
}

fn proposal(proposal_id: &str, four_eyes: bool) -> ProposalWrite {
    ProposalWrite {
        proposal_id: proposal_id.to_owned(),
        four_eyes,
        scope: RunScope {
            accounts: ACCOUNTS.iter().map(|a| (*a).to_owned()).collect(),
            date_from: day(1),
            date_to: day(31),
        },
        decisions_file: "decisions.csv".to_owned(),
        decisions_text: "action,statement_ids,move_line_ids,case_id,difference,reason\n".to_owned(),
        decisions_blake3: "ef".repeat(32),
        inputs: Vec::new(),
        config_blake3: "cd".repeat(32),
        preview: json!({"decisions": 1}),
        proposed_by: "ana".to_owned(),
        proposed_at: at(3),
        proposal_note: Some("ticket FIN-1".to_owned()),
    }
}

fn approval(proposal_id: &str, operator: &str) -> ProposalApproval {
    ProposalApproval {
        proposal_id: proposal_id.to_owned(),
        approved_by: operator.to_owned(),
        approved_at: at(3) + Duration::minutes(20),
        note: Some("checked against the bank portal".to_owned()),
    }
}

/// Night one as a manual run that also matches S3 with L9 by hand (both cases' items).
fn manual_run(run_id: &str, hour: u32) -> RunWrite {
    let mut run = night_one(run_id, hour);
    run.header.mode = RunMode::Manual;
    run.header.operator = "luis".to_owned();
    run.quarantine.clear();
    run.cases.clear();
    let mut by_hand = matched("MM-1", day(10), vec![stmt("S3"), mv("L9")]);
    by_hand.rule = "manual".to_owned();
    by_hand.review = MatchReview::Manual;
    run.matches.push(by_hand);
    run
}

fn transition(case_id: &str, to: CaseStatus) -> CaseTransition {
    CaseTransition {
        case_id: case_id.to_owned(),
        to,
        operator: "ana (approved by luis)".to_owned(),
        corrective_action: (to != CaseStatus::Open).then(|| "matched by hand".to_owned()),
        note: format!("decision for {case_id}"),
    }
}

fn apply(proposal: ManualProposal, transitions: Vec<CaseTransition>) -> ManualApply {
    ManualApply {
        proposal,
        applied_by: "luis".to_owned(),
        report_path: Some("reports/manual.md".to_owned()),
        report_markdown: "# Manual run\n".to_owned(),
        case_transitions: transitions,
        withdrawn_match_ids: Vec::new(),
    }
}

fn existing(proposal_id: &str) -> ManualProposal {
    ManualProposal::Existing { proposal_id: proposal_id.to_owned() }
}

pub async fn proposal_needs_a_second_operator(url: &str) {
    let store = open(url).await;
    store.write_run(&night_one("R1", 2)).await.expect("night");
    store.create_proposal(&proposal("P-1", true)).await.expect("proposal stored");

    // The proposer cannot approve, whatever the case of the name.
    match store.approve_proposal(&approval("P-1", " ANA ")).await {
        Err(StoreError::SelfApproval { proposal_id, operator }) => {
            assert_eq!((proposal_id.as_str(), operator.as_str()), ("P-1", "ana"))
        }
        other => panic!("self-approval must be refused, got {other:?}"),
    }
    // Not approved yet: it cannot be applied, and the failed apply leaves nothing behind.
    let refused = store.write_manual_run(&manual_run("R2", 4), &apply(existing("P-1"), Vec::new())).await;
    assert!(
        matches!(refused, Err(StoreError::ProposalStatus { ref status, .. }) if status == "proposed"),
        "{refused:?}"
    );
    assert_eq!(store.runs(&RunFilter::default()).await.expect("runs").len(), 1);

    store.approve_proposal(&approval("P-1", "luis")).await.expect("approved by another operator");
    let stored = store.proposal("P-1").await.expect("read").expect("exists");
    assert_eq!(stored.status, ProposalStatus::Approved);
    assert_eq!((stored.proposal.proposed_by.as_str(), stored.approved_by.as_deref()), ("ana", Some("luis")));
    assert_eq!(stored.proposal.proposal_note.as_deref(), Some("ticket FIN-1"));
    assert_eq!(stored.approval_note.as_deref(), Some("checked against the bank portal"));
    assert_eq!(stored.approved_at, Some(at(3) + Duration::minutes(20)));
    assert!(matches!(store.approve_proposal(&approval("P-1", "eva")).await, Err(StoreError::ProposalStatus { .. })));
    assert!(matches!(store.approve_proposal(&approval("P-9", "eva")).await, Err(StoreError::ProposalNotFound { .. })));
    let listed = store.proposals(&ProposalFilter::default()).await.expect("list");
    assert_eq!(listed.len(), 1);
}

pub async fn manual_run_moves_cases_and_marks_the_proposal_applied(url: &str) {
    let store = open(url).await;
    store.write_run(&night_one("R1", 2)).await.expect("night");
    store.create_proposal(&proposal("P-1", true)).await.expect("proposal");
    store.approve_proposal(&approval("P-1", "luis")).await.expect("approval");

    // C1 (S3) and C2 (L9) are auto-resolved by the run, then attributed to the decisions.
    let transitions = vec![transition("C1", CaseStatus::Resolved), transition("C2", CaseStatus::Ignored)];
    let summary =
        store.write_manual_run(&manual_run("R2", 4), &apply(existing("P-1"), transitions)).await.expect("applied");
    assert_eq!((summary.cases_resolved, summary.cases_ignored, summary.run.cases_resolved), (1, 1, 2));
    let c1 = store.case("C1").await.expect("read").expect("C1");
    assert_eq!(
        (c1.case.status, c1.case.resolved_by.as_deref()),
        (CaseStatus::Resolved, Some("ana (approved by luis)"))
    );
    assert_eq!(c1.case.corrective_action.as_deref(), Some("matched by hand"));
    let last = c1.events.last().expect("event");
    assert_eq!(
        (last.event, last.run_id.as_deref(), last.note.as_deref()),
        (CaseEventKind::Resolved, Some("R2"), Some("decision for C1"))
    );
    let c2 = store.case("C2").await.expect("read").expect("C2");
    assert_eq!(c2.case.status, CaseStatus::Ignored);
    assert_eq!(c2.events.iter().map(|e| e.event).collect::<Vec<_>>(), [CaseEventKind::Opened, CaseEventKind::Ignored]);
    let stored = store.proposal("P-1").await.expect("read").expect("exists");
    assert_eq!((stored.status, stored.applied_run_id.as_deref()), (ProposalStatus::Applied, Some("R2")));
    assert_eq!(stored.report_markdown.as_deref(), Some("# Manual run\n"));
    let again = store.write_manual_run(&manual_run("R3", 5), &apply(existing("P-1"), Vec::new())).await;
    assert!(matches!(again, Err(StoreError::ProposalStatus { ref status, .. }) if status == "applied"), "{again:?}");

    // The nightly run never supersedes the manual match, and does not reopen its cases.
    let mut nightly = night_one("R4", 6);
    nightly.cases.clear();
    let summary = store.write_run(&nightly).await.expect("nightly");
    assert_eq!((summary.matches_superseded, summary.cases_reopened), (0, 0));
    let manual = store
        .matches(&MatchFilter { review: Some(MatchReview::Manual), ..MatchFilter::default() })
        .await
        .expect("matches");
    assert_eq!(manual.len(), 1);
    assert_eq!((manual[0].status, manual[0].last_run_id.as_str()), (MatchStatus::Active, "R2"));
    assert_eq!(store.case("C1").await.expect("read").expect("C1").case.status, CaseStatus::Resolved);

    // Reopening C2 withdraws the manual match; a direct (no four-eyes) decision set is recorded applied.
    let mut reopen =
        apply(ManualProposal::New(Box::new(proposal("P-2", false))), vec![transition("C2", CaseStatus::Open)]);
    reopen.withdrawn_match_ids = vec!["MM-1".to_owned()];
    let mut run = manual_run("R5", 7);
    run.matches.retain(|m| m.review != MatchReview::Manual);
    let summary = store.write_manual_run(&run, &reopen).await.expect("reopen");
    assert_eq!((summary.cases_reopened, summary.matches_withdrawn), (1, 1));
    let c2 = store.case("C2").await.expect("read").expect("C2");
    assert_eq!((c2.case.status, c2.case.resolved_by.as_deref()), (CaseStatus::Open, None));
    assert_eq!(
        c2.events.last().map(|e| (e.event, e.operator.clone())),
        Some((CaseEventKind::Reopened, Some("ana (approved by luis)".to_owned())))
    );
    let direct = store.proposal("P-2").await.expect("read").expect("P-2");
    assert_eq!(
        (direct.status, direct.approved_by, direct.applied_by.as_deref()),
        (ProposalStatus::Applied, None, Some("luis"))
    );
}

pub async fn failed_manual_run_changes_nothing(url: &str) {
    let store = open(url).await;
    store.write_run(&night_one("R1", 2)).await.expect("night");
    store.create_proposal(&proposal("P-1", true)).await.expect("proposal");
    store.approve_proposal(&approval("P-1", "luis")).await.expect("approval");
    let unknown = vec![transition("C1", CaseStatus::Resolved), transition("C-unknown", CaseStatus::Resolved)];
    let failed = store.write_manual_run(&manual_run("R2", 4), &apply(existing("P-1"), unknown)).await;
    assert!(matches!(failed, Err(StoreError::CaseNotFound { .. })), "{failed:?}");
    assert_eq!(store.runs(&RunFilter::default()).await.expect("runs").len(), 1, "no manual run recorded");
    assert_eq!(store.case("C1").await.expect("read").expect("C1").case.status, CaseStatus::Open);
    assert_eq!(store.proposal("P-1").await.expect("read").expect("P-1").status, ProposalStatus::Approved);
    let mut nightly = manual_run("R3", 5);
    nightly.header.mode = RunMode::Nightly;
    let refused = store.write_manual_run(&nightly, &apply(existing("P-1"), Vec::new())).await;
    assert!(matches!(refused, Err(StoreError::InvalidInput { .. })), "{refused:?}");
}
