#!/usr/bin/env python3
"""Writes dtypes.safetensors: one tensor per dtype plus numpy's own Float32 / Int64 rendering of it.

Used by Tests/SafeTensorsTests to cross-check the Swift conversions against numpy.
The file is written by hand (struct + json), with a header padded by spaces so that the
data section starts 8-byte aligned, like the reference writer does. Run from any directory:
    python3 Tests/Fixtures/safetensors/make_dtypes.py
"""
import json, os, struct
import numpy as np

rng = np.random.default_rng(20240601)
tensors = {}  # name -> (dtype string, shape, raw little-endian bytes)

def add(name, dtype, arr, raw=None):
    arr = np.asarray(arr)
    tensors[name] = (dtype, list(arr.shape), raw if raw is not None else arr.tobytes())

# F16: special bit patterns (zeros, subnormals, extremes, inf, NaN) + random finite values.
special16 = np.array([0x0000, 0x8000, 0x0001, 0x8001, 0x0200, 0x03FF, 0x83FF, 0x0400, 0x8400,
                      0x3C00, 0xBC00, 0x3555, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00], dtype='<u2')
rand16 = rng.integers(0, 0x7C00, size=48, dtype=np.uint16) | (rng.integers(0, 2, size=48, dtype=np.uint16) << 15)
f16 = np.concatenate([special16, rand16.astype('<u2')]).view('<f2').reshape(4, 16)
add("f16", "F16", f16)
add("f16_as_f32", "F32", f16.astype('<f4'))

# BF16: numpy has no bfloat16; take the upper half of random float32 bit patterns (and specials).
f32src = np.concatenate([np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, 1e-40, -3.0e38], dtype='<f4'),
                         rng.standard_normal(24).astype('<f4') * 100])
bf16_bits = (f32src.view('<u4') >> 16).astype('<u2').reshape(2, 16)
add("bf16", "BF16", bf16_bits, raw=bf16_bits.tobytes())
add("bf16_as_f32", "F32", (bf16_bits.astype('<u4') << 16).view('<f4'))

# F64: values that need rounding, overflow to inf, and underflow to subnormal/zero in float32.
f64 = np.concatenate([np.array([0.1, -1.0 / 3.0, 1e39, -1e39, 1e-42, 1e-50, np.pi, 16777217.0], dtype='<f8'),
                      rng.standard_normal(8)]).reshape(4, 4)
add("f64", "F64", f64)
with np.errstate(over='ignore'):
    add("f64_as_f32", "F32", f64.astype('<f4'))

# Integers.
for dt, np_dt in [("I8", '<i1'), ("I16", '<i2'), ("I32", '<i4'), ("I64", '<i8'),
                  ("U8", '<u1'), ("U16", '<u2'), ("U32", '<u4'), ("U64", '<u8')]:
    info = np.iinfo(np_dt)
    lo, hi = int(info.min), int(min(info.max, 2**63 - 1))
    vals = np.array([lo, hi, 0, 1] + [int(v) for v in rng.integers(lo, hi, size=8, dtype=np.int64)], dtype=np_dt)
    add(dt.lower(), dt, vals.reshape(3, 4))
    add(dt.lower() + "_as_i64", "I64", vals.astype('<i8').reshape(3, 4))
boolv = np.array([0, 1, 1, 0, 2, 255], dtype='<u1')  # non-canonical true bytes 2 and 255
add("bool", "BOOL", boolv, raw=boolv.tobytes())
add("bool_as_i64", "I64", (boolv != 0).astype('<i8'))
# A scalar and an empty tensor.
add("scalar", "F32", np.array(2.5, dtype='<f4'))
add("empty", "F32", np.zeros((0, 3), dtype='<f4'))

header, data, off = {"__metadata__": {"format": "np", "generator": "make_dtypes.py"}}, b"", 0
for name in sorted(tensors):
    dtype, shape, raw = tensors[name]
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
    data += raw
    off += len(raw)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * ((8 - (len(h) + 8) % 8) % 8)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dtypes.safetensors")
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + data)
print(out, len(h), len(data))
