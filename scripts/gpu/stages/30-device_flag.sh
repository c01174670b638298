# `amp --device`: the CUDA build finds the GPU, and names a GPU index that does not exist.
stage_device_flag() {
    local log
    log="$(mktemp)"
    timed 60 "$log" "$PACK/bin/amp" train configs/demo/baseline.toml --device cuda:0 --epochs 1 --quiet --out "$(mktemp -d)"
    if grep -q -- "--device cuda:0: the GPU is usable" "$log" || grep -q "run record:" "$log"; then
        row device_flag "--device cuda:0" ok "opens the GPU"
    else
        row device_flag "--device cuda:0" FAIL "$(tail -1 "$log")"
    fi
    timed 60 "$log" "$PACK/bin/amp" train configs/demo/baseline.toml --device cuda:64 --epochs 1 --quiet --out "$(mktemp -d)"
    if grep -q -- "--device cuda:64: there is no GPU 64" "$log"; then
        row device_flag "--device cuda:64" ok "clear error: $(grep -oP 'visible: .*' "$log")"
    else
        row device_flag "--device cuda:64" FAIL "$(tail -1 "$log")"
    fi
}
