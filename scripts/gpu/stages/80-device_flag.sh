# `amp train --device cuda:0`: the intelligent demo (5 epochs: two observed, then amplified) on
# the GPU and on the CPU (same config and seed: accuracies close, not identical), ResNet-18
# through the trainer on the GPU (5 epochs on 2560 synthetic images, taps on), and a GPU index
# that does not exist (a clear error).
record_row() {  # record_row ITEM DIR: a row from the run record in DIR
    local rec
    rec="$(find "$2" -name '*.json' | head -1)"
    if [[ -z "$rec" ]]; then
        row device_flag "$1" FAIL "no run record: $(tail -1 "$log")"
        return
    fi
    row device_flag "$1" ok "$(python3 "$REPO/scripts/gpu/records.py" device "$rec" 2>&1 | tail -1)"
}

stage_device_flag() {
    if [[ ! -x "$PACK/bin/amp" ]]; then
        row device_flag amp skip "not in this pack (AMP_PACK_BINS)"
        return 0
    fi
    local log out dev
    log="$(mktemp)"
    for dev in cuda:0 cpu; do
        out="$(mktemp -d)"
        timed 90 "$log" "$PACK/bin/amp" train configs/demo/intelligent.toml --device "$dev" --epochs 5 --quiet --out "$out"
        record_row "demo (cnn) --device $dev" "$out"
    done
    out="$(mktemp -d)"
    timed 90 "$log" "$PACK/bin/amp" train configs/demo/intelligent.toml --model resnet18 --device cuda:0 --epochs 5 --limit 2560 --quiet --out "$out"
    record_row "resnet18 --device cuda:0" "$out"
    timed 30 "$log" "$PACK/bin/amp" train configs/demo/baseline.toml --device cuda:64 --epochs 1 --quiet --out "$(mktemp -d)"
    if grep -q -- "--device cuda:64: there is no GPU 64" "$log"; then
        row device_flag "--device cuda:64" ok "clear error: $(grep -oP 'visible: .*' "$log")"
    else
        row device_flag "--device cuda:64" FAIL "$(tail -1 "$log")"
    fi
}
