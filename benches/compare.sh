#!/usr/bin/env bash
# recon vs DuckDB on the same generated files (issue 7). See benches/duckdb/README.md.
#
#   benches/compare.sh [N[=DIR]]...        default: 100000=/tmp/gen100k 1000000=/tmp/gen1m
#
# For each size: generates the files with recon-gen when DIR has none (not timed), warms the page
# cache, then times with /usr/bin/time -v (wall, peak RSS), recording `uptime` before each run:
# (cpu_s = user + system seconds, less sensitive than wall time to other load on the machine)
#   1. duckdb      benches/duckdb/tiers12.py: tiers 1 and 2 in DuckDB SQL, matches written to Parquet
#   2. recon run   the whole job: read + full reference parser, all tiers, exceptions, SQLite store write
#   3. match-timing recon's core alone on the same N (generates its own data in memory; prints parse
#                  and reconcile times separately)
# then exports recon's matches (not timed) and scores both tier-1+2 match sets against truth.json.
#
# Environment: OUT (work dir, default /tmp/recon-compare), STORE (default /tmp/cmp.sqlite, deleted
# before each run), FROM (default 2026-10-01), TO (default 2026-10-30 up to 1 M lines, as in every
# series in BENCHMARKS.md; beyond, the end of recon-gen's span: N / 30,000 calendar days from 2026-10-01,
# at most 365, moved past a weekend so weekend lines' business dates stay in range: 2027-01-08 for 3 M,
# 2027-08-30 for 10 M), REPEAT (timed runs per tool, default 1), PYTHON (default python3, needs
# `pip install duckdb`), CORE_MAX (default 3000000: match-timing holds its generated data in memory,
# 13 GB at 3 M, so it is skipped above this; the 10 M row is DuckDB and `recon run` only).
# match-timing generates its own data over 30 days at every N (as the criterion bench does), so beyond
# 1 M it is denser than the files.
#
# One command for the whole curve (issue 7), e.g.
#   benches/compare.sh 100000=/tmp/gen100000 300000=/tmp/gen300000 1000000=/tmp/gen1m 3000000=/tmp/gen3000000
# The notes of each `recon run` give its stages from the run's own debug log: read, reconcile, rows
# mapped, matches upsert, the index builds of a bulk load ("indexes", when the run took that path),
# cases upsert and the commit, and the time per statement line.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/recon-compare}
STORE=${STORE:-/tmp/cmp.sqlite}
FROM=${FROM:-2026-10-01}
TO_FIXED=${TO:-}
REPEAT=${REPEAT:-1}
CORE_MAX=${CORE_MAX:-3000000}
PYTHON=${PYTHON:-python3}
CONFIG=benches/recon-gen.toml
BIN=target/release
mkdir -p "$OUT"

[ $# -gt 0 ] || set -- 100000=/tmp/gen100k 1000000=/tmp/gen1m

"$PYTHON" -c 'import duckdb' 2>/dev/null || { echo "duckdb is missing: $PYTHON -m pip install duckdb" >&2; exit 2; }
for b in recon recon-gen match-timing; do
    [ -x "$BIN/$b" ] || { echo "build first: cargo build --release -p recon -p recon-benches" >&2; exit 2; }
done
# Snapshot the binaries: a concurrent cargo build in the same target directory must not swap them
# between runs of a series.
mkdir -p "$OUT/bin"
cp "$BIN/recon" "$BIN/recon-gen" "$BIN/match-timing" "$OUT/bin/"
BIN_SRC=$PWD/$BIN
BIN=$OUT/bin

# wall seconds and peak RSS (MiB) from a /usr/bin/time -v report
wall() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$1"; }
cpu() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
load() { uptime | sed 's/.*load average: //'; }

TABLE="$OUT/table.tsv"
printf 'N\ttool\trun\twall_s\tcpu_s\tpeak_rss_mib\tload_1_5_15_before\tnotes\n' > "$TABLE"
SCORES="$OUT/scores.tsv"
printf 'N\tname\tmatches\tcorrect\tcorrect_pct\ttier1\ttier2\twrong_by_defect\n' > "$SCORES"

{
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(uname -srm), $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 " GiB RAM" }')"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "duckdb: $("$PYTHON" -c 'import duckdb; print(duckdb.__version__)'), $("$PYTHON" --version 2>&1)"
    echo "recon: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates jobs || echo " + uncommitted changes in: $(git diff --name-only HEAD -- crates jobs | paste -sd' ')")"
    echo "binaries (copied from $BIN_SRC): $(cd "$BIN" && for b in recon recon-gen match-timing; do printf '%s %s %s; ' "$b" "$(date -u -r "$BIN_SRC/$b" +%FT%TZ)" "$(sha256sum "$b" | cut -c1-12)"; done)"
} > "$OUT/machine.txt"

for arg in "$@"; do
    n=${arg%%=*}
    dir=${arg#*=}
    [ "$dir" != "$arg" ] || dir=/tmp/gen-$n
    # recon-gen's span beyond 1 M: N / 30,000 calendar days (at most 365) from 2026-10-01
    days=$(( n / 30000 )); [ "$n" -gt 1000000 ] || days=30; [ "$days" -le 365 ] || days=365
    TO=$(date -u -d "2026-10-01 + $((days - 1)) days" +%F)
    while [ "$(date -u -d "$TO" +%u)" -gt 5 ]; do TO=$(date -u -d "$TO + 1 day" +%F); done
    TO=${TO_FIXED:-$TO}
    st="$dir/neon_statement_lines.csv"
    mv="$dir/odoo_move_lines.csv"
    if [ ! -f "$st" ] || [ ! -f "$mv" ] || [ ! -f "$dir/truth.json" ]; then
        echo "== generating N=$n into $dir" >&2
        "$BIN/recon-gen" "$n" "$dir"
    fi
    for r in $(seq 1 "$REPEAT"); do
        # 1. DuckDB, tiers 1 and 2
        cat "$st" "$mv" > /dev/null
        l=$(load)
        echo "== N=$n run $r: duckdb (load $l)" >&2
        /usr/bin/time -v "$PYTHON" benches/duckdb/tiers12.py --statements "$st" --moves "$mv" \
            --out "$OUT/duckdb-$n.parquet" > "$OUT/duckdb-$n.out" 2> "$OUT/duckdb-$n.time"
        cat "$OUT/duckdb-$n.out" >&2
        note=$(awk '/^statements/ { print "matches (all dates) " $NF } /^stages/ { print $NF }' "$OUT/duckdb-$n.out" | paste -sd' ')
        printf '%s\tduckdb tiers12.py\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$r" "$(wall "$OUT/duckdb-$n.time")" "$(cpu "$OUT/duckdb-$n.time")" \
            "$(rss "$OUT/duckdb-$n.time")" "$l" "$note" >> "$TABLE"

        # 2. recon run, the whole job
        rm -f "$STORE" "$STORE-wal" "$STORE-shm" "$STORE-journal"
        cat "$st" "$mv" > /dev/null
        l=$(load)
        echo "== N=$n run $r: recon run (load $l)" >&2
        rc=0
        RUST_LOG=info,recon=debug,recon_store=debug /usr/bin/time -v -o "$OUT/recon-$n.time" \
            "$BIN/recon" run --config "$CONFIG" --statements "$st" --moves "$mv" \
            --store "$STORE" --from "$FROM" --to "$TO" > "$OUT/recon-$n.out" 2> "$OUT/recon-$n.log" || rc=$?
        # exit 3 = KPI below the alert line: the run worked
        [ "$rc" = 0 ] || [ "$rc" = 3 ] || { echo "recon run failed ($rc), see $OUT/recon-$n.*" >&2; exit 1; }
        grep -E '^Matches by rule' "$OUT/recon-$n.out" >&2
        note=$("$PYTHON" - "$STORE" "$OUT/recon-$n.log" "$(wall "$OUT/recon-$n.time")" <<'EOF'
import json, re, sqlite3, sys
from datetime import datetime
con = sqlite3.connect(sys.argv[1])
lines, timings = con.execute(
    "SELECT json_extract(counts_json, '$.lines.statements.read'), timings_json FROM runs "
    "ORDER BY started_at DESC LIMIT 1").fetchone()
t = json.loads(timings)
log = re.sub(r'\x1b\[[0-9;]*m', '', open(sys.argv[2], encoding="utf-8", errors="replace").read())
def ms(step):
    found = re.findall(re.escape(step) + r'.*? ms=(\d+)', log)
    return int(found[-1]) / 1000 if found else float("nan")
def at(message):
    found = re.findall(r'^(\S+Z) .*?' + re.escape(message), log, re.M)
    return datetime.fromisoformat(found[-1].replace("Z", "+00:00")) if found else None
written, last_step = at("run written"), at("write_run: quarantine written")
commit = (written - last_step).total_seconds() if written and last_step else float("nan")
print(f"{float(sys.argv[3]) / lines * 1e6:.0f} us/line; read {t['read_ms'] / 1000:.1f}s "
      f"reconcile {t['reconcile_ms'] / 1000:.1f}s prepared {ms('run rows prepared'):.1f}s "
      f"matches {ms('write_run: matches upserted'):.1f}s "
      + (f"indexes {ms('write_run: deferred indexes built'):.1f}s " if 'deferred indexes built' in log else "")
      + f"cases {ms('write_run: cases upserted'):.1f}s "
      f"commit {commit:.1f}s")
EOF
)
        printf '%s\trecon run\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$r" "$(wall "$OUT/recon-$n.time")" "$(cpu "$OUT/recon-$n.time")" \
            "$(rss "$OUT/recon-$n.time")" "$l" "$note" >> "$TABLE"

        # 3. recon's core alone, on data it generates in memory (13 GB at 3 M): up to CORE_MAX lines
        if [ "$n" -gt "$CORE_MAX" ]; then
            echo "== N=$n run $r: match-timing skipped (N above CORE_MAX=$CORE_MAX)" >&2
            continue
        fi
        l=$(load)
        echo "== N=$n run $r: match-timing (load $l)" >&2
        /usr/bin/time -v "$BIN/match-timing" "$n" > "$OUT/match-timing-$n.out" 2> "$OUT/match-timing-$n.time"
        cat "$OUT/match-timing-$n.out" >&2
        note=$(sed -E 's/.*generate ([^ ]+) parse ([^ ]+) reconcile ([^ ]+) .*/generate \1 parse \2 reconcile \3/' "$OUT/match-timing-$n.out")
        printf '%s\tmatch-timing (core)\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$r" "$(wall "$OUT/match-timing-$n.time")" "$(cpu "$OUT/match-timing-$n.time")" \
            "$(rss "$OUT/match-timing-$n.time")" "$l" "$note" >> "$TABLE"
    done

    # precision, not timed: recon's matches out of the store of the last run
    echo "== N=$n: export and score (not timed)" >&2
    "$BIN/recon" export matches --format csv --out "$OUT/recon-$n-matches.csv" --store "$STORE" 2> "$OUT/export-$n.log"
    "$PYTHON" benches/duckdb/score.py --truth "$dir/truth.json" --from "$FROM" --to "$TO" \
        --duckdb "$OUT/duckdb-$n.parquet" --recon "$OUT/recon-$n-matches.csv" | sed "s/^/$n\t/" >> "$SCORES"
done

echo
cat "$OUT/machine.txt"
echo
column -t -s $'\t' "$TABLE"
echo
echo "tier-1+2 matches with a statement business date in each size's range from $FROM, scored against truth.json:"
column -t -s $'\t' "$SCORES"
