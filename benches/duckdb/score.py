#!/usr/bin/env python3
"""Scores tier-1 + tier-2 matches against recon-gen's truth.json.

    python3 benches/duckdb/score.py --truth truth.json --from 2026-10-01 --to 2026-10-30 \
        --duckdb duckdb-matches.parquet --recon recon-matches.csv

A match (statement_id, move_line_id) is correct when truth.json pairs that statement with that Odoo
line. Only matches whose statement business date is in [--from, --to] are counted, on both sides:
that is what `recon run --from --to` writes (it reconciles a context margin but does not store it).
From recon's export (`recon export matches --format csv`) only the rules of tiers 1 and 2 are kept:
`fingerprint` and `reference_amount`. A wrong match is attributed to the injected defect its statement
or Odoo line belongs to, when there is one.

Prints one tab-separated line per input:
    name  matches  correct  correct_pct  tier1  tier2  wrong_by_defect
"""

import argparse
import collections
import json
import sys

import duckdb

TIER_OF_RULE = {"fingerprint": 1, "reference_amount": 2}


def load_truth(path):
    with open(path, encoding="utf-8") as f:
        truth = json.load(f)
    pairs = {p["statement_id"]: set(p["move_line_ids"]) for p in truth["pairs"]}
    defect_of = {}
    for d in truth["defects"]:
        for i in d["statement_ids"]:
            defect_of.setdefault(("s", i), d["kind"])
        for i in d["move_line_ids"]:
            defect_of.setdefault(("m", i), d["kind"])
    return pairs, defect_of


def score(name, rows, pairs, defect_of):
    correct = 0
    tiers = collections.Counter()
    wrong = collections.Counter()
    for statement_id, move_line_id, tier in rows:
        tiers[tier] += 1
        if move_line_id in pairs.get(statement_id, ()):
            correct += 1
        else:
            kind = defect_of.get(("s", statement_id)) or defect_of.get(("m", move_line_id)) or "no_defect"
            wrong[kind] += 1
    n = len(rows)
    pct = 100.0 * correct / n if n else 0.0
    wrong_text = ",".join(f"{k}:{v}" for k, v in wrong.most_common()) or "-"
    print(f"{name}\t{n}\t{correct}\t{pct:.2f}\t{tiers[1]}\t{tiers[2]}\t{wrong_text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--truth", required=True)
    parser.add_argument("--from", dest="date_from", required=True)
    parser.add_argument("--to", dest="date_to", required=True)
    parser.add_argument("--duckdb", help="tiers12.py output (.parquet or .csv)")
    parser.add_argument("--recon", help="`recon export matches --format csv` output")
    args = parser.parse_args()
    pairs, defect_of = load_truth(args.truth)
    con = duckdb.connect()
    span = [args.date_from, args.date_to]
    if args.duckdb:
        rows = con.execute(
            "SELECT statement_id, move_line_id, tier FROM read_parquet($1) "
            "WHERE business_date BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)"
            if not args.duckdb.endswith(".csv") else
            "SELECT statement_id, move_line_id, tier FROM read_csv($1, all_varchar = true) "
            "WHERE CAST(business_date AS DATE) BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)",
            [args.duckdb, *span]).fetchall()
        score("duckdb", [(str(s), str(m), int(t)) for s, m, t in rows], pairs, defect_of)
    if args.recon:
        rows = con.execute(
            "SELECT statement_id, move_line_id, rule FROM read_csv($1, all_varchar = true) "
            "WHERE rule IN ('fingerprint', 'reference_amount') "
            "AND CAST(business_date AS DATE) BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)",
            [args.recon, *span]).fetchall()
        score("recon", [(s, m, TIER_OF_RULE[r]) for s, m, r in rows], pairs, defect_of)
    return 0


if __name__ == "__main__":
    sys.exit(main())
