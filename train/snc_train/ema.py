"""EMA weights (as RF-DETR trains: ema_decay 0.993 with a warm-up of tau updates): after every
optimiser step, ema = d * ema + (1 - d) * weights, d = decay * (1 - exp(-updates / tau)), so the
average follows the weights closely at first. Buffers are copied. Validation and the written
supernet use the EMA weights when enabled."""
import copy
import math

import torch


class ModelEma:
    def __init__(self, net, decay, tau=100):
        self.module = copy.deepcopy(net).eval()
        for m in self.module.modules():  # training-only hooks (snc_train/heatmap.py) stay with the trained net
            m._forward_hooks.clear()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay, self.tau, self.updates = decay, tau, 0

    @torch.no_grad()
    def update(self, net):
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        src = net.state_dict()
        for k, v in self.module.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(src[k].detach(), alpha=1 - d)
            else:
                v.copy_(src[k])

    def state_dict(self):
        return {'module': self.module.state_dict(), 'updates': self.updates, 'decay': self.decay, 'tau': self.tau}

    def load_state_dict(self, s):
        self.module.load_state_dict(s['module'])
        self.updates = s['updates']
