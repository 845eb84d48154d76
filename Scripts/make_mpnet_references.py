#!/usr/bin/env python3
"""Writes Tests/Fixtures/mpnet_sentences.jsonl: sentence-transformers 6.2's embeddings of the project's 31
reference texts with all-mpnet-base-v2 (real weights, model.safetensors sha256 78c0197b…5658).

    /work/venv/bin/python Scripts/make_mpnet_references.py [MODEL_FOLDER]   # default: models/all-mpnet-base-v2

Each line: `text`, `input_ids` as sentence-transformers feeds them (truncated to max_seq_length 384),
`untruncated_length` (ids without truncation, special tokens included) and `embedding` (mean-pooled,
L2-normalized: the model's full pipeline).
"""

import hashlib
import json
import os
import sys

import torch
from sentence_transformers import SentenceTransformer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models", "all-mpnet-base-v2")
    with open(os.path.join(folder, "model.safetensors"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != SHA256:
        sys.exit(f"{folder}/model.safetensors: sha256 {digest}, expected {SHA256}")
    texts = [json.loads(line)["text"] for line in open(os.path.join(ROOT, "Tests", "Fixtures", "minilm_sentences.jsonl"), encoding="utf-8")]
    torch.set_grad_enabled(False)
    model = SentenceTransformer(folder, device="cpu")
    embeddings = model.encode(texts, batch_size=8, convert_to_numpy=True)
    output = os.path.join(ROOT, "Tests", "Fixtures", "mpnet_sentences.jsonl")
    with open(output, "w", encoding="utf-8") as f:
        for text, embedding in zip(texts, embeddings):
            ids = model.preprocess([text])["input_ids"][0].tolist()
            full = model.tokenizer(text)["input_ids"]
            record = {"text": text, "input_ids": ids, "untruncated_length": len(full),
                      "embedding": [float(x) for x in embedding]}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {output}: {len(texts)} texts, max_seq_length {model.max_seq_length}, dimension {embeddings.shape[1]}")


if __name__ == "__main__":
    main()
