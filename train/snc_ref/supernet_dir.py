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
    """Writes supernet.json and weights.safetensors (float32, documented names), each file
    atomically (temporary file + rename)."""
    os.makedirs(path, exist_ok=True)
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in net.state_dict().items()}
    weights = os.path.join(path, 'weights.safetensors')
    write_safetensors(weights + '.tmp', tensors, {'format': 'snc-supernet'})
    os.replace(weights + '.tmp', weights)
    spec_path = os.path.join(path, 'supernet.json')
    with open(spec_path + '.tmp', 'w', encoding='utf-8') as f:
        f.write(json.dumps(spec, indent=2) + '\n')
    os.replace(spec_path + '.tmp', spec_path)
