"""safetensors read/write with struct + json only (no external library).

Layout: 8-byte little-endian header length, a JSON header
{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}, then the
tensor bytes. Written like snc writes them: names sorted, header padded with spaces to 8 bytes.
"""
import json
import struct

import numpy as np
import torch

_ST_TO_NP = {
    'F32': np.float32, 'F64': np.float64, 'F16': np.float16,
    'I64': np.int64, 'I32': np.int32, 'I8': np.int8, 'U8': np.uint8, 'BOOL': np.bool_,
}
_NP_TO_ST = {np.dtype(v).str: k for k, v in _ST_TO_NP.items()}


def read_safetensors(path):
    """Returns (tensors: dict name -> torch.Tensor, metadata: dict)."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    if 8 + n > len(data):
        raise ValueError(f'{path}: header length {n} runs past the end of the file')
    header = json.loads(data[8:8 + n].decode('utf-8'))
    metadata = header.pop('__metadata__', {}) or {}
    body = data[8 + n:]
    out = {}
    for name, e in header.items():
        dt = np.dtype(_ST_TO_NP[e['dtype']]).newbyteorder('<')
        begin, end = e['data_offsets']
        shape = tuple(e['shape'])
        arr = np.frombuffer(body[begin:end], dtype=dt)
        if arr.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f'{path}: tensor {name!r} holds {arr.size} values for shape {list(shape)}')
        out[name] = torch.from_numpy(arr.reshape(shape).astype(dt.newbyteorder('='), copy=True))
    return out, metadata


def serialize_safetensors(tensors, metadata=None):
    names = sorted(tensors)
    header = {}
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in names:
        t = tensors[name]
        arr = t.detach().cpu().contiguous().numpy() if isinstance(t, torch.Tensor) else np.ascontiguousarray(t)
        arr = arr.astype(arr.dtype.newbyteorder('<'), copy=False)
        st = _NP_TO_ST[np.dtype(arr.dtype.type).str]
        b = arr.tobytes()
        header[name] = {'dtype': st, 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    js = json.dumps(header, separators=(',', ':'))
    while (8 + len(js.encode('utf-8'))) % 8:
        js += ' '
    hb = js.encode('utf-8')
    return struct.pack('<Q', len(hb)) + hb + b''.join(blobs)


def write_safetensors(path, tensors, metadata=None):
    with open(path, 'wb') as f:
        f.write(serialize_safetensors(tensors, metadata))
