#!/usr/bin/env python3
"""recon's first two matching tiers written as plain DuckDB SQL, the way an analyst would.

    python3 benches/duckdb/tiers12.py --statements neon_statement_lines.csv \
        --moves odoo_move_lines.csv --out matches.parquet

Reads the NEON statement CSV and the Odoo journal-item CSV written by `recon-gen` (every column as
VARCHAR, then cast), keeps the Odoo lines of the three bank GL accounts of `benches/recon-gen.toml`
that are posted, and matches:

  tier 1  exact join on (account, amount in minor units, normalized reference, business date),
          one-to-one by numbering equal keys on each side (row_number) and joining on key + number;
  tier 2  on what is left: same account, normalized reference and amount, |date difference| <= 3
          calendar days (DuckDB has no Mexican banking calendar), one-to-one by keeping the pairs that
          are each other's first choice (closest date, then lowest id).

Writes the matches (statement_id, move_line_id, tier, account, business_date, move_date,
amount_minor, reference) to --out (Parquet, or CSV when the name ends in .csv) and prints the counts.
DuckDB runs with its defaults: all cores, memory_limit = 80 % of RAM.
"""

import argparse
import sys
import time

import duckdb

# The accounts of benches/recon-gen.toml: statement account (CLABE) -> Odoo GL account code.
ACCOUNTS = [
    ("646180111805034237", "102.01.01", "MXN"),  # STP
    ("012180001183597101", "102.01.02", "MXN"),  # BBVA
    ("012180004455667708", "102.02.01", "USD"),  # BBVA USD
]
ZONE = "America/Mexico_City"
WINDOW_DAYS = 3

# Reference normalization: trim + uppercase; an all-digit reference of at most 7 digits (referencia
# numérica) is compared as a number, i.e. without its leading zeros. Empty -> NULL (takes no part).
NORMALIZE = """
CREATE MACRO norm_ref(r) AS (
    CASE
        WHEN nullif(upper(trim(r)), '') IS NULL THEN NULL
        WHEN regexp_full_match(trim(r), '[0-9]{1,7}')
            THEN coalesce(nullif(ltrim(trim(r), '0'), ''), '0')
        ELSE upper(trim(r))
    END
);
"""

STATEMENTS = """
CREATE TABLE st AS
SELECT
    s.id                                                      AS statement_id,
    a.gl_code                                                 AS account,
    CAST(CAST(s.amount AS DECIMAL(18, 2)) * 100 AS BIGINT)    AS amount_minor,
    CASE
        WHEN nullif(s.booked_at, '') IS NOT NULL
            THEN CAST(CAST(s.booked_at AS TIMESTAMPTZ) AT TIME ZONE $zone AS DATE)
        ELSE CAST(s.value_date AS DATE)
    END                                                       AS business_date,
    norm_ref(s.reference)                                     AS ref
FROM read_csv($path, header = true, all_varchar = true) AS s
JOIN accounts AS a ON a.clabe = s.account;
"""

MOVES = """
CREATE TABLE mv AS
SELECT
    m.id                                                      AS move_line_id,
    a.gl_code                                                 AS account,
    CASE
        WHEN a.currency = 'USD' THEN CAST(round(CAST(m.amount_currency AS DOUBLE) * 100) AS BIGINT)
        ELSE CAST(round((CAST(m.debit AS DOUBLE) - CAST(m.credit AS DOUBLE)) * 100) AS BIGINT)
    END                                                       AS amount_minor,
    CAST(m.date AS DATE)                                      AS move_date,
    norm_ref(m.ref)                                           AS ref
FROM read_csv($path, header = true, all_varchar = true) AS m
JOIN accounts AS a ON m.account_id = a.gl_code OR starts_with(m.account_id, a.gl_code || ' ')
WHERE m.parent_state = 'posted';
"""

# Tier 1: the same (account, amount, reference, date) on both sides. Equal keys are numbered on each
# side so that two bank lines and two Odoo lines with one key pair up 1-1 (first with first).
TIER1 = """
CREATE TABLE tier1 AS
WITH s AS (
    SELECT *, row_number() OVER (PARTITION BY account, amount_minor, ref, business_date
                                 ORDER BY statement_id) AS k
    FROM st WHERE ref IS NOT NULL
), m AS (
    SELECT *, row_number() OVER (PARTITION BY account, amount_minor, ref, move_date
                                 ORDER BY move_line_id) AS k
    FROM mv WHERE ref IS NOT NULL
)
SELECT s.statement_id, m.move_line_id, 1 AS tier, s.account, s.business_date, m.move_date,
       s.amount_minor, s.ref AS reference
FROM s JOIN m
  ON  m.account = s.account AND m.amount_minor = s.amount_minor
  AND m.ref = s.ref AND m.move_date = s.business_date AND m.k = s.k;
"""

# Tier 2: among the lines tier 1 left, the same account, reference and amount within the window.
# Each side ranks its candidates by date distance, then id; a pair is kept when each is the other's
# first choice (so a line with two equally good candidates still gets the lower id).
TIER2 = """
CREATE TABLE tier2 AS
WITH s AS (
    SELECT * FROM st
    WHERE ref IS NOT NULL AND statement_id NOT IN (SELECT statement_id FROM tier1)
), m AS (
    SELECT * FROM mv
    WHERE ref IS NOT NULL AND move_line_id NOT IN (SELECT move_line_id FROM tier1)
), candidates AS (
    SELECT s.statement_id, m.move_line_id, s.account, s.business_date, m.move_date,
           s.amount_minor, s.ref,
           abs(date_diff('day', s.business_date, m.move_date)) AS distance
    FROM s JOIN m
      ON  m.account = s.account AND m.ref = s.ref AND m.amount_minor = s.amount_minor
      AND abs(date_diff('day', s.business_date, m.move_date)) <= $window
), ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY statement_id ORDER BY distance, move_line_id) AS s_rank,
           row_number() OVER (PARTITION BY move_line_id ORDER BY distance, statement_id) AS m_rank
    FROM candidates
)
SELECT statement_id, move_line_id, 2 AS tier, account, business_date, move_date,
       amount_minor, ref AS reference
FROM ranked WHERE s_rank = 1 AND m_rank = 1;
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", required=True, help="NEON statement lines CSV")
    parser.add_argument("--moves", required=True, help="Odoo journal items CSV")
    parser.add_argument("--out", required=True, help="matches file (.parquet, or .csv)")
    args = parser.parse_args()

    started = time.perf_counter()
    stages = []

    def stage(name, sql, **params):
        t = time.perf_counter()
        con.execute(sql, params or None)
        stages.append((name, time.perf_counter() - t))

    con = duckdb.connect()  # in-memory database, default threads (all cores) and memory_limit
    con.execute("CREATE TABLE accounts (clabe VARCHAR, gl_code VARCHAR, currency VARCHAR)")
    con.executemany("INSERT INTO accounts VALUES (?, ?, ?)", ACCOUNTS)
    con.execute(NORMALIZE)

    stage("read statements", STATEMENTS, path=args.statements, zone=ZONE)
    stage("read odoo", MOVES, path=args.moves)
    stage("tier 1", TIER1)
    stage("tier 2", TIER2, window=WINDOW_DAYS)
    fmt = "CSV, HEADER" if args.out.endswith(".csv") else "PARQUET"
    quoted = args.out.replace("'", "''")
    stage("write", f"COPY (SELECT * FROM tier1 UNION ALL SELECT * FROM tier2 ORDER BY statement_id) "
                   f"TO '{quoted}' (FORMAT {fmt})")

    (statements,) = con.execute("SELECT count(*) FROM st").fetchone()
    (moves,) = con.execute("SELECT count(*) FROM mv").fetchone()
    (t1,) = con.execute("SELECT count(*) FROM tier1").fetchone()
    (t2,) = con.execute("SELECT count(*) FROM tier2").fetchone()
    threads, memory_limit = con.execute(
        "SELECT current_setting('threads'), current_setting('memory_limit')").fetchone()
    total = time.perf_counter() - started
    print(f"duckdb {duckdb.__version__} threads {threads} memory_limit {memory_limit}")
    print(f"statements {statements} odoo_bank_lines {moves} tier1 {t1} tier2 {t2} matches {t1 + t2}")
    print("stages " + " ".join(f"{name.replace(' ', '_')}={secs:.2f}s" for name, secs in stages)
          + f" total={total:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
