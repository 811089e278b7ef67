"""The supernet's forward pass for training: the same computation as snc_ref.model.Supernet
(so inference is unchanged), plus what the losses need. It returns the two-stage encoder
outputs of every token (the proposal loss) and every decoder layer's boxes and logits, and it
detaches reference points as Deformable DETR does (the top-k proposals, and each layer's
boxes before the next layer refines them), so every prefix of layers learns to be a detector.
"""
import torch
import torch.nn.functional as F

from snc_ref.model import inverse_sigmoid, to_row_major, to_window_major


def train_forward(net, image, config):
    a = net.arch
    rf = [k for k in ('clsToken', 'posResize') if a['backbone'].get(k) not in (None, False, 'bicubic')]
    rf += [k for k in ('finalNorm', 'refpointEmbed') if a['decoder'].get(k)]
    rf += [k for k in ('refPoints', 'queryPos') if a['decoder'].get(k) not in (None, 'refine', 'mlp')]
    rf += [k for k in ('projector', 'boxEncoding') if a.get(k) not in (None, 'sigmoid', {'type': 'linear'})]
    if rf:
        raise NotImplementedError(f"train_forward trains snc's own family; this architecture sets {', '.join(rf)} "
                                  '(RF-DETR options): fine-tune it with rfdetr and import the checkpoint (docs/rfdetr.md)')
    bb = a['backbone']
    p, nw, L, Q = config['patch'], config['windows'], config['layers'], config['queries']
    R = config['resolution']
    G = R // p
    B = image.shape[0]

    kernel = net.patch_kernel(p)
    pos_table = net.pos_table(G)
    x = F.conv2d(image, kernel, net.backbone.patch_embed.bias, stride=p)
    x = to_window_major(x, nw) + to_window_major(pos_table, nw)
    outs = {}
    for i, blk in enumerate(net.backbone.blocks):
        windows = 1 if (nw == 1 or i in net.backbone.global_blocks) else nw * nw
        x = blk(x, windows)
        outs[i] = x
    taps = [net.backbone.norm(outs[t]) for t in bb['tapBlocks']]
    memory = to_row_major(net.projector(torch.cat(taps, dim=-1)), nw, G)

    ts = net.two_stage
    enc = ts.enc_output_norm(ts.enc_output(memory))
    enc_logits = ts.class_head(enc)
    delta = ts.bbox_head(enc)
    anchors = net.anchors(G, memory.dtype)
    proposals = torch.sigmoid(delta + torch.log(anchors / (1 - anchors)))
    scores = enc_logits.detach().max(dim=-1).values
    idx = torch.topk(scores, Q, dim=1, largest=True, sorted=True).indices
    ref = torch.gather(proposals.detach(), 1, idx.unsqueeze(-1).expand(B, Q, 4))

    tgt = net.query_feat.weight[:Q].unsqueeze(0).expand(B, Q, -1)
    dec = net.decoder
    layers = []
    for layer in dec.layers[:L]:
        pos = dec.ref_point_head(ref)
        tgt = layer(tgt, pos, ref, memory, G)
        new_ref = torch.sigmoid(dec.bbox_head(tgt) + inverse_sigmoid(ref))
        layers.append((new_ref, dec.class_head(tgt)))
        ref = new_ref.detach()
    return (proposals, enc_logits), layers
