#!/usr/bin/env python3
"""Reranking speed: `encoder rerank` (Swift, OpenBLAS) against sentence-transformers' CrossEncoder (PyTorch)
on the same pairs and the same number of threads, in interleaved rounds, best of each.

Models: the tiny BERT head of Tests/Fixtures/crossencoder/bert-1label (hidden 32) and a MiniLM-sized reranker
(all-MiniLM-L6-v2's encoder with a random 1-label head, written to a temporary folder by
Scripts/make_crossencoder_fixtures.py --minilm-head). Pairs: one query against every distinct document of
Tests/Fixtures/crossencoder/pairs.jsonl, repeated to --documents (long ones truncated to the model's maximum).
Both sides are timed from texts to scores (tokenization included, model loading excluded): the Swift time is
the one `encoder rerank` reports on stderr, the PyTorch time is `CrossEncoder.predict` around the same list.

Usage: /work/venv/bin/python Scripts/bench_rerank.py ENCODER_BINARY [--threads 2] [--rounds 5] [--documents 320]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import torch
from sentence_transformers import CrossEncoder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "crossencoder")
QUERY = "What is the capital of France?"


def documents(count):
    seen, docs = set(), []
    with open(os.path.join(FIXTURES, "pairs.jsonl")) as f:
        for line in f:
            doc = json.loads(line)["document"]
            if doc not in seen:
                seen.add(doc)
                docs.append(doc)
    return [docs[i % len(docs)] for i in range(count)]


def swift_seconds(binary, model, input_path, threads, batch):
    result = subprocess.run(
        [binary, "rerank", "--model", model, "--query", QUERY, "--input", input_path, "--input-format", "jsonl",
         "--json", "--threads", str(threads), "--batch-size", str(batch)],
        capture_output=True, text=True, check=True)
    match = re.search(r"reranked (\d+) documents in ([0-9.]+) s .*OpenBLAS (\S+),", result.stderr)
    if not match:
        sys.exit(f"unexpected stderr: {result.stderr}")
    scores = [json.loads(line) for line in result.stdout.splitlines()]
    return float(match.group(2)), match.group(3), scores


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--documents", type=int, default=320)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    docs = documents(args.documents)
    with tempfile.TemporaryDirectory() as tmp:
        input_path = os.path.join(tmp, "documents.jsonl")
        with open(input_path, "w") as f:
            for doc in docs:
                f.write(json.dumps(doc, ensure_ascii=False) + "\n")
        minilm = os.path.join(tmp, "minilm-reranker")
        subprocess.run([sys.executable, os.path.join(ROOT, "Scripts", "make_crossencoder_fixtures.py"),
                        "--minilm-head", minilm], check=True, capture_output=True)
        models = [("tiny BERT head (hidden 32, 2 layers)", os.path.join(FIXTURES, "bert-1label")),
                  ("MiniLM-L6-H384 + random 1-label head", minilm)]
        pairs = [(QUERY, doc) for doc in docs]
        for name, folder in models:
            ce = CrossEncoder(folder)
            ce.predict(pairs[:8], batch_size=args.batch_size)  # warm-up
            swift_seconds(args.binary, folder, input_path, args.threads, args.batch_size)  # warm-up
            swift_best, torch_best, core = float("inf"), float("inf"), "?"
            worst = 0.0
            for _ in range(args.rounds):
                seconds, core, ranked = swift_seconds(args.binary, folder, input_path, args.threads, args.batch_size)
                swift_best = min(swift_best, seconds)
                start = time.perf_counter()
                scores = ce.predict(pairs, batch_size=args.batch_size)
                torch_best = min(torch_best, time.perf_counter() - start)
                worst = max(worst, max(abs(r["score"] - float(scores[r["index"]])) for r in ranked))
            tokens = sum(len(ids) for ids in ce.tokenizer([q for q, _ in pairs], [d for _, d in pairs],
                                                          truncation="longest_first",
                                                          max_length=ce.max_seq_length)["input_ids"])
            print(f"{name}: {len(pairs)} pairs, {tokens} tokens, {args.threads} threads, batch {args.batch_size}, "
                  f"best of {args.rounds} interleaved rounds; OpenBLAS {core}")
            print(f"  encoder rerank:           {swift_best * 1e3:8.1f} ms  {len(pairs) / swift_best:8.0f} pairs/s")
            print(f"  CrossEncoder.predict:     {torch_best * 1e3:8.1f} ms  {len(pairs) / torch_best:8.0f} pairs/s")
            print(f"  speed-up {torch_best / swift_best:.2f}x; max |score difference| {worst:.1e} "
                  f"(PyTorch batched, so up to ~3e-5 is PyTorch's own batching noise)")


if __name__ == "__main__":
    main()
