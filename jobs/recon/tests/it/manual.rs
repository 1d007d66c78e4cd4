//! `recon manual`: decisions refused with their reasons, the four-eyes cycle (propose, refused
//! self-approval, approval by another operator, apply, report), and the nightly run keeping manual
//! matches.

use std::path::PathBuf;

use recon_store::{CaseStatus, MatchReview, MatchStatus, RunMode};

use crate::support::{
    FROM, Ran, TO, Workspace, assert_sources_point_at_their_lines, demo, edited_copy, full_stdout, run,
};

/// BBVA's ambiguous 3,480.00 deposit, and the Odoo line the customer confirmed.
const AMBIGUOUS_STATEMENT: &str = "884203";
const CONFIRMED_MOVE: &str = "__export__.account_move_line_52585_af8d9d62";
/// The other 3,480.00 candidate, left unmatched by the decision.
const OTHER_CANDIDATE: &str = "__export__.account_move_line_52587_867d3e57";
/// 9,860.00 in the bank, booked in Odoo as 8,960.00.
const MISBOOKED_STATEMENT: &str = "884205";
const MISBOOKED_MOVE: &str = "__export__.account_move_line_52593_128cbaf3";
/// An unknown deposit, and an Odoo line that never reached the bank.
const UNKNOWN_DEPOSIT: &str = "884110";
const NEVER_PAID_MOVE: &str = "__export__.account_move_line_52573_1b2d7f4f";

const HEADER: &str = "action,statement_ids,move_line_ids,case_id,difference,reason\n";

/// The demo's decisions: two matches (one with a named difference), two ignores.
fn decisions(difference: &str) -> String {
    format!(
        "{HEADER}match,{AMBIGUOUS_STATEMENT},{CONFIRMED_MOVE},,,Refaccionaria Silva confirmed F-1020 by phone\n\
         match,{MISBOOKED_STATEMENT},{MISBOOKED_MOVE},,{difference},Estimate 3 paid 9860 against an invoice of 8960 (FIN-90)\n\
         ignore,{UNKNOWN_DEPOSIT},,,,Returned to the sender on 2026-10-19 (FIN-88)\n\
         ignore,,{NEVER_PAID_MOVE},,,Booked twice in Odoo; reversed in November\n"
    )
}

impl Workspace {
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The demo configuration with `[manual] four_eyes = true`.
    fn four_eyes_config(&self) -> PathBuf {
        let text = std::fs::read_to_string(demo("recon.toml")).unwrap();
        assert!(text.contains("four_eyes = false"), "the demo configuration has a [manual] section");
        self.write("four-eyes.toml", &text.replace("four_eyes = false", "four_eyes = true"))
    }

    /// `recon manual SUB --decisions FILE --config CONFIG --statements --moves --from --to --operator OP`.
    fn manual_with_inputs(
        &self,
        sub: &str,
        decisions: &PathBuf,
        config: &PathBuf,
        operator: &str,
    ) -> std::process::Command {
        let mut command = self.recon(&["manual", sub, "--from", FROM, "--to", TO, "--operator", operator]);
        command.arg("--decisions").arg(decisions).arg("--config").arg(config);
        command.arg("--statements").arg(demo("neon_statement_lines.csv"));
        command.arg("--moves").arg(demo("odoo_move_lines.csv"));
        command
    }

    fn only_proposal_id(&self) -> String {
        let ran = run(&mut self.recon(&["manual", "list", "--json"])).expect_code(0);
        let proposals: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
        assert_eq!(proposals.as_array().unwrap().len(), 1, "{}", ran.stdout);
        proposals[0]["proposal_id"].as_str().unwrap().to_owned()
    }

    /// Every case that has this item, with its items.
    fn cases_of(&self, item_id: &str) -> Vec<recon_store::CaseWithItems> {
        let store = self.store();
        let item_id = item_id.to_owned();
        tokio::runtime::Runtime::new().unwrap().block_on(async move {
            let store = recon_store::Store::open(&store).await.unwrap();
            let cases = store.cases_with_items(&recon_store::CaseFilter::default()).await.unwrap();
            store.close().await;
            cases.into_iter().filter(|c| c.items.iter().any(|i| i.item_id == item_id)).collect()
        })
    }

    /// The one case of this kind that has this item.
    fn case_of(&self, item_id: &str, kind: &str) -> recon_store::CaseRecord {
        let mut cases: Vec<_> = self.cases_of(item_id).into_iter().filter(|c| c.case.kind == kind).collect();
        assert_eq!(cases.len(), 1, "one {kind} case of {item_id}");
        cases.remove(0).case
    }
}

#[test]
fn decision_that_does_not_add_up_is_refused_with_its_reason() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let text = format!(
        "{}match,884999,{CONFIRMED_MOVE},,,typo in the id\nignore,{UNKNOWN_DEPOSIT},,,,\nmatch,884101,{CONFIRMED_MOVE},,,x\n",
        decisions("")
    );
    let file = workspace.write("decisions.csv", &text);
    let config = workspace.four_eyes_config();
    let ran = run(&mut workspace.manual_with_inputs("propose", &file, &config, "ana")).expect_code(2);
    let file_name = file.display().to_string();
    for expected in [
        "decision(s) refused; nothing was proposed".to_owned(),
        format!(
            "{file_name}:3: column \"difference\": value \"\": amounts do not add up: bank 9,860.00 vs Odoo 8,960.00 \
             (difference 900.00); name the difference in the `difference` column"
        ),
        format!("{file_name}:6: column \"statement_ids\": value \"884999\": no statement line with this id"),
        format!(
            "{file_name}:6: column \"move_line_ids\": value \"{CONFIRMED_MOVE}\": Odoo line {CONFIRMED_MOVE} is already taken by the decision on line 2"
        ),
        format!("{file_name}:7: column \"reason\": value \"\": a reason is required"),
        format!(
            "{file_name}:7: column \"statement_ids\": value \"{UNKNOWN_DEPOSIT}\": statement line {UNKNOWN_DEPOSIT} is already taken by the decision on line 4"
        ),
        format!(
            "{file_name}:8: column \"statement_ids\": value \"884101\": statement line 884101 is already in active match M-"
        ),
    ] {
        assert!(ran.stderr.contains(&expected), "{expected:?} not in:\n{}", ran.stderr);
    }
    // A wrong difference is refused too, naming the real one.
    let file = workspace.write("decisions.csv", &decisions("90.00"));
    let ran = run(&mut workspace.manual_with_inputs("propose", &file, &config, "ana")).expect_code(2);
    assert!(ran.stderr.contains("column \"difference\": value \"90.00\": the difference named is not the difference: bank 9,860.00 vs Odoo 8,960.00 differ by 900.00"), "{}", ran.stderr);
    // Nothing was stored.
    let listed = run(&mut workspace.recon(&["manual", "list", "--json"])).expect_code(0);
    assert_eq!(listed.stdout.trim(), "[]");
    assert_eq!(workspace.contents().runs.len(), 1);
}

#[test]
fn four_eyes_cycle_proposes_refuses_self_approval_approves_applies_and_reports() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let config = workspace.four_eyes_config();
    let file = workspace.write("decisions.csv", &decisions("900.00"));

    // Propose: the dry run, and a stored proposal.
    let mut propose = workspace.manual_with_inputs("propose", &file, &config, "ana");
    let ran = run(propose.args(["--note", "FIN-88, FIN-90"])).expect_code(0);
    for expected in [
        "Decisions (4, all valid)",
        "statement 884205 matched by hand with Odoo BBVA/2026/00418",
        "difference 900.00 named",
        "ambiguous  open -> resolved  (line 2)",
        "unmatched_statement  open -> ignored  (line 4)",
        "unmatched_move  012180001198765436  2026-10-16  3,480.00 MXN",
        "all accounts                           *       23              15      65.21 %             18                3     78.26 %",
        "Proposal P-",
    ] {
        assert!(ran.stdout.contains(expected), "{expected:?} not in:\n{}", ran.stdout);
    }
    let proposal_id = workspace.only_proposal_id();
    assert_eq!(workspace.contents().runs.len(), 1, "proposing writes no run");

    // Four-eyes: not by the proposer, and nothing is applied before the approval.
    let ran = run(&mut workspace.recon(&["manual", "approve", &proposal_id, "--operator", "ANA"])).expect_code(6);
    assert!(
        ran.stderr.contains("was proposed by ana; four-eyes approval needs a different operator"),
        "{}",
        ran.stderr
    );
    let mut apply = workspace.recon(&["manual", "apply", &proposal_id, "--operator", "luis", "--config"]);
    let ran = run(apply.arg(&config)).expect_code(6);
    assert!(ran.stderr.contains("four-eyes requires the approval of an operator other than ana"), "{}", ran.stderr);
    let mut direct = workspace.manual_with_inputs("apply", &file, &config, "luis");
    let ran = run(&mut direct).expect_code(6);
    assert!(ran.stderr.contains("a decisions file is not applied directly"), "{}", ran.stderr);
    let mut approve = workspace.recon(&["manual", "approve", &proposal_id, "--operator", "luis"]);
    run(approve.args(["--note", "checked the bank portal"])).expect_code(0);

    // Apply: one manual run, its Markdown report.
    let reports = workspace.path("reports");
    let mut apply = workspace.recon(&["manual", "apply", &proposal_id, "--operator", "luis", "--config"]);
    apply.arg(&config).arg("--report-dir").arg(&reports);
    let ran = run(&mut apply).expect_code(0);
    assert!(
        ran.stdout.contains("2 manual match(es), 2 ignored line(s); cases 2 resolved, 2 ignored, 0 reopened, 1 opened"),
        "{}",
        ran.stdout
    );

    let contents = workspace.contents();
    let manual_run = contents.runs.iter().find(|r| r.header.mode == RunMode::Manual).unwrap();
    assert_eq!(
        (manual_run.header.operator.as_str(), manual_run.header.correlation_id.as_str()),
        ("luis", proposal_id.as_str())
    );
    // The cases the manual run wrote name the lines they were read from (the run reconciles the
    // lines of its dates, a subset of those it read).
    let written = contents.cases.iter().filter(|case| case.last_run_id == manual_run.header.run_id);
    assert!(written.map(assert_sources_point_at_their_lines).sum::<usize>() > 0, "the manual run wrote cases");
    let manual: Vec<_> = contents.matches.iter().filter(|m| m.review == MatchReview::Manual).collect();
    let mut rules: Vec<&str> = manual.iter().map(|m| m.rule.as_str()).collect();
    rules.sort();
    assert_eq!(rules, ["manual", "manual", "manual_ignore", "manual_ignore"]);
    let misbooked = manual.iter().find(|m| m.items.iter().any(|i| i.item_id == MISBOOKED_MOVE)).unwrap();
    assert_eq!(misbooked.explanation["decision"]["difference"], "900.00");
    assert_eq!(misbooked.explanation["operators"]["proposed_by"], "ana");
    assert_eq!(misbooked.explanation["operators"]["approved_by"], "luis");
    assert_eq!(misbooked.explanation["decision"]["reason"], "Estimate 3 paid 9860 against an invoice of 8960 (FIN-90)");

    let ambiguous = workspace.case_of(CONFIRMED_MOVE, "ambiguous");
    assert_eq!(ambiguous.status, CaseStatus::Resolved);
    assert_eq!(ambiguous.resolved_by.as_deref(), Some("ana (approved by luis)"));
    assert!(ambiguous.corrective_action.as_deref().unwrap().contains("Refaccionaria Silva confirmed F-1020 by phone"));
    assert_eq!(workspace.case_of(UNKNOWN_DEPOSIT, "unmatched_statement").status, CaseStatus::Ignored);
    assert_eq!(workspace.case_of(NEVER_PAID_MOVE, "unmatched_move").status, CaseStatus::Ignored);
    assert_eq!(workspace.case_of(MISBOOKED_MOVE, "amount_mismatch").status, CaseStatus::Resolved);
    assert_eq!(workspace.case_of(OTHER_CANDIDATE, "unmatched_move").status, CaseStatus::Open);
    let shown = run(&mut workspace.recon(&["cases", "show", &ambiguous.case_id, "--json"])).expect_code(0);
    let detail: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let last = detail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["event"].as_str(), last["operator"].as_str()), (Some("resolved"), Some("ana (approved by luis)")));
    assert_eq!(last["run_id"], manual_run.header.run_id.as_str());

    // The report: scope, inputs and their blake3, operators, decisions, cases, KPI before and after.
    let report_path = reports.join(format!("manual-{}.md", manual_run.header.run_id));
    let report = std::fs::read_to_string(&report_path).unwrap();
    let neon_blake3 = recon_io::blake3_file(demo("neon_statement_lines.csv")).unwrap();
    let decisions_blake3 = blake3::hash(decisions("900.00").as_bytes()).to_hex().to_string();
    for expected in [
        format!("# Manual reconciliation run {}", manual_run.header.run_id),
        "| Business dates | 2026-10-12 to 2026-10-16 |".to_owned(),
        format!("`{neon_blake3}`"),
        format!("`{decisions_blake3}`"),
        "| proposed | ana |".to_owned(),
        "| FIN-88, FIN-90 |".to_owned(),
        "| approved | luis |".to_owned(),
        "checked the bank portal".to_owned(),
        "| 3 | match | `012180001198765436` | 2026-10-15 |".to_owned(),
        format!("| `{}` | ambiguous | open | resolved | 2 |", ambiguous.case_id),
        "| `012180001198765436` | BBVA operativa | MXN | 8 | 5 | 62.50 % | 7 | 2 | 87.50 % |".to_owned(),
        "| **all accounts** |  | * | 23 | 15 | 65.21 % | 18 | 3 | 78.26 % |".to_owned(),
    ] {
        assert!(report.contains(&expected), "{expected:?} not in:\n{report}");
    }
    let stored = run(&mut workspace.recon(&["manual", "show", &proposal_id, "--report"])).expect_code(0);
    assert_eq!(stored.stdout, report);
    let shown = run(&mut workspace.recon(&["manual", "show", &proposal_id, "--json"])).expect_code(0);
    let record: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(
        (record["status"].as_str(), record["applied_run_id"].as_str()),
        (Some("applied"), Some(manual_run.header.run_id.as_str()))
    );
    assert_eq!(record["inputs"][0]["blake3"], neon_blake3.as_str());

    // The KPI of the range now counts the manual decisions.
    let kpi = run(&mut workspace.recon(&["kpi", "--from", FROM, "--to", TO, "--json"])).expect_code(3);
    let kpi: serde_json::Value = serde_json::from_str(&kpi.stdout).unwrap();
    assert_eq!(kpi["overall"]["count_rate"], "0.7826");

    // Applied once.
    let mut again = workspace.recon(&["manual", "apply", &proposal_id, "--operator", "luis", "--config"]);
    let ran = run(again.arg(&config)).expect_code(2);
    assert!(ran.stderr.contains("is already applied"), "{}", ran.stderr);
}

/// The preview is what the operator approves by applying: when it cannot be written (a full disk,
/// or a reader that went away: `recon manual apply ... | head`), nothing is applied.
#[test]
fn apply_whose_preview_cannot_be_written_applies_nothing() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let before = workspace.contents();
    let file = workspace.write("decisions.csv", &decisions("900.00"));
    let (reader, closed) = std::io::pipe().unwrap();
    drop(reader);
    let outputs: [(&str, std::process::Stdio); 2] =
        [("a full disk", full_stdout().into()), ("a closed pipe", closed.into())];
    for (what, stdout) in outputs {
        let mut apply = workspace.manual_with_inputs("apply", &file, &demo("recon.toml"), "ana");
        apply.arg("--report-dir").arg(workspace.path("reports")).stdout(stdout);
        let ran = Ran::from(apply.output().unwrap()).expect_code(1);
        assert!(ran.stderr.contains("writing the preview to standard output"), "{what}: {}", ran.stderr);
        assert!(!ran.stderr.contains("panicked"), "{what}: {}", ran.stderr);
        let after = workspace.contents();
        assert_eq!((after.runs.len(), after.matches.len()), (before.runs.len(), before.matches.len()), "{what}");
        assert!(after.matches.iter().all(|m| m.review != MatchReview::Manual), "{what}");
    }
}

#[test]
fn nightly_run_after_a_manual_apply_keeps_the_manual_match_and_its_cases_closed() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let file = workspace.write("decisions.csv", &decisions("900.00"));
    let mut apply = workspace.manual_with_inputs("apply", &file, &demo("recon.toml"), "ana");
    apply.arg("--report-dir").arg(workspace.path("reports"));
    run(&mut apply).expect_code(0);
    let before = workspace.contents();
    let manual_before: Vec<_> = before.matches.iter().filter(|m| m.review == MatchReview::Manual).cloned().collect();
    assert_eq!(manual_before.len(), 4);
    let direct = before.runs.iter().find(|r| r.header.mode == RunMode::Manual).unwrap();
    let proposal =
        run(&mut workspace.recon(&["manual", "show", &direct.header.correlation_id, "--json"])).expect_code(0);
    let proposal: serde_json::Value = serde_json::from_str(&proposal.stdout).unwrap();
    assert_eq!((proposal["status"].as_str(), proposal["four_eyes"].as_bool()), (Some("applied"), Some(false)));
    assert!(proposal["approved_by"].is_null());

    let nightly = workspace.run_demo(&[]).expect_code(3);
    assert!(nightly.stdout.contains("superseded; cases 0 opened"), "{}", nightly.stdout);
    assert!(nightly.stdout.contains("0 reopened, 0 auto-resolved"), "{}", nightly.stdout);
    assert!(
        nightly.stdout.contains("all accounts                           *       23       18"),
        "{}",
        nightly.stdout
    );
    let after = workspace.contents();
    let manual_after: Vec<_> = after.matches.iter().filter(|m| m.review == MatchReview::Manual).cloned().collect();
    assert_eq!(manual_after.len(), manual_before.len());
    for (a, b) in manual_before.iter().zip(&manual_after) {
        assert_eq!((&a.match_id, &a.items, &a.last_run_id), (&b.match_id, &b.items, &b.last_run_id));
        assert_eq!(b.status, MatchStatus::Active);
    }
    // The manually matched Odoo lines are neither matched again by a rule nor reported as unmatched.
    let kinds: Vec<String> = workspace.cases_of(CONFIRMED_MOVE).into_iter().map(|c| c.case.kind).collect();
    assert_eq!(kinds, ["ambiguous"]);
    let kinds: Vec<String> = workspace.cases_of(MISBOOKED_MOVE).into_iter().map(|c| c.case.kind).collect();
    assert_eq!(kinds, ["amount_mismatch"]);
    assert_eq!(workspace.case_of(CONFIRMED_MOVE, "ambiguous").status, CaseStatus::Resolved);
    assert_eq!(workspace.case_of(UNKNOWN_DEPOSIT, "unmatched_statement").status, CaseStatus::Ignored);
    assert_eq!(workspace.case_of(MISBOOKED_STATEMENT, "amount_mismatch").status, CaseStatus::Resolved);
    let exported = workspace.export("matches");
    assert!(
        exported.contains(&format!(
            ",{UNKNOWN_DEPOSIT},,manual_ignore,manual,active,646180111805034237,2026-10-16,12000.00,MXN,"
        )),
        "{exported}"
    );
    assert!(exported.contains(&format!(",,{NEVER_PAID_MOVE},manual_ignore,manual,active,")), "{exported}");
    let auto = after.matches.iter().filter(|m| m.review != MatchReview::Manual && m.status == MatchStatus::Active);
    assert!(auto.flat_map(|m| &m.items).all(|i| i.item_id != CONFIRMED_MOVE && i.item_id != MISBOOKED_MOVE));
}

#[test]
fn reopen_withdraws_an_ignore_and_changed_inputs_are_refused() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let ignore =
        workspace.write("ignore.csv", &format!("{HEADER}ignore,{UNKNOWN_DEPOSIT},,,,Returned to the sender\n"));
    let mut apply = workspace.manual_with_inputs("apply", &ignore, &demo("recon.toml"), "ana");
    run(apply.arg("--report-dir").arg(workspace.path("reports"))).expect_code(0);
    let case_id = workspace.case_of(UNKNOWN_DEPOSIT, "unmatched_statement").case_id;

    let reopen = workspace
        .write("reopen.csv", &format!("{HEADER}reopen,,,{case_id},,The sender says it was a payment after all\n"));
    let mut apply = workspace.manual_with_inputs("apply", &reopen, &demo("recon.toml"), "eva");
    let ran = run(apply.arg("--report-dir").arg(workspace.path("reports"))).expect_code(0);
    assert!(ran.stdout.contains("cases 0 resolved, 0 ignored, 1 reopened"), "{}", ran.stdout);
    assert!(ran.stdout.contains("ignore dispositions withdrawn 1"), "{}", ran.stdout);
    let case = workspace.case_of(UNKNOWN_DEPOSIT, "unmatched_statement");
    assert_eq!((case.case_id.as_str(), case.status), (case_id.as_str(), CaseStatus::Open));
    let ignores: Vec<_> = workspace.contents().matches.into_iter().filter(|m| m.rule == "manual_ignore").collect();
    assert_eq!(ignores.len(), 1);
    assert_eq!(ignores[0].status, MatchStatus::Superseded);
    // A reopen of an open case is refused.
    let mut again = workspace.manual_with_inputs("propose", &reopen, &demo("recon.toml"), "eva");
    let ran = run(&mut again).expect_code(2);
    assert!(ran.stderr.contains("the case is open already"), "{}", ran.stderr);

    // A proposal is applied to the inputs it was validated against, or not at all.
    let config = workspace.four_eyes_config();
    let ignore_fee = workspace.write("fee.csv", &format!("{HEADER}ignore,884206,,,,SPEI fee booked monthly\n"));
    run(&mut workspace.manual_with_inputs("propose", &ignore_fee, &config, "ana")).expect_code(0);
    let proposals = run(&mut workspace.recon(&["manual", "list", "--status", "proposed", "--json"])).expect_code(0);
    let proposals: serde_json::Value = serde_json::from_str(&proposals.stdout).unwrap();
    let proposal_id = proposals[0]["proposal_id"].as_str().unwrap().to_owned();
    run(&mut workspace.recon(&["manual", "approve", &proposal_id, "--operator", "luis"])).expect_code(0);
    let moves = edited_copy(
        &workspace,
        "odoo_move_lines.csv",
        "__export__.account_move_line_52597",
        "Cobro cheque",
        "Cobro de cheque",
    );
    let mut apply = workspace.recon(&["manual", "apply", &proposal_id, "--operator", "luis", "--config"]);
    apply.arg(&config).arg("--moves").arg(&moves);
    let ran = run(&mut apply).expect_code(2);
    assert!(ran.stderr.contains("the inputs changed; propose the decisions again"), "{}", ran.stderr);
}
