"""Exits 0 when two safetensors files hold the same tensors, bit for bit (their headers' metadata
may differ), or with --within TOL the same float32 tensors to TOL (the largest absolute
difference); otherwise names the first tensor that differs. Standard library only.
Usage: same_weights.py A.safetensors B.safetensors [--within TOL]"""
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


def largest_difference(x, y):
    count = len(x) // 4
    xs, ys = struct.unpack(f"<{count}f", x), struct.unpack(f"<{count}f", y)
    return max((abs(p - q) for p, q in zip(xs, ys)), default=0.0)


a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
tolerance = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--within" else None
if a.keys() != b.keys():
    sys.exit(f"different tensors: {sorted(a.keys() ^ b.keys())[:5]}")
worst = 0.0
for name in sorted(a):
    if a[name] == b[name]:
        continue
    if tolerance is None or a[name][:2] != b[name][:2] or a[name][0] != "F32":
        sys.exit(f"{name} differs")
    difference = largest_difference(a[name][2], b[name][2])
    if difference > tolerance:
        sys.exit(f"{name} differs by up to {difference:.3g} (tolerance {tolerance:g})")
    worst = max(worst, difference)
if tolerance is not None:
    print(f"largest difference {worst:.3g}")
