# `amp train --device cuda:0` trains the demo (2 epochs) on the GPU, and on the CPU for
# comparison (same config and seed: the accuracies should be close, not identical); a GPU
# index that does not exist is a clear error.
stage_device_flag() {
    if [[ ! -x "$PACK/bin/amp" ]]; then
        row device_flag amp skip "not in this pack (AMP_PACK_BINS)"
        return 0
    fi
    local log out dev
    log="$(mktemp)"
    for dev in cuda:0 cpu; do
        out="$(mktemp -d)"
        timed 120 "$log" "$PACK/bin/amp" train configs/demo/baseline.toml --device "$dev" --epochs 2 --quiet --out "$out"
        local rec
        rec="$(find "$out" -name '*.json' | head -1)"
        if [[ -n "$rec" ]]; then
            row device_flag "amp train --device $dev" ok "$(python3 -c "
import json, sys
r = json.load(open('$rec'))
e = r['epochs'][-1]
print(f\"demo, 2 epochs: test acc {e['test_acc']:.3f}, loss {e['train_loss']:.4f}; record device {r.get('provenance', {}).get('device', '?')}\")
" 2>&1 | tail -1)"
        else
            row device_flag "amp train --device $dev" FAIL "$(tail -1 "$log")"
        fi
    done
    timed 60 "$log" "$PACK/bin/amp" train configs/demo/baseline.toml --device cuda:64 --epochs 1 --quiet --out "$(mktemp -d)"
    if grep -q -- "--device cuda:64: there is no GPU 64" "$log"; then
        row device_flag "--device cuda:64" ok "clear error: $(grep -oP 'visible: .*' "$log")"
    else
        row device_flag "--device cuda:64" FAIL "$(tail -1 "$log")"
    fi
}
