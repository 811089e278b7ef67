"""Load and save a supernet folder: supernet.json + weights.safetensors (docs/weights.md)."""
import json
import os

import torch

from .model import Supernet
from .safetensors_io import read_safetensors, write_safetensors


def load_supernet_dir(path, dtype=torch.float32):
    """Returns (spec dict, Supernet in eval mode). Every documented tensor must be present with
    its shape; extra tensors are refused too."""
    with open(os.path.join(path, 'supernet.json'), encoding='utf-8') as f:
        spec = json.load(f)
    tensors, _ = read_safetensors(os.path.join(path, 'weights.safetensors'))
    net = Supernet(spec['architecture'])
    expected = net.state_dict()
    for name, t in expected.items():
        if name not in tensors:
            raise KeyError(f'{path}: tensor {name!r} is missing (expected {list(t.shape)})')
        if tuple(tensors[name].shape) != tuple(t.shape):
            raise ValueError(f'{path}: tensor {name!r} has shape {list(tensors[name].shape)}, expected {list(t.shape)}')
    extra = sorted(set(tensors) - set(expected))
    if extra:
        raise KeyError(f'{path}: unexpected tensors {extra[:5]}')
    net.load_state_dict({k: v.to(torch.float32) for k, v in tensors.items()})
    return spec, net.to(dtype).eval()


def save_supernet_dir(path, spec, net):
    """Writes supernet.json and weights.safetensors (float32, documented names)."""
    os.makedirs(path, exist_ok=True)
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in net.state_dict().items()}
    write_safetensors(os.path.join(path, 'weights.safetensors'), tensors, {'format': 'snc-supernet'})
    with open(os.path.join(path, 'supernet.json'), 'w', encoding='utf-8') as f:
        f.write(json.dumps(spec, indent=2) + '\n')
