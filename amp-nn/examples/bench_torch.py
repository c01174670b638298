#!/usr/bin/env python3
"""PyTorch CPU reference for amp-nn's bench: times the same training steps.

Usage: python3 bench_torch.py {convs|resnet18} BATCH STEPS THREADS
Prints one JSON line: {"ms_per_step": ..., "peak_rss_mb": ...}.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


class Block(nn.Module):
    def __init__(self, i, o, s):
        super().__init__()
        self.c1 = nn.Conv2d(i, o, 3, s, 1, bias=False)
        self.b1 = nn.BatchNorm2d(o)
        self.c2 = nn.Conv2d(o, o, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(o)
        self.sc = None
        if s != 1 or i != o:
            self.sc = nn.Sequential(nn.Conv2d(i, o, 1, s, 0, bias=False), nn.BatchNorm2d(o))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.sc is None else self.sc(x)))


def resnet18():
    layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
    i = 64
    for o, s in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        layers += [Block(i, o, s), Block(o, o, 1)]
        i = o
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
    return nn.Sequential(*layers)


def main():
    which, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.randn(batch, 3, 32, 32)
    if which == "convs":
        model = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 1, 1), nn.ReLU(),
                              nn.Conv2d(64, 64, 3, 1, 1))
        loss_fn = lambda y: y.mean()
    else:
        model = resnet18()
        labels = torch.randint(0, 10, (batch,))
        loss_fn = lambda y: F.cross_entropy(y, labels)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x))
        loss.backward()
        opt.step()

    step()  # warm-up
    t = time.perf_counter()
    for _ in range(steps):
        step()
    ms = (time.perf_counter() - t) * 1000.0 / steps
    print(json.dumps({"ms_per_step": ms, "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()
