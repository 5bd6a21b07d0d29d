#!/usr/bin/env bash
# Benchmark: backup and restore throughput of a PostgreSQL add-on holding about SIZE_MB (default 100) MB:
# `paas pg:backups:capture` (pg_dump -Fc in the server's container, streamed to the controller's data
# directory) and `paas pg:backups:restore` (streamed back into pg_restore --clean), in MB of database
# (pg_database_size) per second of wall time as the CLI sees it. Starts its own throwaway platform.
set -euo pipefail

SIZE_MB=${SIZE_MB:-100}
# shellcheck source=lib/platform.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/platform.sh"
docker image inspect paas/addons:latest >/dev/null 2>&1 || { echo "paas/addons is missing: run deploy/addons/build.sh" >&2; exit 1; }
start_platform

app=pgbackup-$$
new_app "$app" pgcount
paas addons:create postgresql:small -a "$app" >/dev/null
# Rows of hex (md5) text: about 270 bytes each on disk, compressing about 2x in the dump, as real text does.
rows=$((SIZE_MB * 1000000 / 270))
paas pg:psql -a "$app" -c "CREATE TABLE big AS SELECT g, md5(g::text) || md5((g+1)::text) || md5((g+2)::text) || md5((g+3)::text) || md5((g+4)::text) || md5((g+5)::text) AS pad FROM generate_series(1, $rows) g" >/dev/null
db_bytes=$(paas pg:psql -a "$app" -c "SELECT pg_database_size(current_database())" | sed -n 3p | tr -d ' ')
db_mb=$(awk -v b="$db_bytes" 'BEGIN {printf "%.1f", b / 1e6}')

start=$(now)
paas pg:backups:capture -a "$app" | tail -1
capture=$(elapsed "$start")
dump_bytes=$(paas pg:backups -a "$app" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["size_bytes"])')
start=$(now)
paas pg:backups:restore b001 -a "$app" --confirm "$app" >/dev/null
restore=$(elapsed "$start")
rows_after=$(paas pg:psql -a "$app" -c "SELECT count(*) FROM big" | sed -n 3p | tr -d ' ')
[[ $rows_after == "$rows" ]] || { echo "restore lost rows: $rows_after of $rows" >&2; exit 1; }
echo "==> database ${db_mb} MB (dump $(awk -v b="$dump_bytes" 'BEGIN {printf "%.1f", b / 1e6}') MB): capture ${capture}s = $(awk -v m="$db_mb" -v s="$capture" 'BEGIN {printf "%.1f", m / s}') MB/s, restore ${restore}s = $(awk -v m="$db_mb" -v s="$restore" 'BEGIN {printf "%.1f", m / s}') MB/s; $rows_after rows back"
# The platform's teardown removes containers; the add-on's volume and firewall rule go with the add-on.
paas addons:destroy postgresql -a "$app" --confirm "$app" >/dev/null
