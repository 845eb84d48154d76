#!/usr/bin/env python3
"""Builds an XLM-RoBERTa style tokenizer and its expected outputs from Hugging Face `tokenizers`.

Run with the project venv:  /work/venv/bin/python Scripts/make_xlmr_tokenizer_fixtures.py

1. Trains a SentencePiece Unigram model (normalization_rule_name="nmt_nfkc") on the multilingual corpus
   below and converts it the way transformers' XLMRobertaConverter does (as published XLM-R checkpoints
   have it): normalizer Sequence[Precompiled(charsmap), Replace(" {2,}" -> " ")], pre-tokenizer
   Metaspace("▁", prepend_scheme "always"), Unigram with the fairseq offset (<s>=0, <pad>=1, </s>=2,
   <unk>=3, the pieces, <mask> last), <mask> an added token with lstrip, TemplateProcessing
   <s> $A </s> / <s> $A </s> </s> $B </s>.
2. Writes into Tests/Fixtures/tokenizer_xlmr/:
   tokenizer.json                 the tokenizer
   cases.jsonl                    full encodings {"text", ["pair", "max_length"], "ids", "type_ids"}
   precompiled_cases.jsonl        {"text", "normalized"}: the Precompiled normalizer alone
   unigram_cases.jsonl            {"piece", "ids"}: tokenizers.models.Unigram on Metaspace pieces
   bytefallback_model.json        a second small Unigram vocabulary with <0x00>..<0xFF> (byte_fallback)
   bytefallback_cases.jsonl       {"piece", "ids"} for it
   unigram_random_models.json     small random vocabularies (positive and negative scores, unk_id on an
                                  ordinary piece, pieces spelling "<unk>") with {"piece", "ids"} cases
"""
import base64
import json
import os
import random
import sys
import tempfile

import sentencepiece as spm
import tokenizers
from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors, models, AddedToken, Regex

assert tokenizers.__version__ == "0.23.3", tokenizers.__version__

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "tokenizer_xlmr")
REFERENCE = "/work/shared/reference/minilm_sentences.jsonl"

BASE = {
    "en": [
        "The quick brown fox jumps over the lazy dog.",
        "Machine learning models turn sentences into vectors.",
        "She sells sea shells by the sea shore every morning.",
        "A journey of a thousand miles begins with a single step.",
        "The weather today is sunny with a chance of rain in the evening.",
        "Researchers published their results in a well-known journal.",
        "Please send the report before Friday afternoon.",
        "The museum opens at nine and closes at six.",
        "Reading books is one of the best ways to learn new words.",
        "Children were playing football in the park near the river.",
        "How many languages do you speak fluently?",
        "The train to London was delayed by twenty minutes.",
        "Unbelievable! The team won the championship again.",
        "Neural networks need large amounts of training data.",
        "My grandmother bakes the most delicious apple pie.",
        "Search engines rank documents by their relevance.",
    ],
    "de": [
        "Der schnelle braune Fuchs springt über den faulen Hund.",
        "Die Straßenbahn fährt alle zehn Minuten zum Hauptbahnhof.",
        "Ich möchte gerne einen Kaffee und ein Stück Kuchen bestellen.",
        "Das Wetter in München ist heute außergewöhnlich schön.",
        "Die Universität veröffentlicht jährlich einen Forschungsbericht.",
        "Wir treffen uns morgen früh vor dem Rathaus.",
        "Donaudampfschifffahrtsgesellschaftskapitän ist ein sehr langes Wort.",
        "Können Sie mir bitte den Weg zum Bahnhof zeigen?",
        "Die Kinder spielen im Garten hinter dem Haus.",
        "Maschinelles Lernen verändert viele Branchen grundlegend.",
    ],
    "fr": [
        "Le renard brun rapide saute par-dessus le chien paresseux.",
        "Nous sommes allés au marché acheter des légumes frais.",
        "L'été dernier, j'ai visité le château de Versailles.",
        "Où se trouve la gare la plus proche, s'il vous plaît ?",
        "Les élèves préparent leurs examens de fin d'année.",
        "Ça fait déjà trois ans que nous habitons à Montréal.",
        "La bibliothèque municipale ferme à dix-huit heures.",
        "Il faut être patient pour apprendre une nouvelle langue.",
        "Œuvre, cœur et sœur s'écrivent avec une ligature.",
        "Les modèles de langage transforment les phrases en vecteurs.",
    ],
    "es": [
        "El rápido zorro marrón salta sobre el perro perezoso.",
        "¿Dónde está la biblioteca? Necesito estudiar mañana.",
        "La niña comió paella con su familia en Valencia.",
        "Los científicos descubrieron una nueva especie de pájaro.",
        "El señor Núñez trabaja en una compañía de telecomunicaciones.",
    ],
    "ru": [
        "Быстрая коричневая лиса прыгает через ленивую собаку.",
        "Москва является столицей Российской Федерации.",
        "Я люблю читать книги по вечерам у окна.",
        "Погода сегодня хорошая, светит солнце.",
        "Студенты готовятся к экзаменам в университете.",
        "Съешь же ещё этих мягких французских булок, да выпей чаю.",
        "Машинное обучение меняет многие отрасли экономики.",
        "Где находится ближайшая станция метро?",
        "Мой брат работает инженером на большом заводе.",
        "Зимой в Сибири бывает очень холодно.",
    ],
    "zh": [
        "敏捷的棕色狐狸跳过了懒狗。",
        "北京是中华人民共和国的首都。",
        "我喜欢在晚上读书和喝茶。",
        "今天天气很好，阳光明媚。",
        "机器学习正在改变许多行业。",
        "请问最近的地铁站在哪里？",
        "学生们正在准备期末考试。",
        "这家餐厅的饺子非常好吃。",
        "长城是世界上最著名的建筑之一。",
        "我们明天早上九点在图书馆见面。",
        "人工智能和自然语言处理是热门的研究领域。",
        "他每天骑自行车去公司上班。",
    ],
    "ja": [
        "素早い茶色の狐が怠け者の犬を飛び越える。",
        "東京は日本の首都です。",
        "私は毎朝コーヒーを飲みます。",
        "今日はとても良い天気ですね。",
        "機械学習は多くの産業を変えています。",
        "駅までの道を教えていただけますか？",
        "ひらがなとカタカナと漢字を使って書きます。",
        "京都のお寺はとても美しいです。",
        "ｶﾀｶﾅの半角文字と全角のＡＢＣ１２３も混ざっています。",
        "週末に友達と映画を見に行きました。",
    ],
    "ko": [
        "빠른 갈색 여우가 게으른 개를 뛰어넘는다.",
        "서울은 대한민국의 수도입니다.",
        "저는 매일 아침 커피를 마십니다.",
        "오늘 날씨가 정말 좋네요.",
    ],
    "ar": [
        "الثعلب البني السريع يقفز فوق الكلب الكسول.",
        "القاهرة هي عاصمة جمهورية مصر العربية.",
        "أحب قراءة الكتب في المساء.",
        "الطقس جميل اليوم والشمس مشرقة.",
        "يدرس الطلاب في الجامعة للامتحانات.",
        "التعلم الآلي يغير العديد من الصناعات.",
        "أين تقع أقرب محطة قطار؟",
        "مَرْحَبًا بِكُمْ فِي المَدِينَةِ.",
    ],
    "th": [
        "สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ",
        "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย",
        "ฉันชอบอ่านหนังสือในตอนเย็น",
        "วันนี้อากาศดีมาก",
        "นักเรียนกำลังเตรียมตัวสอบปลายภาค",
        "การเรียนรู้ของเครื่องกำลังเปลี่ยนแปลงอุตสาหกรรม",
    ],
    "hi": [
        "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है।",
        "नई दिल्ली भारत की राजधानी है।",
        "मुझे शाम को किताबें पढ़ना पसंद है।",
        "आज मौसम बहुत अच्छा है।",
        "छात्र परीक्षा की तैयारी कर रहे हैं।",
        "मशीन लर्निंग कई उद्योगों को बदल रही है।",
    ],
    "el": [
        "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
        "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    ],
    "he": [
        "השועל החום המהיר קופץ מעל הכלב העצלן.",
        "ירושלים היא עיר עתיקה מאוד.",
    ],
    "tr": [
        "Hızlı kahverengi tilki tembel köpeğin üzerinden atlar.",
        "İstanbul, Türkiye'nin en kalabalık şehridir.",
    ],
    "vi": [
        "Con cáo nâu nhanh nhẹn nhảy qua con chó lười.",
        "Hà Nội là thủ đô của Việt Nam.",
    ],
    "misc": [
        "Emoji time 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇩🇪🇫🇷 ❤️ ✨",
        "Prices: $12.50, €9,99, £7 and ¥1200; call +1 (555) 123-4567.",
        "E-mail: someone@example.com, URL: https://example.org/path?q=1",
        "Ligatures ﬁ ﬂ ﬀ and full-width ＨＥＬＬＯ ｗｏｒｌｄ！",
        "Roman numerals Ⅻ and circled ① ② ③, superscript x² y³.",
        "Math: ∑ x_i ≥ 0, α + β = γ, √2 ≈ 1.414",
    ],
}


def corpus():
    rng = random.Random(1234)
    lines = []
    for sentences in BASE.values():
        lines.extend(sentences)
    # Variations: joined sentences, numbers, case changes, so the trainer sees more substrings.
    all_sentences = [s for v in BASE.values() for s in v]
    for i in range(600):
        a, b = rng.sample(all_sentences, 2)
        choice = i % 4
        if choice == 0:
            lines.append(a + " " + b)
        elif choice == 1:
            lines.append(f"{a} ({rng.randint(0, 99999)})")
        elif choice == 2:
            lines.append(a.upper() if rng.random() < 0.3 else a.lower())
        else:
            words = a.split()
            rng.shuffle(words)
            lines.append(" ".join(words))
    # Pseudo-words spliced from chunks of real words of one language, for a vocabulary of a few thousand.
    for sentences in BASE.values():
        words = [w for s in sentences for w in s.split()]
        for _ in range(150):
            made = []
            for _ in range(rng.randint(3, 9)):
                w = rng.choice(words)
                start = rng.randint(0, max(0, len(w) - 2))
                made.append(w[start:start + rng.randint(2, 5)] + rng.choice(words)[:rng.randint(1, 4)])
            lines.append(" ".join(made))
    return lines


def train_spm(lines, prefix, vocab_size, byte_fallback=False, normalization="nmt_nfkc"):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    spm.SentencePieceTrainer.train(
        input=path, model_prefix=prefix, vocab_size=vocab_size, model_type="unigram",
        normalization_rule_name=normalization, character_coverage=1.0, hard_vocab_limit=False,
        byte_fallback=byte_fallback, minloglevel=2, num_threads=1, seed_sentencepiece_size=200000,
        shuffle_input_sentence=False,
    )
    os.unlink(path)
    return parse_model(open(prefix + ".model", "rb").read())


class Piece:
    def __init__(self, piece, score, type_):
        self.piece, self.score, self.type = piece, score, type_


class Model:
    def __init__(self, pieces, charsmap):
        self.pieces, self.precompiled_charsmap = pieces, charsmap


def _fields(data):
    """(field number, wire type, value) of a protobuf message (the google package is not installed)."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 2:
            n, i = _varint(data, i)
            value, i = data[i:i + n], i + n
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def _varint(data, i):
    result = shift = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i


def parse_model(data):
    """ModelProto: 1 = repeated SentencePiece {1 piece, 2 score (float), 3 type}, 3 = NormalizerSpec {2 charsmap}."""
    import struct
    pieces, charsmap = [], b""
    for number, _, value in _fields(data):
        if number == 1:
            piece, score, type_ = "", 0.0, 1
            for n, _, v in _fields(value):
                if n == 1:
                    piece = v.decode("utf-8")
                elif n == 2:
                    score = struct.unpack("<f", v)[0]
                elif n == 3:
                    type_ = v
            pieces.append(Piece(piece, score, type_))
        elif number == 3:
            for n, _, v in _fields(value):
                if n == 2:
                    charsmap = bytes(v)
    return Model(pieces, charsmap)


def build_xlmr(proto):
    # XLMRobertaConverter: fairseq offset; the spm pieces 0..2 (<unk>, <s>, </s>) are replaced.
    assert [p.piece for p in proto.pieces[:3]] == ["<unk>", "<s>", "</s>"], [p.piece for p in proto.pieces[:3]]
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(p.piece, p.score) for p in proto.pieces[3:]]
    vocab += [("<mask>", 0.0)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    charsmap = proto.precompiled_charsmap
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(charsmap),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    from tokenizers import decoders
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tok.add_special_tokens([
        AddedToken("<s>", special=True, normalized=False),
        AddedToken("<pad>", special=True, normalized=False),
        AddedToken("</s>", special=True, normalized=False),
        AddedToken("<unk>", special=True, normalized=False),
        AddedToken("<mask>", lstrip=True, special=True, normalized=False),
    ])
    return tok, charsmap


def hard_cases():
    long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 6
    return [
        "", " ", "     ", "\t\n \r\n", "\u00a0", "a\u00a0b\u00a0\u00a0c", "word  two   three    four",
        "  leading and trailing  ", "zero\u200bwidth\u200cjoin\u200dhere\ufeff", "soft\u00adhyphen",
        "ctrl\x00\x01\x07\x1b\x7f\x85chars", "line\u2028sep\u2029para", "bidi\u202eevil\u202c\u200e\u200f",
        "e\u0301 a\u0300 o\u0308 n\u0303 \u0061\u0323\u0302", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334",
        "ＦＵＬＬ　ｗｉｄｔｈ　１２３！？", "ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟ", "ﬁnance ﬂow ﬀ ﬃ ﬄ ﬅ ﬆ", "Ⅰ Ⅱ Ⅲ Ⅳ ⅰ ⅱ ½ ¼ ¾ ™ ℃ № ㎏ ㍻",
        "한국어 각 조합형 자모", "中文，标点。「引号」『书名』【括号】", "日本語の文章、句読点。ｱｲｳ",
        "ภาษาไทยไม่มีช่องว่างระหว่างคำ", "العربية مع التشكيل: كِتَابٌ وَقَلَمٌ ﻻ ﷺ ﷽",
        "हिन्दी क्षत्रिय द्वितीय श्री", "👍 👍🏻 👍🏿 👩‍💻 🏳️‍🌈 🇺🇳 #️⃣ 1️⃣ ©️ ☺︎",
        "👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦", long_word, "a" * 300, "ab" * 150 + " " + "xyz" * 80,
        "<s> </s> <pad> <unk> <mask> mask", "hello<mask>world", "hello <mask> world", "<mask>", "   <mask>  x",
        "Mixed ქართული Ελληνικά עברית Русский 中文 日本語 한국어 ไทย हिन्दी العربية",
        "𝐁𝐨𝐥𝐝 𝑖𝑡𝑎𝑙𝑖𝑐 𝔉𝔯𝔞𝔨𝔱𝔲𝔯 𝟙𝟚𝟛", "Å Å Ω Ω K K", "ǅ ǈ ǋ Ǳ ǲ ǳ",
        "\u0f73 \u0f75 \u0f81 \u0344 \u1e9b\u0323", "\u2126\u212b\u2000\u2001\u2002\u3000end",
        "tab\there\tand\nnewline\rreturn", "x" + "\u0301" * 20, "\u0301start with mark",
        "\ud7a3\u1100\u1161\u11a8 \u1100\u1100\u1161", "\U0001f1e9\U0001f1ea\U0001f1eb", "\U000e0001\U000e0041 tags",
        "\ue000 private \U000f0000 use", "\ufffd replacement \ufffe", "end with space ",
        " ".join(["word%d" % i for i in range(700)]),
        "Die Grundrechte. Artikel 1: Die Würde des Menschen ist unantastbar. " * 12,
    ]


RANGES = [
    (0x20, 0x7E, 30), (0x00, 0x1F, 3), (0x80, 0xFF, 8), (0x100, 0x24F, 6), (0x300, 0x36F, 6),
    (0x370, 0x3FF, 3), (0x400, 0x4FF, 5), (0x590, 0x5FF, 2), (0x600, 0x6FF, 5), (0x900, 0x97F, 4),
    (0xE00, 0xE7F, 4), (0x1100, 0x11FF, 3), (0x1E00, 0x1EFF, 3), (0x2000, 0x206F, 5), (0x2100, 0x24FF, 4),
    (0x3000, 0x30FF, 5), (0x3130, 0x318F, 2), (0x3200, 0x33FF, 3), (0x4E00, 0x9FFF, 6), (0xAC00, 0xD7A3, 4),
    (0xF900, 0xFAFF, 2), (0xFB00, 0xFB4F, 2), (0xFE00, 0xFE0F, 2), (0xFE30, 0xFEFF, 3), (0xFF00, 0xFFEF, 6),
    (0x1D400, 0x1D7FF, 2), (0x1F1E6, 0x1F1FF, 2), (0x1F300, 0x1FAFF, 6), (0x1F3FB, 0x1F3FF, 2),
    (0x200D, 0x200D, 2), (0xE0000, 0xE007F, 1), (0x20000, 0x2A6DF, 1), (0x10000, 0x10FFFF, 1),
]


def random_strings(count, seed):
    rng = random.Random(seed)
    weights = [w for _, _, w in RANGES]
    out = []
    for _ in range(count):
        length = rng.randint(1, 40)
        chars = []
        for _ in range(length):
            lo, hi, _ = rng.choices(RANGES, weights)[0]
            cp = rng.randint(lo, hi)
            if 0xD800 <= cp <= 0xDFFF:
                cp = 0x20
            chars.append(chr(cp))
        out.append("".join(chars))
    return out


CLUSTER_BASES = [*range(0x41, 0x5B), *range(0x61, 0x7B), 0xC5, 0x3A9, 0x41F, 0x5D0, 0x627, 0x915, 0x928, 0xE01,
                 0x1100, 0x1161, 0x11A8, 0xAC00, 0xAC01, 0x3042, 0x304B, 0x30AB, 0xFF76, 0x1F44D, 0x1F468, 0x1F1E9,
                 0x1F1EA, 0x2764, 0xA9, 0x23, 0x31, 0xD, 0xA, 0x20, 0x600, 0x605, 0xE33, 0xE40, 0x1F3FB]
CLUSTER_MARKS = [*range(0x300, 0x370), 0x94D, 0x93F, 0x941, 0x93C, 0x200D, 0x200C, 0xFE0F, 0xFE0E, 0x20E3, 0x3099,
                 0x309A, 0xFF9E, 0xFF9F, 0x1F3FB, 0x1F3FF, 0xE48, 0xE31, 0x64B, 0x651, 0x670, 0x11A8, 0x1161, 0xE0041]


def cluster_strings(count, seed):
    """Short strings of base characters with marks, joiners, modifiers, jamo: grapheme clusters under 6 bytes."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        chars = []
        for _ in range(rng.randint(1, 6)):
            chars.append(chr(rng.choice(CLUSTER_BASES)))
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                chars.append(chr(rng.choice(CLUSTER_MARKS)))
        out.append("".join(chars))
    return out


def random_unigram_models(count, seed):
    rng = random.Random(seed)
    result = []
    for m in range(count):
        alphabet = [chr(c) for c in rng.sample(range(0x61, 0x7B), 6)] + list("<unk>")
        vocab = [("<unk>", rng.choice([0.0, -5.0, 3.0]))]
        seen = {"<unk>"}
        positive = m % 3 == 0
        size = rng.randint(5, 40)
        while len(vocab) < size:
            piece = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
            if piece not in seen:
                seen.add(piece)
                vocab.append((piece, rng.uniform(1, 30) if positive else -rng.uniform(0, 15)))
        unk_id = rng.randrange(len(vocab))
        model = models.Unigram(vocab, unk_id, False)
        pieces = ["".join(rng.choice(alphabet + ["x", "y", "☃"]) for _ in range(rng.randint(1, 15))) for _ in range(60)]
        result.append({"unk_id": unk_id, "vocab": vocab,
                       "cases": [{"piece": p, "ids": [t.id for t in model.tokenize(p)]} for p in pieces]})
    return result


def write_jsonl(name, rows):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name}: {len(rows)} rows, {os.path.getsize(os.path.join(OUT, name))} bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = corpus()
    work = tempfile.mkdtemp()
    proto = train_spm(lines, os.path.join(work, "xlmr"), 3000)
    print("trained pieces:", len(proto.pieces))
    tok, charsmap = build_xlmr(proto)
    tok.save(os.path.join(OUT, "tokenizer.json"))
    print("tokenizer.json bytes:", os.path.getsize(os.path.join(OUT, "tokenizer.json")))
    tok = Tokenizer.from_file(os.path.join(OUT, "tokenizer.json"))

    reference = [json.loads(l)["text"] for l in open(REFERENCE, encoding="utf-8")]
    hard = hard_cases()
    rand = random_strings(320, 77)
    texts = [("reference", t) for t in reference] + [("hard", t) for t in hard] \
        + [("corpus", t) for t in BASE["misc"] + BASE["ja"][:3] + BASE["th"][:3]] + [("random", t) for t in rand]

    # Full encodings.
    rows = []
    for kind, text in texts:
        enc = tok.encode(text)
        rows.append({"kind": kind, "text": text, "ids": enc.ids, "type_ids": enc.type_ids})
    rng = random.Random(5)
    pair_pool = reference + hard[:40] + rand[:60]
    for max_length in (8, 16, 32, 64, 128, 512):
        tok.enable_truncation(max_length, strategy="longest_first")
        for _ in range(20):
            a, b = rng.choice(pair_pool), rng.choice(pair_pool)
            enc = tok.encode(a, b)
            rows.append({"kind": "pair", "text": a, "pair": b, "max_length": max_length, "ids": enc.ids,
                         "type_ids": enc.type_ids})
        tok.no_truncation()
    for i in range(20):
        a, b = rng.choice(pair_pool), rng.choice(pair_pool)
        enc = tok.encode(a, b)
        rows.append({"kind": "pair", "text": a, "pair": b, "ids": enc.ids, "type_ids": enc.type_ids})
    write_jsonl("cases.jsonl", rows)

    # Component level: the Precompiled normalizer alone.
    precompiled = normalizers.Precompiled(charsmap)
    extra = random_strings(200, 99) + cluster_strings(2000, 7)
    rows = [{"text": t, "normalized": precompiled.normalize_str(t)} for _, t in texts] \
        + [{"text": t, "normalized": precompiled.normalize_str(t)} for t in extra]
    write_jsonl("precompiled_cases.jsonl", rows)

    # Component level: the Unigram model on Metaspace pieces of the fully normalized texts, plus raw
    # random strings (unnormalized: many characters outside the vocabulary).
    vocab = json.load(open(os.path.join(OUT, "tokenizer.json"), encoding="utf-8"))["model"]["vocab"]
    unigram = models.Unigram([tuple(v) for v in vocab], 3, False)
    pieces = []
    seen = set()
    for _, text in texts:
        normalized = tok.normalizer.normalize_str(text)
        for piece, _ in tok.pre_tokenizer.pre_tokenize_str(normalized):
            if piece not in seen:
                seen.add(piece)
                pieces.append(piece)
    for t in rand + extra[:200]:
        piece = "▁" + t.replace(" ", "▁")
        if piece not in seen:
            seen.add(piece)
            pieces.append(piece)
    pieces += ["<unk>", "▁<unk>", "☃<unk>☃", "<s><pad></s>", "<mask>"]
    rows = [{"piece": p, "ids": [t.id for t in unigram.tokenize(p)]} for p in pieces]
    write_jsonl("unigram_cases.jsonl", rows)

    # A second, small model with byte fallback (SentencePiece's own byte pieces), trained on English only.
    english = [l for l in lines if all(ord(c) < 0x250 for c in l)]
    bf_proto = train_spm(english, os.path.join(work, "bf"), 700, byte_fallback=True, normalization="identity")
    bf_vocab = [(p.piece, p.score) for p in bf_proto.pieces]
    unk_id = next(i for i, p in enumerate(bf_proto.pieces) if p.type == 2)
    assert sum(1 for p, _ in bf_vocab if len(p) == 6 and p.startswith("<0x")) == 256
    with open(os.path.join(OUT, "bytefallback_model.json"), "w", encoding="utf-8") as f:
        json.dump({"unk_id": unk_id, "byte_fallback": True, "vocab": bf_vocab}, f, ensure_ascii=False)
    bf = models.Unigram(bf_vocab, unk_id, True)
    bf_pieces = pieces[:400] + ["▁" + t.replace(" ", "▁") for t in random_strings(100, 123)]
    rows = [{"piece": p, "ids": [t.id for t in bf.tokenize(p)]} for p in bf_pieces]
    write_jsonl("bytefallback_cases.jsonl", rows)

    random_models = random_unigram_models(40, 11)
    with open(os.path.join(OUT, "unigram_random_models.json"), "w", encoding="utf-8") as f:
        json.dump(random_models, f, ensure_ascii=False)
    print("unigram_random_models.json:", sum(len(m["cases"]) for m in random_models), "pieces")


if __name__ == "__main__":
    main()
