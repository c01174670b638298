#!/usr/bin/env python3
# Usage: python3 scripts/vgg11_lr_reference.py ../shared/data/cifar10-jpeg.tar.gz LR
# Needs torch, numpy, pillow (pip install torch numpy pillow).
# Reference: does VGG-11 with batch norm diverge in PyTorch at lr 0.1 on a 5000-image
# CIFAR-10 subset (batch 128, SGD momentum 0.9, wd 5e-4, crop 4 + flip)?
import io, sys, tarfile, random, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image
torch.set_num_threads(2); torch.manual_seed(0); random.seed(0)
classes = ["airplane","automobile","bird","cat","deer","dog","frog","horse","ship","truck"]
xs, ys = [], []
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        if m.name.endswith(".jpg") and "/train/" in m.name:
            xs.append(m.name)
random.shuffle(xs); xs = sorted(xs[:5000])
names = set(xs)
with tarfile.open(sys.argv[1]) as t:
    data = {}
    for m in t:
        if m.name in names:
            data[m.name] = np.asarray(Image.open(io.BytesIO(t.extractfile(m).read())).convert("RGB"), dtype=np.float32) / 255.0
x = torch.tensor(np.stack([data[n] for n in xs])).permute(0, 3, 1, 2).contiguous()
y = torch.tensor([classes.index(n.split("/")[-2]) for n in xs])
mean = x.mean(dim=(0, 2, 3), keepdim=True); std = x.std(dim=(0, 2, 3), keepdim=True)
x = (x - mean) / std
cfg = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
layers, c = [], 3
for v in cfg:
    if v == "M": layers.append(nn.MaxPool2d(2, 2))
    else: layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]; c = v
net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(512, 10))
lr = float(sys.argv[2])
opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
for epoch in range(2):
    perm = torch.randperm(len(x)); tot, n, t0 = 0.0, 0, time.time()
    for i in range(0, len(x), 128):
        idx = perm[i:i+128]; xb = F.pad(x[idx], (4, 4, 4, 4))
        dx, dy = random.randint(0, 8), random.randint(0, 8)
        xb = xb[:, :, dy:dy+32, dx:dx+32]
        if random.random() < 0.5: xb = xb.flip(3)
        loss = F.cross_entropy(net(xb), y[idx])
        opt.zero_grad(); loss.backward(); opt.step()
        tot += loss.item() * len(idx); n += len(idx)
    print(f"pytorch vgg11-bn lr {lr} epoch {epoch+1}: mean train loss {tot/n:.3f} ({time.time()-t0:.0f}s)", flush=True)
