-- recon store schema (SQLite). Keep equivalent to migrations/postgres/0001_init.sql.
-- Money is TEXT holding a decimal string plus a currency code; counts are INTEGER;
-- timestamps are RFC 3339 UTC text with a fixed width (sortable); dates are YYYY-MM-DD.

CREATE TABLE runs (
    run_id          TEXT PRIMARY KEY NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('nightly', 'manual')),
    status          TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    operator        TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    scope_json      TEXT NOT NULL,
    inputs_json     TEXT NOT NULL,
    config_blake3   TEXT NOT NULL,
    counts_json     TEXT,
    kpi_json        TEXT,
    kpi_count_rate  TEXT,
    kpi_amount_rate TEXT,
    kpi_threshold   TEXT,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    timings_json    TEXT NOT NULL,
    error           TEXT
);
CREATE INDEX runs_status_finished ON runs (status, finished_at);
CREATE INDEX runs_started ON runs (started_at);

CREATE TABLE run_kpi (
    run_id           TEXT NOT NULL REFERENCES runs (run_id),
    account          TEXT NOT NULL,
    business_date    TEXT NOT NULL,
    statement_lines  INTEGER NOT NULL,
    matched_lines    INTEGER NOT NULL,
    statement_amount TEXT NOT NULL,
    matched_amount   TEXT NOT NULL,
    currency         TEXT NOT NULL,
    PRIMARY KEY (run_id, account, business_date)
);
CREATE INDEX run_kpi_date_account ON run_kpi (business_date, account);

CREATE TABLE matches (
    match_id                TEXT PRIMARY KEY NOT NULL,
    rule                    TEXT NOT NULL,
    review                  TEXT NOT NULL CHECK (review IN ('auto', 'needs_review', 'manual')),
    status                  TEXT NOT NULL CHECK (status IN ('active', 'superseded')),
    account                 TEXT NOT NULL,
    business_date           TEXT NOT NULL,
    amount                  TEXT NOT NULL,
    currency                TEXT NOT NULL,
    reference_kind          TEXT,
    reference               TEXT,
    date_delta_banking_days INTEGER NOT NULL,
    explanation_json        TEXT NOT NULL,
    first_run_id            TEXT NOT NULL REFERENCES runs (run_id),
    last_run_id             TEXT NOT NULL REFERENCES runs (run_id),
    superseded_by_run_id    TEXT REFERENCES runs (run_id),
    created_at              TEXT NOT NULL
);
CREATE INDEX matches_scope ON matches (status, account, business_date);

CREATE TABLE match_items (
    match_id TEXT NOT NULL REFERENCES matches (match_id),
    side     TEXT NOT NULL CHECK (side IN ('statement', 'move')),
    item_id  TEXT NOT NULL,
    PRIMARY KEY (match_id, side, item_id)
);
CREATE INDEX match_items_item ON match_items (side, item_id);

CREATE TABLE cases (
    case_id            TEXT PRIMARY KEY NOT NULL,
    kind               TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'ignored')),
    account            TEXT NOT NULL,
    business_date      TEXT NOT NULL,
    amount             TEXT,
    currency           TEXT,
    summary            TEXT NOT NULL,
    evidence_json      TEXT NOT NULL,
    external_ids_json  TEXT NOT NULL,
    correlation_id     TEXT NOT NULL,
    opened_at          TEXT NOT NULL,
    first_run_id       TEXT NOT NULL REFERENCES runs (run_id),
    last_run_id        TEXT NOT NULL REFERENCES runs (run_id),
    resolved_at        TEXT,
    resolved_by_run_id TEXT REFERENCES runs (run_id),
    resolved_by        TEXT,
    corrective_action  TEXT,
    prevention         TEXT
);
CREATE INDEX cases_scope ON cases (status, account, business_date);
CREATE INDEX cases_kind ON cases (kind);

CREATE TABLE case_items (
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    side        TEXT NOT NULL CHECK (side IN ('statement', 'move')),
    item_id     TEXT NOT NULL,
    fingerprint TEXT,
    PRIMARY KEY (case_id, side, item_id)
);

CREATE TABLE case_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id  TEXT NOT NULL REFERENCES cases (case_id),
    run_id   TEXT REFERENCES runs (run_id),
    at       TEXT NOT NULL,
    event    TEXT NOT NULL CHECK (event IN ('opened', 'seen', 'resolved', 'reopened', 'ignored')),
    operator TEXT,
    note     TEXT
);
CREATE INDEX case_events_case ON case_events (case_id, event_id);

CREATE TABLE quarantine (
    quarantine_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        TEXT NOT NULL REFERENCES runs (run_id),
    source        TEXT NOT NULL,
    file          TEXT NOT NULL,
    line          INTEGER NOT NULL,
    column_name   TEXT,
    value         TEXT,
    reason        TEXT NOT NULL,
    raw           TEXT NOT NULL
);
CREATE INDEX quarantine_run ON quarantine (run_id);
