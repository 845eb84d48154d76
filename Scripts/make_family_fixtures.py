#!/usr/bin/env python3
"""Writes the encoder-family parity fixtures into Tests/Fixtures/families/.

For every family the encoder loads (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, MPNet) a tiny random-weight
checkpoint (hidden 32, 2 layers, 4 heads) is built with transformers, saved with `save_pretrained`
(safetensors), and run by PyTorch (fp32, eager attention) on a padded batch of sequences of different
lengths: 1, a few, and one at the family's position limit. Some are saved from `*ForMaskedLM`, so their
keys carry the family prefix (`bert.`, `roberta.`, `mpnet.`); the others are saved from the bare model.

Each folder holds `config.json`, `model.safetensors` and `expected.safetensors`: `input_ids`,
`attention_mask`, `token_type_ids` (I32, [batch, padded]), `hidden_states.0` … `hidden_states.N` and
`last_hidden_state` (F32, [batch, padded, hidden]). The MPNet folders also hold `relative_position_bucket`
(I32, [1199]): Hugging Face's bucket of every relative position -599 … 599.

Weights are redrawn with larger spread than transformers' initializer (std 0.02 makes attention nearly
uniform and hides position and bias errors). Sequences of the RoBERTa-style families contain one real token
equal to the padding id, which Hugging Face gives the padding position (see Docs/Encoder.md).

With `--mpnet FOLDER` it also writes Tests/Fixtures/families/all-mpnet-base-v2.safetensors: the real
all-mpnet-base-v2's hidden states for a small padded batch of 4 texts: every layer's first 64 columns
(`hidden_states.N.columns_0_64`, [4, 21, 64]) and the whole `last_hidden_state` ([4, 21, 768]).

With `--sentences` it (only) writes Tests/Fixtures/families/sentences/ (sentence-transformers 6.3): one tiny random-weight
sentence-transformers folder per family, each with a committed tokenizer of its kind, saved by
`SentenceTransformer.save` and reloaded from disk for the references:

  roberta/      RoBERTa, byte-level BPE (Tests/Fixtures/tokenizer_roberta), Pooling mean, Normalize
  xlm-roberta/  XLM-RoBERTa, Unigram + Precompiled (Tests/Fixtures/tokenizer_xlmr), Pooling cls, Normalize
  distilbert/   DistilBERT, WordPiece (a 1,200-piece uncased vocabulary trained here), Pooling mean, no Normalize

(hidden 32, 2 layers, 4 heads, max_seq_length 40), and expected.json: for each folder the texts (empty,
truncated, German, Russian, Japanese, Chinese, emoji, …), sentence-transformers' token ids (padding removed)
and `SentenceTransformer(folder).encode(texts)`.

Run: /work/venv/bin/python Scripts/make_family_fixtures.py [--mpnet models/all-mpnet-base-v2] [--sentences]
"""
import argparse
import json
import os
import shutil

import torch
from safetensors.torch import save_file
from transformers.models.mpnet.modeling_mpnet import MPNetEncoder
from transformers import (
    AutoModel,
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    DistilBertConfig,
    DistilBertModel,
    MPNetConfig,
    MPNetForMaskedLM,
    MPNetModel,
    RobertaConfig,
    RobertaModel,
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
    XLMRobertaModel,
)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "families")
VOCAB = 100


def redraw(model, seed):
    """Weights with spread: matrices N(0, 0.3²), LayerNorm gamma 1 + N(0, 0.1²), biases N(0, 0.1²)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name or "layer_norm.weight" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "relative_attention_bias" in name:
                p.copy_(1.0 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))


def batch(lengths, seed, pad_id, special_ids, token_types, pad_inside):
    """Right-padded batch; real ids avoid the pad id, except one deliberate pad-id token in the middle of
    sequence `pad_inside` (an index, or None)."""
    g = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.full((len(lengths), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(lengths), width), dtype=torch.long)
    types = torch.zeros((len(lengths), width), dtype=torch.long)
    candidates = torch.tensor([i for i in range(VOCAB) if i != pad_id and i not in special_ids])
    for b, n in enumerate(lengths):
        row = candidates[torch.randint(len(candidates), (n,), generator=g)]
        if n >= 2:
            row[0], row[-1] = special_ids[0], special_ids[1]
        if pad_inside is not None and b == pad_inside:
            assert n >= 5
            row[n // 2] = pad_id
        ids[b, :n] = row
        mask[b, :n] = 1
        if token_types:
            types[b, n // 2 : n] = 1
    return ids, mask, types


def run(base, ids, mask, types, use_types):
    base.eval()
    with torch.no_grad():
        kwargs = dict(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        if use_types:
            kwargs["token_type_ids"] = types
        out = base(**kwargs)
    tensors = {
        "input_ids": ids.to(torch.int32),
        "attention_mask": mask.to(torch.int32),
        "token_type_ids": types.to(torch.int32),
        "last_hidden_state": out.last_hidden_state.clone(),
    }
    for i, h in enumerate(out.hidden_states):
        tensors[f"hidden_states.{i}"] = h.clone()
    return tensors


def relative_buckets():
    positions = torch.arange(-599, 600)
    return MPNetEncoder.relative_position_bucket(positions).reshape(-1).to(torch.int32)


def write(name, model, base, lengths, seed, pad_id, special_ids, use_types, pad_inside, extra=None):
    folder = os.path.join(ROOT, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder, safe_serialization=True)
    ids, mask, types = batch(lengths, seed, pad_id, special_ids, use_types, pad_inside)
    tensors = run(base, ids, mask, types, use_types)
    if extra:
        tensors.update(extra)
    save_file(tensors, os.path.join(folder, "expected.safetensors"))
    for leftover in ("generation_config.json",):
        path = os.path.join(folder, leftover)
        if os.path.exists(path):
            os.remove(path)
    keys = sorted(json.load(open(os.path.join(folder, "config.json"))).keys())
    print(f"{name}: lengths {lengths}, config keys {len(keys)}, "
          f"{os.path.getsize(os.path.join(folder, 'model.safetensors'))} + "
          f"{os.path.getsize(os.path.join(folder, 'expected.safetensors'))} bytes")


def tiny():
    common = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, hidden_act="gelu", attn_implementation="eager")

    torch.manual_seed(1)
    m = BertForMaskedLM(BertConfig(max_position_embeddings=40, type_vocab_size=2, pad_token_id=0, **common))
    redraw(m, 11)
    write("bert-mlm", m, m.bert, [40, 1, 7, 13], 101, 0, (2, 3), True, None)

    torch.manual_seed(2)
    m = RobertaModel(RobertaConfig(max_position_embeddings=42, type_vocab_size=1, pad_token_id=1,
                                   bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, **common),
                     add_pooling_layer=False)
    redraw(m, 12)
    write("roberta", m, m, [40, 9, 1, 13], 102, 1, (0, 2), False, 1)

    torch.manual_seed(3)
    m = XLMRobertaForMaskedLM(XLMRobertaConfig(max_position_embeddings=42, type_vocab_size=1, pad_token_id=1,
                                               bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, **common))
    redraw(m, 13)
    write("xlm-roberta-mlm", m, m.roberta, [1, 11, 40, 6], 103, 1, (0, 2), False, 1)

    torch.manual_seed(4)
    m = DistilBertModel(DistilBertConfig(vocab_size=VOCAB, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                                         activation="gelu", max_position_embeddings=40, pad_token_id=0,
                                         attn_implementation="eager"))
    redraw(m, 14)
    write("distilbert", m, m, [12, 40, 1, 5], 104, 0, (2, 3), False, None)

    # MPNet: the longest sequence (158 = 160 - 1 - 1) reaches relative distances past max_distance 128.
    buckets = {"relative_position_bucket": relative_buckets()}
    torch.manual_seed(5)
    m = MPNetModel(MPNetConfig(max_position_embeddings=160, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                               relative_attention_num_buckets=32, layer_norm_eps=1e-5, **common),
                   add_pooling_layer=False)
    redraw(m, 15)
    write("mpnet", m, m, [158, 1, 20, 9], 105, 1, (0, 2), False, 2, buckets)

    torch.manual_seed(6)
    m = MPNetForMaskedLM(MPNetConfig(max_position_embeddings=40, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                                     relative_attention_num_buckets=32, layer_norm_eps=1e-5, **common))
    redraw(m, 16)
    write("mpnet-mlm", m, m.mpnet, [38, 1, 17], 106, 1, (0, 2), False, None, buckets)


def real_mpnet(folder):
    texts = ["The cat sat on the mat.",
             "A man is playing a guitar on a stage in front of a small, quiet crowd.",
             "a",
             "Überprüfung der Ergebnisse: 42 % höher als erwartet!"]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True)
    tensors = {
        "input_ids": enc["input_ids"].to(torch.int32),
        "attention_mask": enc["attention_mask"].to(torch.int32),
        "token_type_ids": torch.zeros_like(enc["input_ids"], dtype=torch.int32),
    }
    for i, h in enumerate(out.hidden_states):
        tensors[f"hidden_states.{i}.columns_0_64"] = h[:, :, :64].contiguous().clone()
    tensors["last_hidden_state"] = out.last_hidden_state.clone()
    path = os.path.join(ROOT, "all-mpnet-base-v2.safetensors")
    save_file(tensors, path)
    print(f"all-mpnet-base-v2: {enc['input_ids'].shape}, {os.path.getsize(path)} bytes")


# MARK: sentence-transformers folders, references from text

SENTENCE_ROOT = os.path.join(ROOT, "sentences")
TOKENIZERS = os.path.join(ROOT, "..")
MAX_SEQ_LENGTH = 40

SENTENCE_TEXTS = [
    "",
    "a",
    "The cat sat on the mat.",
    "A man is playing a guitar on a stage in front of a small, quiet crowd.",
    "Machine learning models turn sentences into vectors.",
    "How many languages do you speak fluently?",
    "Search engines rank documents by their relevance.",
    "The train to London was delayed by twenty minutes.",
    "  leading and trailing spaces  ",
    "UPPER case, lower case, MiXeD CaSe.",
    "Numbers: 3.14159, 2,718 and 1e-5; dates 2026-11-23.",
    "e-mail: someone@example.com, https://example.org/path?q=1",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Die Straßenbahn fährt alle zehn Minuten zum Hauptbahnhof.",
    "Donaudampfschifffahrtsgesellschaftskapitän ist ein sehr langes Wort.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Москва — столица России.",
    "東京は日本の首都です。",
    "私は毎朝コーヒーを飲みます。",
    "机器学习正在改变世界。",
    "我爱北京天安门。",
    "Emoji: 😀👍🏽 and a family 👨‍👩‍👧 🚀✨",
    "Mixed: Hello, мир, 世界, Welt! 🌍",
    "Œuvre, cœur et sœur s'écrivent avec une ligature.",
    "ﬁne ligatures, full-width ＡＢＣ１２３, and a soft\u00adhyphen",
    "Tabs\tand\nnewlines\r\nin text",
    "Zero\u200bwidth\u200dand combining e\u0301 accents",
    "Ελληνικά: η γρήγορη καφέ αλεπού.",
    "مرحبا بالعالم",
    "शब्द और वाक्य",
    "!!!???...,,,;;;",
    "<s> </s> <pad> [CLS] [SEP] look like special tokens",
    " ".join(["The quick brown fox jumps over the lazy dog."] * 8),   # truncated to max_seq_length
    " ".join(["Die Katze sprang über die Mauer, weil sie hoch war."] * 6),  # truncated
    "Съешь же ещё этих мягких французских булок. " * 6,              # truncated
    "東京は日本の首都です。" * 12,                                     # truncated
    "😀" * 60,                                                        # truncated (byte-level: 4 bytes each)
    "word " * 38,                                                     # at the limit
    "Neural networks need large amounts of training data.",
    "x y z",
]

WORDPIECE_CORPUS = SENTENCE_TEXTS[2:32] + [
    "She sells sea shells by the sea shore every morning.",
    "A journey of a thousand miles begins with a single step.",
    "The weather today is sunny with a chance of rain in the evening.",
    "Ich möchte gerne einen Kaffee und ein Stück Kuchen bestellen.",
    "Das Wetter in München ist heute außergewöhnlich schön.",
    "Я люблю читать книги по вечерам.",
    "日本語の文章を書くのは難しいです。",
    "今天天气很好，我们去公园散步吧。",
]


def tokenizer_object(kind):
    """A `PreTrainedTokenizerFast` around a committed (or trained) tokenizer.json, unchanged."""
    from tokenizers import Tokenizer, processors
    from tokenizers.implementations import BertWordPieceTokenizer
    from transformers import PreTrainedTokenizerFast

    if kind == "wordpiece":
        trained = BertWordPieceTokenizer(lowercase=True, strip_accents=None, handle_chinese_chars=True)
        trained.train_from_iterator(WORDPIECE_CORPUS * 3, vocab_size=1200, min_frequency=1, limit_alphabet=400,
                                    special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        backend = trained._tokenizer
        cls, sep = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
        backend.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
        specials = dict(pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                        mask_token="[MASK]")
    else:
        backend = Tokenizer.from_file(os.path.join(TOKENIZERS, f"tokenizer_{kind}", "tokenizer.json"))
        specials = dict(bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
                        cls_token="<s>", sep_token="</s>", mask_token="<mask>")
    backend.no_truncation()
    backend.no_padding()
    return PreTrainedTokenizerFast(tokenizer_object=backend, model_max_length=MAX_SEQ_LENGTH,
                                   model_input_names=["input_ids", "attention_mask"], **specials)


def sentence_folders():
    import numpy as np
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    import tempfile

    torch.set_grad_enabled(False)
    shutil.rmtree(SENTENCE_ROOT, ignore_errors=True)
    os.makedirs(SENTENCE_ROOT)
    common = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                  hidden_act="gelu", attn_implementation="eager")
    roberta_style = dict(max_position_embeddings=MAX_SEQ_LENGTH + 2, type_vocab_size=1, pad_token_id=1,
                         bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, **common)
    families = [
        ("roberta", "roberta", lambda v: RobertaModel(RobertaConfig(vocab_size=v, **roberta_style),
                                                      add_pooling_layer=False), "mean", True, 31),
        ("xlm-roberta", "xlmr", lambda v: XLMRobertaModel(XLMRobertaConfig(vocab_size=v, **roberta_style),
                                                             add_pooling_layer=False), "cls", True, 32),
        ("distilbert", "wordpiece", lambda v: DistilBertModel(DistilBertConfig(
            vocab_size=v, dim=32, n_layers=2, n_heads=4, hidden_dim=64, activation="gelu",
            max_position_embeddings=MAX_SEQ_LENGTH, pad_token_id=0, attn_implementation="eager")), "mean", False, 33),
    ]
    records = []
    work = tempfile.mkdtemp()
    for name, kind, build, pooling, normalize, seed in families:
        tokenizer = tokenizer_object(kind)
        torch.manual_seed(seed)
        model = build(len(tokenizer)).eval()
        redraw(model, seed + 100)
        base = os.path.join(work, name)
        model.save_pretrained(base, safe_serialization=True)
        tokenizer.save_pretrained(base)
        modules = [Transformer(base, max_seq_length=MAX_SEQ_LENGTH), Pooling(32, pooling)]
        if normalize:
            modules.append(Normalize())
        folder = os.path.join(SENTENCE_ROOT, name)
        SentenceTransformer(modules=modules, device="cpu").save(folder)
        for leftover in ("README.md", "generation_config.json"):
            if os.path.exists(os.path.join(folder, leftover)):
                os.remove(os.path.join(folder, leftover))
        # References from exactly the files the tests read.
        st = SentenceTransformer(folder, device="cpu")
        embeddings = st.encode(SENTENCE_TEXTS, batch_size=8, convert_to_numpy=True)
        ids = []
        for text in SENTENCE_TEXTS:
            features = st.preprocess([text])
            ids.append(features["input_ids"][0][features["attention_mask"][0].bool()].tolist())
        # The committed tokenizer.json alone (the `tokenizers` library) gives the same ids.
        from tokenizers import Tokenizer
        alone = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        alone.enable_truncation(MAX_SEQ_LENGTH)
        for text, expected in zip(SENTENCE_TEXTS, ids):
            assert alone.encode(text).ids == expected, (name, text)
        truncated = sum(len(Tokenizer.from_file(os.path.join(folder, "tokenizer.json")).encode(t).ids) > MAX_SEQ_LENGTH
                        for t in SENTENCE_TEXTS)
        unknown = sum(i == tokenizer.unk_token_id for row in ids for i in row)
        records.append({"folder": name, "model_type": model.config.model_type, "max_seq_length": MAX_SEQ_LENGTH,
                        "texts": SENTENCE_TEXTS, "input_ids": ids,
                        "embeddings": np.asarray(embeddings, dtype=np.float64).tolist()})
        print(f"sentences/{name}: vocab {len(tokenizer)}, {len(SENTENCE_TEXTS)} texts, {truncated} truncated, "
              f"{unknown} unknown tokens, {os.path.getsize(os.path.join(folder, 'model.safetensors'))} bytes of weights")
    shutil.rmtree(work)
    with open(os.path.join(SENTENCE_ROOT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"cases": records}, f, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mpnet", help="all-mpnet-base-v2 folder: also write its reference hidden states")
    parser.add_argument("--skip-tiny", action="store_true")
    parser.add_argument("--sentences", action="store_true",
                        help="only write the sentence-transformers folders of Tests/Fixtures/families/sentences")
    args = parser.parse_args()
    os.makedirs(ROOT, exist_ok=True)
    if args.sentences:
        sentence_folders()
        raise SystemExit(0)
    if not args.skip_tiny:
        tiny()
    if args.mpnet:
        real_mpnet(args.mpnet)
