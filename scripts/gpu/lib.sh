# Helpers shared by scripts/gpu/run.sh and its stages (sourced, not run).

RESULTS="$(mktemp)"
: >"$RESULTS"

# row STAGE ITEM VALUE [NOTE]: one line of the results table. VALUE is a number, ok, FAIL or skip.
row() {
    printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "${4:-}" >>"$RESULTS"
}

print_table() {
    echo "| stage | item | value | note |"
    echo "|---|---|---|---|"
    cat "$RESULTS"
}

# timed SECONDS LOGFILE CMD...: runs CMD with a time limit, output both shown and kept in LOGFILE.
timed() {
    local secs="$1" log="$2"
    shift 2
    timeout --kill-after=10 "$secs" "$@" 2>&1 | tee "$log"
    return "${PIPESTATUS[0]}"
}

# first_match REGEX FILE: the first capture group of REGEX (grep -P) in FILE.
first_match() {
    grep -oP "$1" "$2" | head -1
}

# trim TEXT: TEXT without leading and trailing white space.
trim() {
    local s="$1"
    s="${s#"${s%%[![:space:]]*}"}"
    printf '%s' "${s%"${s##*[![:space:]]}"}"
}

# gpu_rows LOGFILE: a row for each `RESULT <stage> | <item> | <value> | <note>` line of gpu_check.
gpu_rows() {
    local st item value note
    while IFS='|' read -r st item value note; do
        row "$(trim "$st")" "$(trim "$item")" "$(trim "$value")" "$(trim "$note")"
    done < <(grep '^RESULT ' "$1" | sed 's/^RESULT //')
}
