"""The supernet's forward pass for training: the same computation as snc_ref.model.Supernet
(the backbone and projector are its very code, Supernet.memory; the two-stage selection and
decoder follow Supernet.forward, so inference is unchanged), plus what the losses need. It
returns the two-stage encoder outputs of every token (the proposal loss) and every decoder
layer's boxes and logits, and it detaches reference points as Deformable DETR does (the top-k
proposals, and each layer's boxes before the next layer refines them), so every prefix of layers
learns to be a detector.

Every option of the family trains: the C2f projector, CLS tokens, the antialiased position
resize, box reparametrisation, fixed reference points with sine query_pos, learned reference
boxes (refpoint_embed), the final decoder norm (docs/architecture.md).

Group DETR (training only): with `groups` (GroupQueries) N > 1, N sets of Q queries start from
the same top-Q proposals: group 0 is the supernet's own content queries (and learned reference
boxes), groups 1..N-1 extra ones kept only in the training checkpoint. The groups do not see
each other in self-attention: they run as N times the batch through the shared decoder, which is
group-wise self-attention masking without a mask. Each group is matched to the objects on its
own (N positives per object); inference runs group 0 alone.
"""
import torch
import torch.nn as nn

from snc_ref.model import apply_delta, sine_embedding


class GroupQueries(nn.Module):
    """Content queries (and learned reference boxes) of groups 1..N-1 of Group DETR; group 0 is
    the supernet's. Initialised as the supernet's (query_feat ~ N(0, 1) by nn.Embedding)."""

    def __init__(self, net, groups):
        super().__init__()
        dec = net.arch['decoder']
        self.groups = groups
        self.query_feat = nn.Parameter(torch.randn(groups - 1, dec['maxQueries'], dec['width']))
        if dec.get('refpointEmbed'):
            self.refpoint_embed = nn.Parameter(torch.zeros(groups - 1, dec['maxQueries'], 4))


def train_forward(net, image, config, groups=None, keep=None):
    """Returns ((proposals [B, N, 4], enc_logits [B, N, K]), [(boxes, logits) per decoder
    layer]). With groups (GroupQueries of N groups), each layer's boxes and logits are
    [N*B, Q, .], group-major (rows g*B..g*B+B-1 are group g); pair them with the targets
    repeated N times. A dict `keep` receives the memory and its grid (auxiliary losses)."""
    a = net.arch
    dec_a = a['decoder']
    L, Q = config['layers'], config['queries']
    B = image.shape[0]
    memory, G = net.memory(image, config)
    if keep is not None:
        keep.update(memory=memory, grid=G)

    # two-stage proposals, as Supernet.forward
    ts = net.two_stage
    reparam = a.get('boxEncoding') == 'reparam'
    anchors = net.anchors(G, memory.dtype)
    src = memory
    if reparam:
        valid = ((anchors > 0.01) & (anchors < 0.99)).all(-1, keepdim=True)
        anchors = anchors.masked_fill(~valid, 0.0)
        src = memory.masked_fill(~valid, 0.0)
    enc = ts.enc_output_norm(ts.enc_output(src))
    enc_logits = ts.class_head(enc)
    delta = ts.bbox_head(enc)
    if reparam:
        proposals = apply_delta(delta, anchors, True)
    else:
        proposals = torch.sigmoid(delta + torch.log(anchors / (1 - anchors)))
    S = min(Q, G * G)
    scores = enc_logits.detach().max(dim=-1).values
    idx = torch.topk(scores, S, dim=1, largest=True, sorted=True).indices
    ref0 = torch.gather(proposals.detach(), 1, idx.unsqueeze(-1).expand(B, S, 4))

    # queries of every group (group 0: the supernet's), groups stacked along the batch
    n = groups.groups if groups is not None else 1
    feats = [net.query_feat.weight[:Q]] + ([groups.query_feat[g, :Q] for g in range(n - 1)] if n > 1 else [])
    tgt = torch.cat([f.unsqueeze(0).expand(B, Q, -1) for f in feats], dim=0)  # [n*B, Q, D]
    ref = ref0.repeat(n, 1, 1)
    if dec_a.get('refpointEmbed'):
        embeds = [net.refpoint_embed.weight[:Q]] + ([groups.refpoint_embed[g, :Q] for g in range(n - 1)] if n > 1 else [])
        learned = torch.cat([e.unsqueeze(0).expand(B, Q, 4) for e in embeds], dim=0)
        rest = learned[:, S:] if reparam else torch.sigmoid(learned[:, S:])
        ref = torch.cat([apply_delta(learned[:, :S], ref, reparam), rest], dim=1)
    mem = memory.repeat(n, 1, 1) if n > 1 else memory

    dec = net.decoder
    d = tgt.shape[-1]
    fixed = dec_a.get('refPoints') == 'fixed'
    sine = dec_a.get('queryPos') == 'sine'

    def query_pos(r):
        return dec.ref_point_head(sine_embedding(r, d) if sine else r)

    def heads(t):
        return dec.norm(t) if dec_a.get('finalNorm') else t

    if fixed:
        # the reference boxes stay; every layer predicts a delta on them (RF-DETR's lite refine)
        ref = ref.detach()
        pos = query_pos(ref)
    layers = []
    for layer in dec.layers[:L]:
        tgt = layer(tgt, pos if fixed else query_pos(ref), ref, mem, G)
        h = heads(tgt)
        if fixed:
            boxes = apply_delta(dec.bbox_head(h), ref, reparam)
        else:
            boxes = apply_delta(dec.bbox_head(tgt), ref, reparam)
            ref = boxes.detach()
        layers.append((boxes, dec.class_head(h)))
    return (proposals, enc_logits), layers
