"""Independent PyTorch reference of the snc supernet family (docs/architecture.md)."""
from .model import Supernet, subnet_module
from .safetensors_io import read_safetensors, write_safetensors
from .supernet_dir import load_supernet_dir, save_supernet_dir

__all__ = ['Supernet', 'subnet_module', 'read_safetensors', 'write_safetensors', 'load_supernet_dir', 'save_supernet_dir']
