#!/usr/bin/env python3
"""Tiny random-weight sequence-classification checkpoints (cross-encoders) and the scores
sentence-transformers' CrossEncoder.predict gives them, for the Swift cross-encoder's parity tests.

Outputs (relative to the repository root), each folder loadable by `CrossEncoder(folder)`:
  Tests/Fixtures/crossencoder/bert-1label/    BertForSequenceClassification, num_labels 1, hidden 32,
                                              all-MiniLM-L6-v2's WordPiece tokenizer (vocab 30522),
                                              its model_max_length set to 128 (max_position_embeddings
                                              512: the max length is the tokenizer's 128, which keeps the
                                              debug-build tests fast); config.json carries
                                              sentence_transformers.activation_fn (Sigmoid)
  Tests/Fixtures/crossencoder/bert-3labels/   BertForSequenceClassification, num_labels 3 (id2label),
                                              hidden 16, max_position_embeddings 128 (so the max length
                                              is min(tokenizer's 512, 128) = 128); Identity activation
  Tests/Fixtures/crossencoder/xlmr-1label/    XLMRobertaForSequenceClassification, num_labels 1, with the
  Tests/Fixtures/crossencoder/xlmr-3labels/   XLM-R style SentencePiece Unigram tokenizer of
                                              Tests/Fixtures/tokenizer_xlmr/ (when present)
  Tests/Fixtures/crossencoder/pairs.jsonl     the (query, document) pairs every model is scored on
  Tests/Fixtures/crossencoder/<model>/expected.jsonl
        one line per pair: input_ids and token_type_ids as CrossEncoder tokenizes the pair,
        `logits` (num_labels floats), `score` (predict's default output: a float for 1 label, a list
        otherwise) and for several labels `softmax` (predict(apply_softmax=True)).

Weights are rounded to fp16 values and stored as F16 safetensors (small files); the reference runs in
fp32 on exactly those values (the Swift loader converts F16 -> F32 exactly). References are made ONE PAIR
AT A TIME: PyTorch's own scores move by up to 3e-5 between batchings of the same pairs.

Also, for benchmarks (not committed):
  python Scripts/make_crossencoder_fixtures.py --minilm-head OUT
writes all-MiniLM-L6-v2's encoder with a random 1-label head into OUT (MiniLM-sized reranker).

Usage: /work/venv/bin/python Scripts/make_crossencoder_fixtures.py [MODEL …] [--minilm-head OUT]
(MODEL: bert-1label, bert-3labels, xlmr-1label, xlmr-3labels; default all)
"""
import json
import os
import random
import shutil
import sys
import tempfile

import torch
from safetensors.torch import save_file
from sentence_transformers import CrossEncoder
from transformers import (AutoTokenizer, BertConfig, BertForSequenceClassification, XLMRobertaConfig,
                          XLMRobertaForSequenceClassification)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MINILM = os.path.join(ROOT, "models", "all-MiniLM-L6-v2")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "crossencoder")
XLMR_TOKENIZER = os.path.join(ROOT, "Tests", "Fixtures", "tokenizer_xlmr")


# ---------------------------------------------------------------- pairs

QUERIES = [
    "how do cats sleep",
    "What is the capital of France?",
    "guitar lessons for beginners",
    "",
    "Wie hoch ist die Zugspitze?",
    "погода в Москве",
    "東京の天気",
    "如何学习编程",
    "café au lait recipe",
    "URL https://example.com/path?q=1",
    "emoji 😀 meaning",
    "   ",
    "A",
    "the the the the",
    "¿Dónde está la biblioteca?",
    "python list comprehension example",
]

DOCUMENTS = [
    "The cat sat on the mat.",
    "A cat is sitting on a rug.",
    "Cats sleep between 12 and 16 hours a day, mostly during daylight.",
    "Paris is the capital and most populous city of France.",
    "Berlin ist die Hauptstadt von Deutschland.",
    "A man is playing a guitar.",
    "Someone is strumming a guitar on stage.",
    "",
    "Die Zugspitze ist mit 2962 Metern der höchste Berg Deutschlands.",
    "В Москве сегодня идёт снег и температура ниже нуля.",
    "今日の東京は晴れのち曇りです。",
    "学习编程需要耐心和大量练习。",
    "Le café au lait est une boisson à base de café et de lait chaud.",
    "Visit https://example.com/path?q=1 for details — or email info@example.com.",
    "😀 is the grinning face emoji, used to express happiness.",
    "The stock market fell sharply on Monday.",
    "¿La biblioteca? Está al lado del ayuntamiento.",
    "[x * 2 for x in range(10)] builds a list of doubled numbers.",
    "naïve résumé coöperate façade",
    "A",
]

LONG_SENTENCES = [
    "The history of the city goes back more than two thousand years, to a settlement on the river bank. ",
    "Die Geschichte der Stadt reicht mehr als zweitausend Jahre zurück, bis zu einer Siedlung am Fluss. ",
    "История города насчитывает более двух тысяч лет, начиная с поселения на берегу реки. ",
    "这座城市的历史可以追溯到两千多年前河岸上的一个定居点。",
]


def make_pairs():
    rng = random.Random(16)
    pairs = []
    # every query with a handful of documents
    for q in QUERIES:
        for d in rng.sample(DOCUMENTS, 7):
            pairs.append((q, d))
    # long documents (truncated: the document, being longer, loses tokens first)
    # (each opens with its own words, so no two stay identical once truncated: the rankings have no ties)
    openings = ["Chapter one.", "Kapitel zwei.", "Глава три.", "第四章。", "Part five:", "Teil sechs:", "Часть семь:", "第八部分："]
    for i, sentence in enumerate(LONG_SENTENCES):
        for j, repeat in enumerate((12, 40)):
            doc = openings[2 * i + j] + " " + (sentence * repeat).strip()
            pairs.append((QUERIES[4 + i], doc))
            pairs.append(("", doc))
    # long queries and long query + long document (both truncated)
    long_query = (LONG_SENTENCES[0] * 30).strip()
    pairs.append((long_query, DOCUMENTS[0]))
    pairs.append((long_query, (LONG_SENTENCES[1] * 30).strip()))
    pairs.append(((LONG_SENTENCES[3] * 50), ""))
    # empty / whitespace on both sides
    pairs.append(("", ""))
    pairs.append(("   ", ""))
    pairs.append(("", "   "))
    # swapped roles
    for d in DOCUMENTS:
        pairs.append((d, QUERIES[1]))
    # one query's documents must differ once tokenized (whitespace-only texts tokenize to nothing), or the
    # reference ranking would hold exact ties that any rounding difference may order either way
    unique, seen = [], set()
    for q, d in pairs:
        key = (q, d.strip())
        if key not in seen:
            seen.add(key)
            unique.append((q, d))
    return unique


# ---------------------------------------------------------------- checkpoints

def round_to_fp16(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())


def save_f16(model, folder):
    """config.json as save_pretrained writes it, weights as F16 safetensors."""
    model.save_pretrained(folder)
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    config["dtype"] = "float32"
    return config


def write_config(folder, config):
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def bump_classifier(model, scale=1.0):
    """Random heads at initializer_range 0.02 give logits all near 0; make them spread so the ranking
    is meaningful (still random weights)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "classifier" in name or "pooler" in name or "pre_classifier" in name:
                if name.endswith("weight"):
                    p.normal_(0.0, scale / p.shape[1] ** 0.5)
                else:
                    p.normal_(0.0, 0.1)


def copy_tokenizer(source, folder, model_max_length=None):
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        path = os.path.join(source, name)
        if os.path.exists(path):
            shutil.copy(path, os.path.join(folder, name))
    if model_max_length is not None:
        path = os.path.join(folder, "tokenizer_config.json")
        with open(path) as f:
            config = json.load(f)
        config["model_max_length"] = model_max_length
        with open(path, "w") as f:
            json.dump(config, f, indent=2, sort_keys=True, ensure_ascii=False)
            f.write("\n")


def make_bert(folder, hidden, heads, intermediate, max_positions, labels, activation, seed, model_max_length=None):
    torch.manual_seed(seed)
    # initializer_range 0.1 (not 0.02): the first token's state then varies enough between inputs that the
    # scores of one query's documents are well apart (no near-ties for the ranking tests)
    config = BertConfig(
        vocab_size=30522, hidden_size=hidden, num_hidden_layers=2, num_attention_heads=heads,
        intermediate_size=intermediate, max_position_embeddings=max_positions, num_labels=labels,
        hidden_act="gelu", initializer_range=0.1)
    if labels > 1:
        config.id2label = {i: name for i, name in enumerate(["contradiction", "entailment", "neutral"][:labels])}
        config.label2id = {v: k for k, v in config.id2label.items()}
    model = BertForSequenceClassification(config).eval()
    bump_classifier(model, scale=3.0)
    round_to_fp16(model)
    os.makedirs(folder, exist_ok=True)
    config_json = save_f16(model, folder)
    if activation is not None:
        config_json["sentence_transformers"] = {"activation_fn": activation, "version": "6.2.0"}
    write_config(folder, config_json)
    copy_tokenizer(MINILM, folder, model_max_length=model_max_length)


XLMR_TOKENIZER_CONFIG = {
    "tokenizer_class": "XLMRobertaTokenizer", "bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>",
    "sep_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
    # max length: min(model_max_length, max_position_embeddings 130 - pad 1 - 1) = 128 usable positions
    "model_max_length": 128,
}


def make_xlmr(folder, labels, activation, seed):
    torch.manual_seed(seed)
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(XLMR_TOKENIZER, "tokenizer.json"), os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(XLMR_TOKENIZER_CONFIG, f, indent=2, sort_keys=True)
        f.write("\n")
    tok = AutoTokenizer.from_pretrained(folder)
    vocab = len(tok)
    config = XLMRobertaConfig(
        vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=130, type_vocab_size=1, num_labels=labels, pad_token_id=tok.pad_token_id,
        initializer_range=0.1,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, layer_norm_eps=1e-5)
    if labels > 1:
        config.id2label = {i: name for i, name in enumerate(["irrelevant", "partial", "relevant"][:labels])}
        config.label2id = {v: k for k, v in config.id2label.items()}
    model = XLMRobertaForSequenceClassification(config).eval()
    bump_classifier(model, scale=3.0)
    round_to_fp16(model)
    config_json = save_f16(model, folder)
    if activation is not None:
        config_json["sentence_transformers"] = {"activation_fn": activation, "version": "6.2.0"}
    write_config(folder, config_json)


# ---------------------------------------------------------------- references

def references(folder, pairs):
    ce = CrossEncoder(folder, model_kwargs={"dtype": torch.float32})
    assert next(ce.parameters()).dtype == torch.float32
    labels = ce.num_labels
    max_length = ce.max_seq_length
    tokenizer = ce.tokenizer
    identity = torch.nn.Identity()
    lines = []
    for query, document in pairs:
        # the ids CrossEncoder feeds the model (its own preprocess: a batch call, so an empty document
        # still gives `[CLS] q [SEP] [SEP]`, unlike tokenizer(q, "") which drops the empty pair)
        features = ce.preprocess([(query, document)])
        encoded = {k: v[0].tolist() for k, v in features.items() if k in ("input_ids", "token_type_ids")}
        # one pair at a time: batch composition moves PyTorch's numbers
        logits = ce.predict([(query, document)], activation_fn=identity, batch_size=1)[0]
        score = ce.predict([(query, document)], batch_size=1)[0]
        line = {
            "input_ids": encoded["input_ids"],
            "token_type_ids": encoded.get("token_type_ids"),
            "logits": [float(x) for x in (logits.reshape(-1).tolist())],
        }
        if labels == 1:
            line["score"] = float(score)
        else:
            line["score"] = [float(x) for x in score.tolist()]
            softmax = ce.predict([(query, document)], batch_size=1, apply_softmax=True)[0]
            line["softmax"] = [float(x) for x in softmax.tolist()]
        lines.append(line)
    with open(os.path.join(folder, "expected.jsonl"), "w") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    truncated = sum(1 for q, d in pairs if len(tokenizer([q], [d])["input_ids"][0]) > max_length)
    # smallest score gap between two documents of one query (the ranking tests need it well above 1e-5)
    groups = {}
    for (q, d), line in zip(pairs, lines):
        groups.setdefault(q, []).append(line["logits"][0])
    gap = min(abs(a - b) for g in groups.values() for i, a in enumerate(g) for b in g[i + 1:])
    print(f"{os.path.basename(folder)}: {len(lines)} pairs, labels {labels}, max_length {max_length}, "
          f"activation {type(ce.activation_fn).__name__}, {truncated} truncated, smallest logit gap in a query {gap:.2e}")


def make_minilm_head(out):
    """all-MiniLM-L6-v2's encoder + a random 1-label head (fp32), as a CrossEncoder folder."""
    torch.manual_seed(6)
    model = BertForSequenceClassification.from_pretrained(MINILM, num_labels=1).eval()
    bump_classifier(model, scale=3.0)
    model.save_pretrained(out)
    copy_tokenizer(MINILM, out)
    ce = CrossEncoder(out)
    print(f"{out}: max_length {ce.max_seq_length}, labels {ce.num_labels}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--minilm-head":
        make_minilm_head(sys.argv[2])
        return
    os.makedirs(OUT, exist_ok=True)
    pairs = make_pairs()
    with open(os.path.join(OUT, "pairs.jsonl"), "w") as f:
        for query, document in pairs:
            f.write(json.dumps({"query": query, "document": document}, ensure_ascii=False) + "\n")
    print(f"{len(pairs)} pairs")
    models = {
        "bert-1label": lambda d: make_bert(d, 32, 4, 64, 512, 1, "torch.nn.modules.activation.Sigmoid", 1,
                                           model_max_length=128),
        "bert-3labels": lambda d: make_bert(d, 16, 2, 32, 128, 3, None, 2),
    }
    if os.path.exists(os.path.join(XLMR_TOKENIZER, "tokenizer.json")):
        models["xlmr-1label"] = lambda d: make_xlmr(d, 1, None, 3)
        models["xlmr-3labels"] = lambda d: make_xlmr(d, 3, "torch.nn.modules.linear.Identity", 4)
    else:
        print(f"no {XLMR_TOKENIZER}: XLM-R fixtures not made")
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    for name, make in models.items():
        if only and name not in only:
            continue
        folder = os.path.join(OUT, name)
        shutil.rmtree(folder, ignore_errors=True)
        make(folder)
        references(folder, pairs)


if __name__ == "__main__":
    main()
