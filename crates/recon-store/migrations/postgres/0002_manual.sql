-- Manual controlled runs (PostgreSQL). Keep equivalent to migrations/sqlite/0002_manual.sql.
-- A proposal is a decision set an operator prepared: the decisions file as it was read (text and
-- blake3), the inputs and configuration it was validated against (blake3), its scope and the dry run.
-- With four-eyes on, a second operator approves it before anyone applies it; applying writes one run
-- (mode manual) and marks the proposal applied with that run's id and the Markdown report's text.
-- The CHECK on approved_by keeps four-eyes true even for a writer that forgets to check.

CREATE TABLE manual_proposals (
    proposal_id      TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    status           TEXT COLLATE "C" NOT NULL CHECK (status IN ('proposed', 'approved', 'applied')),
    four_eyes        BIGINT NOT NULL CHECK (four_eyes IN (0, 1)),
    scope_json       TEXT COLLATE "C" NOT NULL,
    decisions_file   TEXT COLLATE "C" NOT NULL,
    decisions_text   TEXT COLLATE "C" NOT NULL,
    decisions_blake3 TEXT COLLATE "C" NOT NULL,
    inputs_json      TEXT COLLATE "C" NOT NULL,
    config_blake3    TEXT COLLATE "C" NOT NULL,
    preview_json     TEXT COLLATE "C" NOT NULL,
    proposed_by      TEXT COLLATE "C" NOT NULL,
    proposed_at      TEXT COLLATE "C" NOT NULL,
    proposal_note    TEXT COLLATE "C",
    approved_by      TEXT COLLATE "C",
    approved_at      TEXT COLLATE "C",
    approval_note    TEXT COLLATE "C",
    applied_by       TEXT COLLATE "C",
    applied_at       TEXT COLLATE "C",
    applied_run_id   TEXT COLLATE "C" REFERENCES runs (run_id),
    report_path      TEXT COLLATE "C",
    report_markdown  TEXT COLLATE "C",
    CHECK (approved_by IS NULL OR approved_by <> proposed_by),
    CHECK (status <> 'applied' OR applied_run_id IS NOT NULL)
);
CREATE INDEX manual_proposals_status ON manual_proposals (status, proposed_at);
CREATE INDEX manual_proposals_run ON manual_proposals (applied_run_id);
