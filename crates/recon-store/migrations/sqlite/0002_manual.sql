-- Manual controlled runs (SQLite). Keep equivalent to migrations/postgres/0002_manual.sql.
-- A proposal is a decision set an operator prepared: the decisions file as it was read (text and
-- blake3), the inputs and configuration it was validated against (blake3), its scope and the dry run.
-- With four-eyes on, a second operator approves it before anyone applies it; applying writes one run
-- (mode manual) and marks the proposal applied with that run's id and the Markdown report's text.
-- The CHECK on approved_by keeps four-eyes true even for a writer that forgets to check.

CREATE TABLE manual_proposals (
    proposal_id      TEXT PRIMARY KEY NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'applied')),
    four_eyes        INTEGER NOT NULL CHECK (four_eyes IN (0, 1)),
    scope_json       TEXT NOT NULL,
    decisions_file   TEXT NOT NULL,
    decisions_text   TEXT NOT NULL,
    decisions_blake3 TEXT NOT NULL,
    inputs_json      TEXT NOT NULL,
    config_blake3    TEXT NOT NULL,
    preview_json     TEXT NOT NULL,
    proposed_by      TEXT NOT NULL,
    proposed_at      TEXT NOT NULL,
    proposal_note    TEXT,
    approved_by      TEXT,
    approved_at      TEXT,
    approval_note    TEXT,
    applied_by       TEXT,
    applied_at       TEXT,
    applied_run_id   TEXT REFERENCES runs (run_id),
    report_path      TEXT,
    report_markdown  TEXT,
    CHECK (approved_by IS NULL OR approved_by <> proposed_by),
    CHECK (status <> 'applied' OR applied_run_id IS NOT NULL)
);
CREATE INDEX manual_proposals_status ON manual_proposals (status, proposed_at);
CREATE INDEX manual_proposals_run ON manual_proposals (applied_run_id);
