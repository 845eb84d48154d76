#!/usr/bin/env python3
"""Hugging Face `tokenizers` throughput, single-threaded, to compare with `encoder bench tokenize`.

  python Scripts/bench_tokenizers.py --write-corpus /tmp/tok_corpus.txt   # the shared corpus
  python Scripts/bench_tokenizers.py --corpus /tmp/tok_corpus.txt --tokenizer A/tokenizer.json ...

The corpus: the reference sentences, the hard cases, the XLM-R multilingual texts and the seeded random
strings of the fixtures (one text per line, newlines inside texts replaced by spaces), repeated to 20,000
lines. TOKENIZERS_PARALLELISM=false; each tokenizer is timed two ways on one thread: a Python loop of
`encode(line)` and `encode_batch(lines)` (which runs on one thread without parallelism); median of 3.
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"
from tokenizers import Tokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")


def write_corpus(path, lines=20000):
    texts = []
    for name in ["minilm_sentences.jsonl", "tokenizer_cases.jsonl", "tokenizer_random.jsonl", "tokenizer_xlmr/cases.jsonl"]:
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
            for row in f:
                if row.strip():
                    texts.append(json.loads(row)["text"])
    texts = [" ".join(t.replace("\r", " ").replace("\n", " ").split(" ")) for t in texts]
    texts = [t for t in texts if t.strip()]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(lines):
            f.write(texts[i % len(texts)] + "\n")
    print("%s: %d lines from %d texts" % (path, lines, len(texts)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-corpus")
    parser.add_argument("--corpus")
    parser.add_argument("--tokenizer", action="append", default=[])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.write_corpus:
        write_corpus(args.write_corpus)
        return
    with open(args.corpus, "rb") as f:
        data = f.read()
    lines = [l for l in data.decode("utf-8").split("\n") if l]
    print("corpus: %d lines, %d bytes; single thread, median of %d passes" % (len(lines), len(data), args.repeat))
    print("%-44s %10s %12s %12s" % ("tokenizer", "tokens", "loop tok/s", "batch tok/s"))
    for path in args.tokenizer:
        tok = Tokenizer.from_file(path)
        tok.no_truncation()
        tok.no_padding()
        tokens = sum(len(tok.encode(l).ids) for l in lines)
        loop, batch = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            for l in lines:
                tok.encode(l)
            loop.append(time.perf_counter() - t)
            t = time.perf_counter()
            tok.encode_batch(lines)
            batch.append(time.perf_counter() - t)
        name = path if len(path) <= 42 else "…" + path[-41:]
        print("%-44s %10d %12.0f %12.0f" % (name, tokens, tokens / statistics.median(loop), tokens / statistics.median(batch)))


if __name__ == "__main__":
    main()
