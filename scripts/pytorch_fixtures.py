#!/usr/bin/env python3
"""Writes PyTorch reference values for amp-nn's layers into amp-nn/tests/fixtures/.

Each case stores inputs, parameters, an upstream gradient `gy`, the output `y`
and the gradients of `sum(y * gy)` with respect to every input, all as flat
float64 lists in NCHW / PyTorch parameter layout. The Rust tests read these
JSON files, so they do not need torch installed.

Usage: python3 scripts/pytorch_fixtures.py
"""
import json
import os

import torch

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), "..", "amp-nn", "tests", "fixtures")


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def conv_cases():
    cases = []
    # (n, c, h, w, o, k, s, p, bias)
    for n, c, h, w, o, k, s, p, bias in [
        (2, 3, 5, 7, 4, 3, 1, 1, True),
        (2, 3, 5, 7, 4, 3, 2, 1, False),
        (2, 3, 5, 7, 4, 3, 1, 0, True),
        (2, 3, 6, 5, 4, 3, 2, 2, True),
        (2, 3, 7, 7, 4, 3, 2, 0, False),
        (2, 3, 5, 7, 4, 1, 1, 0, True),
        (2, 3, 5, 7, 4, 1, 2, 0, False),
        (3, 3, 4, 4, 4, 3, 1, 2, True),
    ]:
        x = torch.randn(n, c, h, w, requires_grad=True)
        wt = torch.randn(o, c, k, k, requires_grad=True)
        b = torch.randn(o, requires_grad=True) if bias else None
        y = torch.nn.functional.conv2d(x, wt, b, stride=s, padding=p)
        gy = torch.randn_like(y)
        (y * gy).sum().backward()
        cases.append(dict(
            n=n, c=c, h=h, w=w, o=o, k=k, s=s, p=p,
            x=flat(x), weight=flat(wt), bias=flat(b) if bias else None,
            y=flat(y), y_shape=list(y.shape), gy=flat(gy),
            gx=flat(x.grad), gweight=flat(wt.grad), gbias=flat(b.grad) if bias else None,
        ))
    return cases


def pool_cases():
    cases = []
    # (kind, n, c, h, w, k, s, p)
    for kind, n, c, h, w, k, s, p in [
        ("max", 2, 3, 5, 7, 2, 2, 0),
        ("max", 2, 3, 5, 7, 3, 2, 1),
        ("max", 2, 3, 5, 7, 3, 1, 0),
        ("avg", 2, 3, 6, 6, 2, 2, 0),
        ("avg", 2, 3, 5, 7, 3, 1, 1),
        ("avg", 2, 3, 5, 7, 3, 2, 1),
    ]:
        x = torch.randn(n, c, h, w, requires_grad=True)
        if kind == "max":
            y = torch.nn.functional.max_pool2d(x, k, s, p)
        else:
            y = torch.nn.functional.avg_pool2d(x, k, s, p, count_include_pad=True)
        gy = torch.randn_like(y)
        (y * gy).sum().backward()
        cases.append(dict(kind=kind, n=n, c=c, h=h, w=w, k=k, s=s, p=p,
                          x=flat(x), y=flat(y), y_shape=list(y.shape), gy=flat(gy), gx=flat(x.grad)))
    return cases


def batchnorm_cases():
    cases = []
    for n, c, h, w in [(4, 3, 5, 7), (2, 3, 1, 3)]:
        bn = torch.nn.BatchNorm2d(c)  # momentum 0.1, eps 1e-5
        with torch.no_grad():
            bn.weight.copy_(torch.randn(c))
            bn.bias.copy_(torch.randn(c))
        scale0, bias0 = flat(bn.weight), flat(bn.bias)
        x = (torch.randn(n, c, h, w) * 2.0 + 3.0).requires_grad_(True)
        bn.train()
        y = bn(x)
        gy = torch.randn_like(y)
        (y * gy).sum().backward()
        bn.eval()
        x_eval = torch.randn(n, c, h, w, requires_grad=True)
        y_eval = bn(x_eval)
        gy_eval = torch.randn_like(y_eval)
        bn.weight.grad = None
        bn.bias.grad = None
        (y_eval * gy_eval).sum().backward()
        cases.append(dict(
            n=n, c=c, h=h, w=w, scale=scale0, bias=bias0,
            x=flat(x), y=flat(y), gy=flat(gy), gx=flat(x.grad),
            # grads of the train step were overwritten above, recompute them
            running_mean=flat(bn.running_mean), running_var=flat(bn.running_var),
            x_eval=flat(x_eval), y_eval=flat(y_eval), gy_eval=flat(gy_eval),
            gx_eval=flat(x_eval.grad), gscale_eval=flat(bn.weight.grad), gbias_eval=flat(bn.bias.grad),
        ))
        # train-step parameter grads, from a fresh module with the same params
        bn2 = torch.nn.BatchNorm2d(c)
        with torch.no_grad():
            bn2.weight.copy_(torch.tensor(scale0))
            bn2.bias.copy_(torch.tensor(bias0))
        bn2.train()
        (bn2(x.detach()) * gy).sum().backward()
        cases[-1]["gscale"] = flat(bn2.weight.grad)
        cases[-1]["gbias"] = flat(bn2.bias.grad)
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, cases in [("conv2d", conv_cases()), ("pool2d", pool_cases()), ("batchnorm2d", batchnorm_cases())]:
        path = os.path.join(OUT, f"{name}.json")
        with open(path, "w") as f:
            json.dump({"torch_version": torch.__version__, "cases": cases}, f)
        print(f"wrote {len(cases)} cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
