#!/usr/bin/env python3
"""Write the engine-comparison token workloads as JSONL files.

Usage: Scripts/make_bench_tokens.py OUTDIR [--seed N]

One file per workload, OUTDIR/<workload>.jsonl, one line per sequence:
    {"input_ids": [101, ..., 102]}

Every sequence is [CLS]=101, then random ids in 1000...29999 (inclusive),
then [SEP]=102, so a sequence of length L has L-2 random ids. The mixed
workload draws each length uniformly in 8...128 (inclusive). Everything comes
from Python's `random.Random` seeded per workload (base seed + a fixed
per-workload offset), so the files are byte-identical on every machine and
every run, and independent of which other workloads were written. Standard
library only: no numpy needed.
"""

import argparse
import json
import os
import random
import sys

CLS, SEP = 101, 102
ID_MIN, ID_MAX = 1000, 29999
DEFAULT_SEED = 20240601

# name -> (batch size, fixed length or (min, max) for uniform mixed lengths)
WORKLOADS = [
    ("b1_L16", 1, 16),
    ("b1_L128", 1, 128),
    ("b32_L16", 32, 16),
    ("b32_L128", 32, 128),
    ("b32_L256", 32, 256),
    ("b32_mixed8-128", 32, (8, 128)),
]


def make_workload(index, batch, length, seed):
    rng = random.Random(seed * 1000 + index)
    seqs = []
    for _ in range(batch):
        n = rng.randint(*length) if isinstance(length, tuple) else length
        if n < 2:
            raise ValueError("length must include [CLS] and [SEP]")
        body = [rng.randint(ID_MIN, ID_MAX) for _ in range(n - 2)]
        seqs.append([CLS] + body + [SEP])
    return seqs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    for i, (name, batch, length) in enumerate(WORKLOADS):
        seqs = make_workload(i, batch, length, args.seed)
        path = os.path.join(args.outdir, name + ".jsonl")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            for s in seqs:
                f.write(json.dumps({"input_ids": s}, separators=(",", ":")) + "\n")
        os.replace(tmp, path)
        real = sum(len(s) for s in seqs)
        print(f"{path}: {len(seqs)} sequences, {real} real tokens, "
              f"max length {max(len(s) for s in seqs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
