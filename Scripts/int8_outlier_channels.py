#!/usr/bin/env python3
"""The FFN activation outliers behind the int8 recipe (optional; not run in CI).

For each encoder layer, the largest |GELU output| per channel (the input of the FFN's second layer,
`output.dense`) over real sentences, fp32 sentence-transformers: a few channels per layer are 10-100x
the rest, which per-row 8-bit quantization cannot resolve, so int8 multiplies the 8 largest in fp32
(EncoderModel.calibrateInt8 picks them from pseudo-random token ids instead; both pick the big ones).
The largest channel of layers 0-3 of all-MiniLM-L6-v2 printed here (856, 607, 1004, 358) is what
Int8OutlierTests checks the Swift calibration against.

    /work/venv/bin/python Scripts/int8_outlier_channels.py [models/all-MiniLM-L6-v2 ...]
"""
import sys
import torch
from sentence_transformers import SentenceTransformer

SENTENCES = [
 "The dog slept under the kitchen table all afternoon.",
 "A young girl is riding a bicycle along the beach.",
 "The committee postponed its decision until next spring.",
 "Researchers measured the temperature of the lake every hour.",
 "Please remember to water the plants while I'm away.",
 "The train to Edinburgh was delayed by forty minutes.",
 "Photosynthesis converts light energy into chemical energy.",
 "She finished the marathon in just under four hours.",
 "How many bones are there in the human body?",
 "Convolutional networks share weights across spatial positions.",
 "The museum reopened after a two-year renovation.",
 "Interest rates rose for the third consecutive quarter.",
 "Der Hund schläft unter dem Tisch.",
 "Le chat dort sur le canapé depuis ce matin.",
 "El tren sale de la estación a las ocho.",
 "Собака спит под столом.",
 "我们明天去公园散步。",
 "今日はとても暑いですね。",
 "오늘 날씨가 좋네요.",
 "Η θάλασσα είναι ήρεμη σήμερα.",
 "for i in range(10): print(i * i)",
 "SELECT name, age FROM users WHERE age > 30;",
 "x = [1, 2, 3]; y = {'a': 4}",
 "Call 0800-123-456 or write to info@test.net",
 "Price: 19.99 USD, discount 15%, total 16.99",
 "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
 "ooooooooooooooooooooooooooooooooo ooooooooooooo",
 "üüüüüüüüüüüüüüüüüüüüüüüüüüüüüü",
 "??? !!! ... ,,, ;;; ::: /// \\\\\\",
 "🙂🙂🙂🙂",
 "🚀 launch day! 🎉🎉",
 "ok",
 "yes",
 "b",
 "q r s t u v w x y z",
 "lorem ipsum dolor sit amet consectetur adipiscing elit",
 "A long sentence that keeps going, describing a walk through the old town, past the bakery, the bookshop, the little square with its fountain, and finally up the hill to the church where the bells were ringing for the evening service while swallows circled above the rooftops and the shopkeepers slowly closed their shutters one by one.",
 "Transformers use residual connections and layer normalization around each sublayer.",
 "[CLS] [SEP] [PAD]",
]


def main(folders):
    torch.set_num_threads(1)
    for folder in folders:
        model = SentenceTransformer(folder, device="cpu")
        maxima, hooks = {}, []
        for name, module in model[0].auto_model.named_modules():
            if name.endswith("output.dense") and "attention" not in name:
                def hook(_module, inputs, _output, name=name):
                    x = inputs[0].reshape(-1, inputs[0].shape[-1]).abs().amax(0)
                    maxima[name] = torch.maximum(maxima[name], x) if name in maxima else x
                hooks.append(module.register_forward_hook(hook))
        with torch.no_grad():
            for sentence in SENTENCES:  # one at a time: no padding rows
                model.encode([sentence])
        for name, values in maxima.items():
            top = values.topk(8)
            print(f"{folder} {name}: median {values.median():.2f}; largest",
                  ", ".join(f"{int(i)}: {float(v):.1f}" for v, i in zip(top.values, top.indices)))


if __name__ == "__main__":
    main(sys.argv[1:] or ["models/all-MiniLM-L6-v2", "models/all-mpnet-base-v2"])
