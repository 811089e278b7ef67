"""The snc supernet family in plain PyTorch: docs/architecture.md, step by step.

This is the independent reference of src/detr/blocks.ts. It does none of the export-time
folding snc does: layer scale is its own multiply, q/k/v are separate projections, the
attention scale multiplies q, sampling locations are ref.xy + off / P * ref.wh * 0.5, and the
patch kernel and position table are resized with torch ops (pinv of the bilinear matrix,
bicubic F.interpolate).

Module names follow docs/weights.md, so `state_dict()` keys are the supernet's tensor names.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------------------- resizing

def bilinear_matrix(n_in, n_out, dtype=torch.float64):
    """B1 [n_out, n_in]: 1-D bilinear resizing (align_corners=False, no antialias), built by
    resizing the identity basis with F.interpolate."""
    basis = torch.eye(n_in, dtype=dtype).reshape(n_in, 1, 1, n_in)
    out = F.interpolate(basis, size=(1, n_out), mode='bilinear', align_corners=False, antialias=False)
    return out.reshape(n_in, n_out).t()


def pi_resize_matrix(n_from, n_to):
    """M = pinv(B1^T) [n_to, n_from] (FlexiViT pseudo-inverse resize), float64."""
    return torch.linalg.pinv(bilinear_matrix(n_from, n_to).t())


def resize_patch_kernel(w, n_to):
    """[Cout, Cin, P0, P0] -> [Cout, Cin, p, p]: every plane becomes M w M^T (computed in float64)."""
    n_from = w.shape[-1]
    if n_from == n_to:
        return w
    m = pi_resize_matrix(n_from, n_to)
    return (m @ w.to(torch.float64) @ m.t()).to(w.dtype)


def resize_pos_table(pos, grid, antialias=False):
    """[1, S*S, C] (row-major) -> [1, C, G, G], bicubic F.interpolate (align_corners=False),
    antialias=True for posResize 'bicubic-antialias' (RF-DETR). Not resized at G = S."""
    _, ss, c = pos.shape
    s = int(round(math.sqrt(ss)))
    table = pos.reshape(1, s, s, c).permute(0, 3, 1, 2)
    if s == grid and antialias:
        return table
    return F.interpolate(table, size=(grid, grid), mode='bicubic', align_corners=False, antialias=antialias)


def to_window_major(x, nw):
    """[B, C, G, G] -> [B, N, C] in window-major token order (plain flatten when nw = 1)."""
    b, c, g_, _ = x.shape
    g = g_ // nw
    return x.reshape(b, c, nw, g, nw, g).permute(0, 2, 4, 3, 5, 1).reshape(b, g_ * g_, c)


def to_row_major(x, nw, grid):
    """[B, N, D] window-major -> [B, N, D] row-major spatial order."""
    b, n, d = x.shape
    g = grid // nw
    return x.reshape(b, nw, nw, g, g, d).permute(0, 1, 3, 2, 4, 5).reshape(b, n, d)


def inverse_sigmoid(x, eps=1e-5):
    return torch.log(x.clamp(min=eps, max=1) / (1 - x).clamp(min=eps, max=1))


def apply_delta(delta, box, reparam):
    """A box delta on boxes (cx, cy, w, h): sigmoid(delta + logit(box)), or with box
    reparametrisation (boxEncoding 'reparam'): xy = dxy * wh + xy, wh = exp(dwh) * wh."""
    if not reparam:
        return torch.sigmoid(delta + inverse_sigmoid(box))
    xy = delta[..., :2] * box[..., 2:] + box[..., :2]
    wh = delta[..., 2:].exp() * box[..., 2:]
    return torch.cat([xy, wh], dim=-1)


def sine_embedding(box, d):
    """[B, Q, 4] boxes -> [B, Q, 2d]: per coordinate in the order y, x, w, h, d/2 channels of
    sin(2 pi v / T_j) and cos(2 pi v / T_j) interleaved, T_j = 10000 ** (2 * (j // 2) / (d / 2))."""
    half = d // 2
    j = torch.arange(half, dtype=box.dtype)
    t = 10000 ** (2 * torch.div(j, 2, rounding_mode='floor') / half)
    parts = []
    for c in (1, 0, 2, 3):
        v = box[..., c:c + 1] * (2 * math.pi) / t  # [B, Q, half]
        parts.append(torch.stack([v[..., 0::2].sin(), v[..., 1::2].cos()], dim=-1).flatten(-2))
    return torch.cat(parts, dim=-1)


# ---------------------------------------------------------------------------- modules

class MLP(nn.Module):
    """Linear layers with ReLU between (`<name>.layers.{i}`)."""

    def __init__(self, dims):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x


class LayerScale(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


def multi_head(q, k, v, heads):
    """q (already scaled), k, v [B, n, W] -> softmax(q k^T) v, heads concatenated [B, n, W]."""
    b, n, w = q.shape
    dh = w // heads

    def split(t):
        return t.reshape(b, n, heads, dh).transpose(1, 2)

    attn = torch.softmax(split(q) @ split(k).transpose(-2, -1), dim=-1)
    return (attn @ split(v)).transpose(1, 2).reshape(b, n, w)


class ViTAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.dim = heads, dim
        self.scale = 1.0 / math.sqrt(dim // heads)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = self.qkv(x).split(self.dim, dim=-1)
        q = q * self.scale
        return self.proj(multi_head(q, k, v, self.heads))


class ViTMlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU


class ViTBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = ViTAttention(dim, heads)
        self.ls1 = LayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = ViTMlp(dim, dim * mlp_ratio)
        self.ls2 = LayerScale(dim)

    def forward(self, x, num_windows):
        """x [B, N, C] window-major; attention within num_windows groups of N / num_windows tokens."""
        b, n, c = x.shape
        h = self.norm1(x).reshape(b * num_windows, n // num_windows, c)
        h = self.attn(h).reshape(b, n, c)
        x = x + self.ls1(h)
        x = x + self.ls2(self.mlp(self.norm2(x)))
        return x


def stem_stride(a):
    """The convolutional stem's stride (2 per layer), 1 without a stem."""
    stem = a.get('stem')
    return 2 ** len(stem['channels']) if stem else 1


class ConvStem(nn.Module):
    """The hybrid-ViT stem (backbone.stem {type: 'conv', channels, blocks?, eps}): per channel count a
    3x3 conv of stride 2 (padding 1, no bias), LayerNorm over channels, SiLU (`backbone.stem.layers.{i}`),
    then blocks[i] residual blocks (`backbone.stem.blocks.{i}.{j}`: StemResBlock); [B, 3, R, R] ->
    [B, channels[-1], R/S, R/S], S = 2^len(channels)."""

    def __init__(self, c_in, channels, eps, blocks=None):
        super().__init__()
        blocks = blocks or [0] * len(channels)
        layers = []
        for c in channels:
            layers.append(ConvNormAct(c_in, c, 3, eps, stride=2))
            c_in = c
        self.layers = nn.ModuleList(layers)
        self.blocks = nn.ModuleList(nn.ModuleList(StemResBlock(c, eps) for _ in range(n)) for c, n in zip(channels, blocks))

    def forward(self, x):
        for m, stage in zip(self.layers, self.blocks):
            x = m(x)
            for b in stage:
                x = b(x)
        return x


class StemResBlock(nn.Module):
    """x -> SiLU(x + LN(conv2(SiLU(LN(conv1(x)))))): two 3x3 convs without bias, LayerNorm over
    channels (`cv1.{conv,norm}`, `conv2`, `norm2`)."""

    def __init__(self, c, eps):
        super().__init__()
        self.cv1 = ConvNormAct(c, c, 3, eps)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.norm2 = nn.LayerNorm(c, eps=eps)

    def forward(self, x):
        h = self.norm2(self.conv2(self.cv1(x)).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return F.silu(x + h)


class Backbone(nn.Module):
    def __init__(self, a):
        super().__init__()
        c, p0, s = a['width'], a['storedPatch'], a['posGrid']
        self.global_blocks = set(a['globalBlocks'])
        self.cls = bool(a.get('clsToken', False))
        stem = a.get('stem')
        if stem:
            # the patch embedding runs on the stem's output: kernel storedPatch / S
            self.stem = ConvStem(a['inChannels'], stem['channels'], stem['eps'], stem.get('blocks'))
            k = p0 // stem_stride(a)
            self.patch_embed = nn.Conv2d(stem['channels'][-1], c, kernel_size=k, stride=k)
        else:
            self.patch_embed = nn.Conv2d(a['inChannels'], c, kernel_size=p0, stride=p0)
        if self.cls:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, c))
        self.pos_embed = nn.Parameter(torch.zeros(1, (1 if self.cls else 0) + s * s, c))
        self.blocks = nn.ModuleList(ViTBlock(c, a['heads'], a['mlpRatio'], a['eps']) for _ in range(a['depth']))
        self.norm = nn.LayerNorm(c, eps=a['eps'])


class Projector(nn.Module):
    def __init__(self, c_in, d, eps):
        super().__init__()
        self.linear = nn.Linear(c_in, d)
        self.norm = nn.LayerNorm(d, eps=eps)

    def forward(self, x):
        return self.norm(self.linear(x))


class ConvNormAct(nn.Module):
    """Conv without bias, LayerNorm over channels, SiLU (`<name>.conv`, `<name>.norm`)."""

    def __init__(self, c_in, c_out, k, eps, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size=k, stride=stride, padding=k // 2, bias=False)
        self.norm = nn.LayerNorm(c_out, eps=eps)

    def forward(self, x):
        y = self.norm(self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return F.silu(y)


class Bottleneck(nn.Module):
    def __init__(self, c, eps):
        super().__init__()
        self.cv1 = ConvNormAct(c, c, 3, eps)
        self.cv2 = ConvNormAct(c, c, 3, eps)

    def forward(self, x):
        return self.cv2(self.cv1(x))  # no shortcut


class C2fProjector(nn.Module):
    """RF-DETR's projector: C2f (1x1 conv, split, bottlenecks, 1x1 conv) and a LayerNorm, on
    [B, T*C, G, G] -> [B, D, G, G]."""

    def __init__(self, c_in, d, n, eps):
        super().__init__()
        self.c = d // 2
        self.cv1 = ConvNormAct(c_in, 2 * self.c, 1, eps)
        self.m = nn.ModuleList(Bottleneck(self.c, eps) for _ in range(n))
        self.cv2 = ConvNormAct((2 + n) * self.c, d, 1, eps)
        self.norm = nn.LayerNorm(d, eps=eps)

    def forward(self, x):
        y = list(self.cv1(x).split(self.c, dim=1))
        for m in self.m:
            y.append(m(y[-1]))
        out = self.cv2(torch.cat(y, dim=1))
        return self.norm(out.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class TwoStage(nn.Module):
    def __init__(self, d, k, eps):
        super().__init__()
        self.enc_output = nn.Linear(d, d)
        self.enc_output_norm = nn.LayerNorm(d, eps=eps)
        self.class_head = nn.Linear(d, k)
        self.bbox_head = MLP([d, d, d, 4])


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.scale = 1.0 / math.sqrt(d // heads)
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, qk, v):
        q = self.q_proj(qk) * self.scale
        k = self.k_proj(qk)
        return self.out_proj(multi_head(q, k, self.v_proj(v), self.heads))


class DeformableAttention(nn.Module):
    """Single-level deformable attention (Deformable DETR), with F.grid_sample."""

    def __init__(self, d, heads, points):
        super().__init__()
        self.heads, self.points = heads, points
        self.sampling_offsets = nn.Linear(d, heads * points * 2)
        self.attention_weights = nn.Linear(d, heads * points)
        self.value_proj = nn.Linear(d, d)
        self.output_proj = nn.Linear(d, d)

    def forward(self, query, ref, memory, grid):
        b, q, d = query.shape
        h, p = self.heads, self.points
        dh = d // h
        off = self.sampling_offsets(query).view(b, q, h, p, 2)
        aw = torch.softmax(self.attention_weights(query).view(b, q, h, p), dim=-1)
        value = self.value_proj(memory).view(b, grid, grid, h, dh).permute(0, 3, 4, 1, 2).reshape(b * h, dh, grid, grid)
        xy = ref[:, :, None, None, :2]
        wh = ref[:, :, None, None, 2:]
        loc = xy + off / p * wh * 0.5  # [B, Q, H, P, 2], (x, y) in [0, 1]
        g = (2 * loc - 1).permute(0, 2, 1, 3, 4).reshape(b * h, q, p, 2)
        sampled = F.grid_sample(value, g, mode='bilinear', padding_mode='zeros', align_corners=False)  # [B*H, dh, Q, P]
        weights = aw.permute(0, 2, 1, 3).reshape(b * h, 1, q, p)
        out = (sampled * weights).sum(dim=-1)  # [B*H, dh, Q]
        out = out.reshape(b, h * dh, q).transpose(1, 2)  # heads concatenated, head-major
        return self.output_proj(out)


class FFN(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class DecoderLayer(nn.Module):
    def __init__(self, d, heads, points, ffn, eps, sa_heads=None):
        super().__init__()
        self.self_attn = SelfAttention(d, sa_heads or heads)
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.cross_attn = DeformableAttention(d, heads, points)
        self.norm2 = nn.LayerNorm(d, eps=eps)
        self.ffn = FFN(d, ffn)
        self.norm3 = nn.LayerNorm(d, eps=eps)

    def forward(self, tgt, pos, ref, memory, grid):
        qk = tgt + pos
        tgt = self.norm1(tgt + self.self_attn(qk, tgt))
        tgt = self.norm2(tgt + self.cross_attn(tgt + pos, ref, memory, grid))
        tgt = self.norm3(tgt + self.ffn(tgt))
        return tgt


class Decoder(nn.Module):
    def __init__(self, a, num_classes):
        super().__init__()
        d = a['width']
        self.ref_point_head = MLP([2 * d if a.get('queryPos') == 'sine' else 4, d, d])
        self.layers = nn.ModuleList(DecoderLayer(d, a['heads'], a['points'], a['ffn'], a['eps'], a.get('selfAttnHeads'))
                                    for _ in range(a['maxLayers']))
        if a.get('finalNorm'):
            self.norm = nn.LayerNorm(d, eps=a['eps'])
        # heads shared by all layers
        self.class_head = nn.Linear(d, num_classes)
        self.bbox_head = MLP([d, d, d, 4])


class Supernet(nn.Module):
    """Every subnet of one supernet. `arch` is the `architecture` object of supernet.json."""

    def __init__(self, arch):
        super().__init__()
        self.arch = arch
        b, dec = arch['backbone'], arch['decoder']
        d, k = dec['width'], arch['numClasses']
        self.backbone = Backbone(b)
        proj = arch.get('projector') or {'type': 'linear'}
        if proj['type'] == 'c2f':
            self.projector = C2fProjector(b['width'] * len(b['tapBlocks']), d, proj['bottlenecks'], proj['eps'])
        else:
            self.projector = Projector(b['width'] * len(b['tapBlocks']), d, dec['eps'])
        self.two_stage = TwoStage(d, k, dec['eps'])
        self.query_feat = nn.Embedding(dec['maxQueries'], d)
        if dec.get('refpointEmbed'):
            self.refpoint_embed = nn.Embedding(dec['maxQueries'], 4)
        self.decoder = Decoder(dec, k)

    # -- weight resizing (constants of a subnet) --
    def patch_kernel(self, patch):
        """The patch-embedding kernel for a patch size (with a conv stem: for patch / S on the
        stem's output)."""
        return resize_patch_kernel(self.backbone.patch_embed.weight, patch // stem_stride(self.arch['backbone']))

    def pos_table(self, grid):
        """The patch position table resized to grid x grid, [1, C, G, G] (row-major spatial)."""
        pos = self.backbone.pos_embed[:, 1:] if self.backbone.cls else self.backbone.pos_embed
        return resize_pos_table(pos, grid, self.arch['backbone'].get('posResize') == 'bicubic-antialias')

    def anchors(self, grid, dtype):
        ys, xs = torch.meshgrid(torch.arange(grid, dtype=dtype), torch.arange(grid, dtype=dtype), indexing='ij')
        a = torch.full_like(xs, float(self.arch['anchorSize']))
        return torch.stack([(xs + 0.5) / grid, (ys + 0.5) / grid, a, a], dim=-1).reshape(1, grid * grid, 4)

    def memory(self, image, config, kernel=None, pos_table=None):
        """Steps 1-5 (backbone and projector): image [B, 3, R, R] -> (memory [B, G*G, D]
        row-major, G). Training (snc_train/forward.py) runs the same code."""
        a = self.arch
        bb = a['backbone']
        p, nw = config['patch'], config['windows']
        R = config['resolution']
        if not torch.jit.is_tracing():
            assert image.shape[-1] == image.shape[-2] == R and R % (p * nw) == 0, (tuple(image.shape), config)
        G = R // p
        B = image.shape[0]

        # 1-3. patch embedding, window-major tokens, position table
        if kernel is None:
            kernel = self.patch_kernel(p)
        if pos_table is None:
            pos_table = self.pos_table(G)
        if 'stem' in bb:
            image = self.backbone.stem(image)  # [B, c, R/S, R/S]
        x = F.conv2d(image, kernel, self.backbone.patch_embed.bias, stride=p // stem_stride(bb))  # [B, C, G, G]
        x = to_window_major(x, nw) + to_window_major(pos_table, nw)
        N, C = G * G, x.shape[-1]
        nwin = nw * nw
        if self.backbone.cls:
            # each window: its CLS token (with position entry 0), then its patch tokens
            cls = (self.backbone.cls_token + self.backbone.pos_embed[:, :1]).expand(B * nwin, 1, C)
            x = torch.cat([cls, x.reshape(B * nwin, N // nwin, C)], dim=1).reshape(B, -1, C)

        # 4. blocks (windowed: a reshape of the window-major sequence; global: all of it)
        outs = {}
        for i, blk in enumerate(self.backbone.blocks):
            windows = 1 if (nw == 1 or i in self.backbone.global_blocks) else nwin
            x = blk(x, windows)
            outs[i] = x

        # 5. projector -> memory (row-major)
        def patches(t):
            return t.reshape(B * nwin, -1, C)[:, 1:].reshape(B, N, C) if self.backbone.cls else t

        taps = torch.cat([self.backbone.norm(patches(outs[t])) for t in bb['tapBlocks']], dim=-1)
        if isinstance(self.projector, C2fProjector):
            grid_in = to_row_major(taps, nw, G).transpose(1, 2).reshape(B, -1, G, G)
            memory = self.projector(grid_in).flatten(2).transpose(1, 2)
        else:
            memory = to_row_major(self.projector(taps), nw, G)
        return memory, G

    def forward(self, image, config, exits=False, kernel=None, pos_table=None):
        """image [B, 3, R, R] (normalised). Returns (boxes [B,Q,4], logits [B,Q,K]); with
        exits=True also (boxes_list, logits_list) for decoder depths l = 0..L.
        `kernel` / `pos_table` may be given precomputed (export); by default they are resized here."""
        a = self.arch
        L, Q = config['layers'], config['queries']
        B = image.shape[0]
        memory, G = self.memory(image, config, kernel, pos_table)

        # 6. two-stage proposals
        ts = self.two_stage
        reparam = a.get('boxEncoding') == 'reparam'
        anchors = self.anchors(G, memory.dtype)
        src = memory
        if reparam:
            # anchors outside (0.01, 0.99) are zeroed and propose from zeroed memory (RF-DETR)
            valid = ((anchors.float() > 0.01) & (anchors.float() < 0.99)).all(-1, keepdim=True)
            anchors = anchors.masked_fill(~valid, 0.0)
            src = memory.masked_fill(~valid, 0.0)
        enc = ts.enc_output_norm(ts.enc_output(src))
        enc_logits = ts.class_head(enc)  # [B, N, K]
        delta = ts.bbox_head(enc)
        if reparam:
            proposals = apply_delta(delta, anchors, True)
        else:
            anchor_logit = torch.log(anchors / (1 - anchors))
            proposals = torch.sigmoid(delta + anchor_logit)
        scores = enc_logits.max(dim=-1).values  # [B, N]
        S = min(Q, G * G)  # with learned reference boxes Q may exceed the tokens (RF-DETR)
        idx = torch.topk(scores, S, dim=1, largest=True, sorted=True).indices  # [B, S]
        K = enc_logits.shape[-1]
        ref = torch.gather(proposals, 1, idx.unsqueeze(-1).expand(B, S, 4))
        logits = torch.gather(enc_logits, 1, idx.unsqueeze(-1).expand(B, S, K))
        boxes_list, logits_list = [ref], [logits]
        if a['decoder'].get('refpointEmbed'):
            learned = self.refpoint_embed.weight[:Q].unsqueeze(0).expand(B, Q, 4)
            rest = learned[:, S:] if reparam else torch.sigmoid(learned[:, S:])
            ref = torch.cat([apply_delta(learned[:, :S], ref, reparam), rest], dim=1)

        # 7. content queries
        tgt = self.query_feat.weight[:Q].unsqueeze(0).expand(B, Q, -1)

        # 8. decoder layers
        dec = self.decoder
        d = tgt.shape[-1]
        fixed = a['decoder'].get('refPoints') == 'fixed'
        sine = a['decoder'].get('queryPos') == 'sine'

        def query_pos(r):
            return dec.ref_point_head(sine_embedding(r, d) if sine else r)

        def heads(t):
            return dec.norm(t) if a['decoder'].get('finalNorm') else t

        pos = query_pos(ref) if fixed else None
        for layer in dec.layers[:L]:
            tgt = layer(tgt, pos if fixed else query_pos(ref), ref, memory, G)
            h = heads(tgt)
            if fixed:
                boxes = apply_delta(dec.bbox_head(h), ref, reparam)
            else:
                ref = apply_delta(dec.bbox_head(tgt), ref, reparam)
                boxes = ref
            logits = dec.class_head(h)
            boxes_list.append(boxes)
            logits_list.append(logits)
        ref = boxes_list[-1]

        # 9. outputs
        if exits:
            return ref, logits, boxes_list, logits_list
        return ref, logits


class _Subnet(nn.Module):
    """One subnet as a module of the image alone, the resized kernel and position table held
    as constants (for torch.onnx.export)."""

    def __init__(self, net, config, exits=False):
        super().__init__()
        self.net = net
        self.config = dict(config)
        self.exits = exits
        with torch.no_grad():
            self.register_buffer('kernel', net.patch_kernel(config['patch']).detach().clone())
            self.register_buffer('pos', net.pos_table(config['resolution'] // config['patch']).detach().clone())

    def forward(self, image):
        out = self.net(image, self.config, exits=self.exits, kernel=self.kernel, pos_table=self.pos)
        if not self.exits:
            return out
        boxes, logits, bl, ll = out
        flat = [boxes, logits]
        for b, l in zip(bl, ll):
            flat += [b, l]
        return tuple(flat)


def subnet_module(net, config, exits=False):
    return _Subnet(net, config, exits).eval()
