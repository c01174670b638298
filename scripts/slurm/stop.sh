#!/usr/bin/env bash
# Stops the daemons that scripts/slurm/start.sh started, by the pids it recorded in
# $AMP_SLURM_DIR/pids (default /tmp/amp-slurm), and nothing else: a pid is only signalled while
# it still runs the program recorded for it.
set -uo pipefail
DIR="${AMP_SLURM_DIR:-/tmp/amp-slurm}"
[ -f "$DIR/pids" ] || { echo "slurm/stop.sh: nothing recorded in $DIR/pids" >&2; exit 0; }
while read -r name pid; do
    [ -n "${pid:-}" ] || continue
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
        kill "$pid" && echo "slurm/stop.sh: stopped $name ($pid)" >&2
        for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    fi
done < "$DIR/pids"
rm -f "$DIR/pids"
