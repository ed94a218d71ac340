"""Exits 0 when two safetensors files hold the same tensors, bit for bit (their headers' metadata
may differ); otherwise names the first tensor that differs. Standard library only.
Usage: same_weights.py A.safetensors B.safetensors"""
import json
import struct
import sys


def tensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    header.pop("__metadata__", None)
    return {name: (entry["dtype"], entry["shape"], data[slice(*entry["data_offsets"])])
            for name, entry in header.items()}


a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
if a.keys() != b.keys():
    sys.exit(f"different tensors: {sorted(a.keys() ^ b.keys())[:5]}")
for name in sorted(a):
    if a[name] != b[name]:
        sys.exit(f"{name} differs")
