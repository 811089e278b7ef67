#!/usr/bin/python3
"""Writes ONNX models that snc did not build, for the op-level latency LUT's acceptance bench
(bench/op-lut-foreign.ts): plain PyTorch modules with seeded random weights, exported with
torch.onnx.export (opset 17, constant folding, batch 1, static shapes).

    /usr/bin/python3 train/export_foreign_models.py                 # all models, default folders
    /usr/bin/python3 train/export_foreign_models.py --only vit --out-large out/foreign

Models:
  cnn        ResNet-18 topology (basic blocks 2-2-2-2) at widths 16-32-64-128, 224x224, 100 classes
  mobilenet  MobileNetV2 topology at width 0.5 (inverted residuals, depthwise 3x3, ReLU6), 160x160
  vit        ViT: patch 16, 224x224, width 192, depth 6, 3 heads, MLP 768, class token,
             hand-written attention (as timm writes it), exact GELU, LayerNorm

Models under 4 MB go to --out-small (committed: test/fixtures/foreign/), larger ones to
--out-large (git-ignored out/foreign/). The same seed gives the same weights.
"""
import argparse
import math
import os

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ResNetSmall(nn.Module):
    def __init__(self, widths=(16, 32, 64, 128), classes=100):
        super().__init__()
        w0 = widths[0]
        self.stem = nn.Sequential(nn.Conv2d(3, w0, 7, 2, 3, bias=False), nn.BatchNorm2d(w0), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], w0
        for i, w in enumerate(widths):
            layers += [BasicBlock(cin, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)]
            cin = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


def divisible(v, d=8):
    return max(d, int(v + d / 2) // d * d)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hid = cin * expand
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hid, 1, bias=False), nn.BatchNorm2d(hid), nn.ReLU6()]
        layers += [nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(),
                   nn.Conv2d(hid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    SETTING = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, width=0.5, classes=100):
        super().__init__()
        cin = divisible(32 * width)
        last = 1280
        layers = [nn.Conv2d(3, cin, 3, 2, 1, bias=False), nn.BatchNorm2d(cin), nn.ReLU6()]
        for t, c, n, s in self.SETTING:
            cout = divisible(c * width)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        layers += [nn.Conv2d(cin, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(last, classes)

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class EncoderBlock(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, image=224, patch=16, dim=192, depth=6, heads=3, mlp=768, classes=100):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        n = (image // patch) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[EncoderBlock(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


MODELS = {
    'cnn': (lambda: ResNetSmall(), 224),
    'mobilenet': (lambda: MobileNetV2(0.5), 160),
    'vit': (lambda: ViT(), 224),
}


def randomize_bn(model, gen):
    # non-trivial BatchNorm statistics, so that folding them is real work for the exporter
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', default='', help='comma-separated subset of ' + ', '.join(MODELS))
    ap.add_argument('--out-small', default='test/fixtures/foreign', help='folder for models under --max-mb')
    ap.add_argument('--out-large', default='out/foreign', help='folder for the others')
    ap.add_argument('--max-mb', type=float, default=4.0)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    names = [n for n in args.only.split(',') if n] or list(MODELS)
    for name in names:
        make, res = MODELS[name]
        torch.manual_seed(args.seed)
        model = make().eval()
        with torch.no_grad():
            randomize_bn(model, torch.Generator().manual_seed(args.seed))
        params = sum(p.numel() for p in model.parameters())
        folder = args.out_small if params * 4 / 1e6 < args.max_mb * 0.97 else args.out_large
        os.makedirs(folder, exist_ok=True)
        out = os.path.join(folder, f'{name}.onnx')
        x = torch.randn(1, 3, res, res, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            torch.onnx.export(model, (x,), out, input_names=['input'], output_names=['logits'], opset_version=17, do_constant_folding=True)
        print(f'wrote {out}: {params / 1e6:.2f} M parameters, {os.path.getsize(out) / 1e6:.2f} MB, input 1x3x{res}x{res}, torch {torch.__version__}')


if __name__ == '__main__':
    main()
