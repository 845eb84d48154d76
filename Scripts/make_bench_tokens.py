#!/usr/bin/env python3
"""Write the engine-comparison token workloads as JSONL files.

Usage: Scripts/make_bench_tokens.py OUTDIR
       Scripts/make_bench_tokens.py --fixture FILE   (all workloads in one file, for the test)

One file per workload, OUTDIR/<workload>.jsonl, one line per sequence:
    {"input_ids": [101, ..., 102]}

These are the very batches `encoder bench` times under the same names (Sources/encoder/
BenchEncoderCommand.swift, `EncoderWorkload`): one definition, ported here and checked by
EncoderCLITests.BenchWorkloadTests against Tests/Fixtures/bench_workloads.jsonl, which this script writes.
Every sequence is [CLS]=101, then ids 1000 + (SplitMix64 output mod 29000), i.e. in 1000...29999, then
[SEP]=102, so a sequence of length L has L-2 random ids. Fixed-length workloads seed SplitMix64 with
batch * 1000 + length; the mixed workload seeds it with 20261122 and draws each length as
8 + (output mod 121) before that sequence's ids. Standard library only: no numpy needed.
"""

import argparse
import json
import os
import sys

CLS, SEP = 101, 102
ID_MIN, ID_SPAN = 1000, 29000
MIXED_SEED = 20261122
MASK = (1 << 64) - 1

# name -> (batch size, fixed length or (min, max) for uniform mixed lengths)
WORKLOADS = [
    ("b1_L16", 1, 16),
    ("b1_L128", 1, 128),
    ("b32_L16", 32, 16),
    ("b32_L128", 32, 128),
    ("b32_L256", 32, 256),
    ("b32_mixed8-128", 32, (8, 128)),
]


class SplitMix64:
    """The generator of Sources/encoder/GEMMBenchmark.swift, bit for bit."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def sequence(length, rng):
    if length < 2:
        raise ValueError("length must include [CLS] and [SEP]")
    return [CLS] + [ID_MIN + rng.next() % ID_SPAN for _ in range(length - 2)] + [SEP]


def make_workload(batch, length):
    if isinstance(length, tuple):
        low, high = length
        rng = SplitMix64(MIXED_SEED)
        return [sequence(low + rng.next() % (high - low + 1), rng) for _ in range(batch)]
    rng = SplitMix64(batch * 1000 + length)
    return [sequence(length, rng) for _ in range(batch)]


def write_atomically(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for line in lines:
            f.write(line + "\n")
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--fixture", help="write all workloads to this one JSONL file: {name, input_ids: [[...], ...]}")
    args = ap.parse_args(argv)
    if args.fixture:
        write_atomically(args.fixture, [
            json.dumps({"name": name, "input_ids": make_workload(batch, length)}, separators=(",", ":"))
            for name, batch, length in WORKLOADS])
        print(f"{args.fixture}: {len(WORKLOADS)} workloads")
        return 0
    if not args.outdir:
        ap.error("OUTDIR or --fixture FILE is required")
    os.makedirs(args.outdir, exist_ok=True)
    for name, batch, length in WORKLOADS:
        seqs = make_workload(batch, length)
        path = os.path.join(args.outdir, name + ".jsonl")
        write_atomically(path, [json.dumps({"input_ids": s}, separators=(",", ":")) for s in seqs])
        real = sum(len(s) for s in seqs)
        print(f"{path}: {len(seqs)} sequences, {real} real tokens, "
              f"max length {max(len(s) for s in seqs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
