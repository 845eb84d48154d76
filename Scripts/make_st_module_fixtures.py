#!/usr/bin/env python3
"""Writes Tests/Fixtures/stmodules/: tiny sentence-transformers model folders and their reference embeddings.

Run with the project's venv (sentence-transformers 6.2, transformers 5.23, torch fp32):
    /work/venv/bin/python Scripts/make_st_module_fixtures.py

One random-weight BERT (hidden 32, 2 layers, 4 heads, a small hand-made WordPiece vocabulary with cased and
uncased pieces) is wrapped in several sentence-transformers pipelines and saved with `SentenceTransformer.save`,
so every file is what sentence-transformers itself writes:

  dense/          Transformer, Pooling (mean), Dense 32→16 (Tanh, bias), Dense 16→8 (Identity, no bias), Normalize
  prompts/        Transformer, Pooling (cls + mean), Normalize; prompts query/passage, default_prompt_name "query"
  include_prompt/ Transformer, Pooling (all six modes, include_prompt false); prompts, default "query"
  weightedmean/   Transformer, Pooling (weightedmean), Normalize
  lasttoken/      Transformer, Pooling (lasttoken)
  lowercase/      cased tokenizer, sentence_bert_config do_lower_case true, Pooling (mean), Normalize

expected.json holds, for each case, the folder, the encode options (prompt_name, prompt, truncate_dim,
normalize_embeddings), the texts, and sentence-transformers' embeddings and token counts.
"""

import json
import os
import shutil
import tempfile

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Pooling, Transformer
from transformers import BertConfig, BertModel, BertTokenizerFast

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "stmodules")

WORDS = [
    "the", "cat", "sat", "on", "mat", "hello", "world", "from", "paris", "query", "passage", "search",
    "a", "is", "dog", "runs", "fast", "Hello", "World", "From", "PARIS", "Paris", "The", "Cat", "QUERY",
    "music", "plays", "guitar", "man", "café", "über",
]
PUNCT = list(".,:;!?'\"()-/")


def vocabulary():
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    digits = [str(d) for d in range(10)]
    for piece in letters + digits + ["é", "ü", "É", "Ü"]:
        tokens.append(piece)
        tokens.append("##" + piece)
    tokens += PUNCT
    for word in WORDS:
        if word not in tokens:
            tokens.append(word)
    return tokens


TEXTS = [
    "Hello World From PARIS",
    "The cat sat on the mat.",
    "",
    "a dog runs fast, the Cat plays music!",
    "Café über Paris: QUERY search passage?",
    "x",
    "unknown ☃ symbols and 42 digits",
    " ".join(["the man plays the guitar"] * 12),  # longer than max_seq_length 48: truncated
]


def base_folder(directory, lower_case):
    torch.manual_seed(11)
    config = BertConfig(
        vocab_size=len(vocabulary()), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=64, initializer_range=0.2, hidden_act="gelu")
    model = BertModel(config, add_pooling_layer=False).eval()
    model.save_pretrained(directory, safe_serialization=True)
    vocab = {token: index for index, token in enumerate(vocabulary())}
    tokenizer = BertTokenizerFast(vocab=vocab, do_lower_case=lower_case)
    tokenizer.save_pretrained(directory)


def transformer(directory, do_lower_case=False):
    return Transformer(directory, max_seq_length=48, do_lower_case=do_lower_case)


def save(name, modules, **kwargs):
    model = SentenceTransformer(modules=modules, device="cpu", **kwargs)
    folder = os.path.join(ROOT, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.save(folder)
    # Reload from the saved folder, so the references come from exactly the files the tests read.
    return SentenceTransformer(folder, device="cpu")


def legacy_lowercase_folder(cased):
    """A folder as sentence-transformers 2.x wrote them: a cased tokenizer and `do_lower_case: true` in
    sentence_bert_config.json (6.2 bakes the lowercasing into tokenizer.json on save instead, so this
    folder is written by hand), loaded back with sentence-transformers 6.2 for the reference."""
    folder = os.path.join(ROOT, "lowercase")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "1_Pooling"))
    os.makedirs(os.path.join(folder, "2_Normalize"))
    for name in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]:
        shutil.copy(os.path.join(cased, name), os.path.join(folder, name))
    def write(path, value):
        with open(os.path.join(folder, path), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)
    write("sentence_bert_config.json", {"max_seq_length": 48, "do_lower_case": True})
    write("modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write("1_Pooling/config.json", {
        "word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True})
    write("2_Normalize/config.json", {})
    return SentenceTransformer(folder, device="cpu")


def main():
    torch.set_grad_enabled(False)
    os.makedirs(ROOT, exist_ok=True)
    work = tempfile.mkdtemp()
    uncased = os.path.join(work, "uncased")
    cased = os.path.join(work, "cased")
    base_folder(uncased, lower_case=True)
    base_folder(cased, lower_case=False)

    prompts = {"query": "query: ", "passage": "passage: ", "instruct": "Search the Web for: "}
    models = {}

    torch.manual_seed(21)
    dense1 = Dense(32, 16, bias=True, activation_function=torch.nn.Tanh())
    dense2 = Dense(16, 8, bias=False, activation_function=torch.nn.Identity())
    models["dense"] = save("dense", [transformer(uncased), Pooling(32, "mean"), dense1, dense2, Normalize()])
    models["prompts"] = save(
        "prompts", [transformer(uncased), Pooling(32, ("cls", "mean")), Normalize()],
        prompts=prompts, default_prompt_name="query")
    models["include_prompt"] = save(
        "include_prompt",
        [transformer(uncased),
         Pooling(32, ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"), include_prompt=False)],
        prompts=prompts, default_prompt_name="query")
    models["weightedmean"] = save("weightedmean", [transformer(uncased), Pooling(32, "weightedmean"), Normalize()])
    models["lasttoken"] = save("lasttoken", [transformer(uncased), Pooling(32, "lasttoken")])
    models["lowercase"] = legacy_lowercase_folder(cased)
    # The same cased folder without do_lower_case, to show the option changes the result.
    cased_only = SentenceTransformer(modules=[transformer(cased), Pooling(32, "mean"), Normalize()], device="cpu")

    cases = [
        ("dense", {}),
        ("dense", {"truncate_dim": 4}),
        ("dense", {"truncate_dim": 4, "normalize_embeddings": True}),
        ("prompts", {}),                           # default_prompt_name "query"
        ("prompts", {"prompt_name": "passage"}),
        ("prompts", {"prompt": "Represent this: "}),
        ("prompts", {"prompt": ""}),               # an explicit empty prompt overrides the default
        ("prompts", {"truncate_dim": 12}),
        ("prompts", {"truncate_dim": 12, "normalize_embeddings": True, "prompt_name": "instruct"}),
        ("include_prompt", {}),
        ("include_prompt", {"prompt_name": "instruct"}),
        ("include_prompt", {"prompt": ""}),
        ("weightedmean", {}),
        ("lasttoken", {}),
        ("lowercase", {}),
    ]
    records = []
    for name, options in cases:
        model = models[name]
        embeddings = model.encode(TEXTS, batch_size=3, convert_to_numpy=True, **options)
        prompt = model._resolve_prompt(options.get("prompt"), options.get("prompt_name"))
        features = model.preprocess([(prompt or "") + t for t in TEXTS])
        tokens = features["attention_mask"].sum(dim=1).tolist()
        records.append({
            "folder": name, "options": options, "texts": TEXTS, "tokens": tokens,
            "embeddings": np.asarray(embeddings, dtype=np.float64).tolist(),
        })
    without = cased_only.encode(TEXTS, convert_to_numpy=True)
    with_lower = np.asarray(records[-1]["embeddings"])
    cosine = float(np.dot(without[0], with_lower[0]))
    print(f"lowercase: cosine of 'Hello World From PARIS' with and without do_lower_case = {cosine:.3f}")
    with open(os.path.join(ROOT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"cases": records}, f, ensure_ascii=False)
        f.write("\n")
    shutil.rmtree(work)
    for name in models:
        folder = os.path.join(ROOT, name)
        for leftover in ["README.md"]:
            path = os.path.join(folder, leftover)
            if os.path.exists(path):
                os.remove(path)
    print("wrote", ROOT)


if __name__ == "__main__":
    main()
