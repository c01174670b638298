# METHOD.md section 6 on the full CIFAR-10, on the GPU: cells of configs/grids/method-section6.toml
# (ResNet-18, 16 epochs, k = 2, `output` mode), by default cell 2 (baseline, lr 0.4, seed 0) and
# cell 7 (intelligent cv / mean / above, lr 0.4, seed 0, paired with cell 2), then the grid's
# report. Minutes per cell, so it runs only when named: AMP_GPU_STAGES="experiment".
#
# The data travels with the call without being copied into the project: an ignored link
# `gpu-data -> ../shared/data` here, and carry "gpu-data/cifar10-jpeg.tar.gz" (the device tool
# then sends the file at that path). The run records and the report are copied to
# $OUT/experiment when the device tool's $OUT is set, so they come back (not the checkpoints);
# they carry the shipped grid's cell ids, so copied into runs/grid/method-section6/ they join
# its report here.
#
# AMP_EXPERIMENT_CELLS   cell indexes or ids in plan order (default "2 7")
# AMP_EXPERIMENT_SECONDS time limit for all cells together (default 420)
# AMP_EXPERIMENT_DEVICE  default cuda:0 (cpu: a dry run of this stage on a development machine)
# AMP_EXPERIMENT_DATA    the folder holding cifar10-jpeg.tar.gz (default gpu-data)
# AMP_EXPERIMENT_OUT     the grid's results folder (default runs/experiment)
# AMP_EXPERIMENT_EPOCHS, AMP_EXPERIMENT_LIMIT  shorten the runs (epochs; training images, with
#                        as many test images): for dry runs; the report then is no section 6
stage_experiment() {
    if [[ " ${AMP_GPU_STAGES:-} " != *" experiment "* ]]; then
        row experiment cells skip "runs only when named: AMP_GPU_STAGES=\"... experiment\""
        return 0
    fi
    if [[ ! -x "$PACK/bin/amp" ]]; then
        row experiment cells skip "no amp binary in this pack (AMP_PACK_BINS=\"gpu_check amp\")"
        return 0
    fi
    local data="${AMP_EXPERIMENT_DATA:-gpu-data}"
    if [[ ! -f "$data/cifar10-jpeg.tar.gz" ]]; then
        row experiment cells skip "no $data/cifar10-jpeg.tar.gz: carry gpu-data/cifar10-jpeg.tar.gz (see this stage's header)"
        return 0
    fi
    local out
    out="$(realpath -m "${AMP_EXPERIMENT_OUT:-runs/experiment}")"
    # The shipped grid, whose cell ids the records then carry (so they join
    # runs/grid/method-section6 here), unless a dry run shortens it: then a copy next to it
    # (its config paths are relative), removed afterwards.
    local grid=configs/grids/method-section6.toml
    if [[ -n "${AMP_EXPERIMENT_EPOCHS:-}${AMP_EXPERIMENT_LIMIT:-}" ]]; then
        grid=configs/grids/method-section6-dry-run.toml
        python3 - "${AMP_EXPERIMENT_EPOCHS:-}" "${AMP_EXPERIMENT_LIMIT:-}" >"$grid" <<'PY' || {
import sys
epochs, limit = sys.argv[1:]
text = open("configs/grids/method-section6.toml").read()
if limit:
    text = text.replace("\n[axes]", "\nlimit = %s\ntest_limit = %s\n\n[axes]" % (limit, limit))
if epochs:
    text += '"train.epochs" = [%s]\n' % epochs
print(text, end="")
PY
            row experiment grid FAIL "could not write $grid"
            return 0
        }
    fi
    # The grid reads `../shared/data/cifar10-jpeg.tar.gz` from the current folder: run it from
    # a folder whose ../shared/data is the carried one (nothing outside the checkout changes).
    local root log args=() c
    root="$(mktemp -d)"
    mkdir -p "$root/shared" "$root/cwd"
    ln -s "$(realpath "$data")" "$root/shared/data"
    log="$(mktemp)"
    for c in ${AMP_EXPERIMENT_CELLS:-2 7}; do args+=(--cell "$c"); done
    (cd "$root/cwd" && timed "${AMP_EXPERIMENT_SECONDS:-420}" "$log" "$PACK/bin/amp" grid run \
        "$REPO/$grid" --out "$out" --device "${AMP_EXPERIMENT_DEVICE:-cuda:0}" "${args[@]}")
    local status=$?
    rm -rf "$root"
    "$PACK/bin/amp" grid report "$grid" --out "$out" --name report-experiment
    [[ "$grid" == configs/grids/method-section6.toml ]] || rm -f "$grid"
    experiment_rows "$out"
    # What comes back from the device tool: records and report, not the checkpoints (86 MiB
    # per ResNet-18 cell, over what $OUT returns).
    if [[ -n "${OUT:-}" ]]; then
        mkdir -p "$OUT/experiment"
        (cd "$out" && find . -type f \( -name '*.json' -o -name '*.toml' -o -name 'report-*' \) \
            -exec cp --parents {} "$OUT/experiment" \;)
    fi
    [[ $status == 0 ]] || row experiment "grid run" FAIL "exit status $status (124: the time limit; the records so far are in $out)"
}

# experiment_rows DIR: a row per run record under DIR (cell, final test accuracy, epochs, time).
experiment_rows() {
    local item value note
    while IFS='|' read -r item value note; do
        row experiment "$item" "$value" "$note"
    done < <(python3 "$REPO/scripts/gpu/records.py" experiment "$1")
}
