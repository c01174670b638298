#!/usr/bin/env python3
"""PyTorch on the GPU: CIFAR ResNet-18 (the same network as amp-nn's bench) or VGG-16 (as
amp-models' Vgg16: conv 3x3 with bias, batch norm, ReLU, five 2x2 max pools, one linear layer)
train-step timing.

Usage: torch_resnet18.py --model resnet18|vgg16 --tf32 default|off --batch 128 --steps 30
One step = forward, cross-entropy, backward, SGD (momentum 0.9, weight decay 5e-4), fp32.
`--tf32 default` keeps PyTorch's defaults (cuDNN convolutions may use TF32, matmuls do not);
`off` disables TF32 in both. Prints one JSON line.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "amp-nn", "examples"))
from bench_torch import resnet18  # noqa: E402  (the network amp-nn's bench compares against)


def vgg16(classes=10):
    layers, c = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        if v == "M":
            layers.append(torch.nn.MaxPool2d(2, 2))
        else:
            layers += [torch.nn.Conv2d(c, v, 3, padding=1), torch.nn.BatchNorm2d(v), torch.nn.ReLU()]
            c = v
    return torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(512, classes))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["resnet18", "vgg16"], default="resnet18")
    p.add_argument("--tf32", choices=["default", "off"], default="default")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=30)
    a = p.parse_args()
    if a.tf32 == "off":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    torch.manual_seed(0)
    model = (resnet18() if a.model == "resnet18" else vgg16()).to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(a.batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (a.batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(10):  # warm-up, cuDNN autotuning
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    torch.cuda.synchronize()
    ms = (time.perf_counter() - t) * 1000.0 / a.steps
    print(json.dumps({
        "ms_per_step": round(ms, 3),
        "images_per_s": round(a.batch * 1000.0 / ms, 1),
        "model": a.model,
        "peak_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1),
        "reserved_mib": round(torch.cuda.max_memory_reserved() / 2**20, 1),
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(),
        "gpu": torch.cuda.get_device_name(),
    }))


if __name__ == "__main__":
    main()
