#!/usr/bin/env python3
"""ONNX Runtime fp32 against the Swift encoder on all-mpnet-base-v2 (optional; never run in CI).

Exports the MPNetModel of models/all-mpnet-base-v2 with torch.onnx (TorchScript exporter, opset 17) to
.build-bench/mpnet/model.onnx, checks ONNX Runtime's last hidden state against PyTorch's (1e-4), writes the
token batch (Scripts/make_bench_tokens.py's workload, byte-identical to what `encoder bench` names the same
way), then alternates, ROUNDS times: ONNX Runtime (intra-op THREADS, inter-op 1, all graph optimizations,
median of REPEAT runs after a warm-up) and `encoder bench --model … --tokens FILE --backend onednn|blas --json`
(median of REPEAT). Alternating keeps both engines under the same background load. Both time the encoder
forward pass on real tokens (the batch has no padding at a fixed length).

Needs onnx and onnxruntime next to torch and transformers, e.g.:
  python3 -m pip install --target .build-bench/ortpkgs onnx onnxruntime
  PYTHONPATH=.build-bench/ortpkgs /work/venv/bin/python Scripts/compare_mpnet_onnx.py [--workload b32_L128]
The script never sets or unsets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from make_bench_tokens import WORKLOADS, make_workload  # noqa: E402


def export(model_dir, path):
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    ids = torch.tensor([[0, 2000, 4941, 2942, 2010, 2000, 13527, 1016, 2]])
    mask = torch.ones_like(ids)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        torch.onnx.export(
            model, (ids, mask), path, input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"], opset_version=17, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"},
                          "last_hidden_state": {0: "batch", 1: "length"}})
    with torch.no_grad():
        reference = model(input_ids=ids, attention_mask=mask).last_hidden_state.numpy()
    return ids.numpy(), mask.numpy(), reference


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "all-mpnet-base-v2"))
    ap.add_argument("--encoder", default=os.path.join(ROOT, ".build", "release", "encoder"))
    ap.add_argument("--workload", default="b32_L128", choices=[w[0] for w in WORKLOADS])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--backend", default="onednn", choices=["onednn", "blas"], help="our backend (default: the encoder's default, onednn)")
    args = ap.parse_args()

    import numpy as np
    import onnxruntime as ort

    work = os.path.join(ROOT, ".build-bench", "mpnet")
    onnx_path = os.path.join(work, "model.onnx")
    ids, mask, reference = export(args.model, onnx_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    check = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    difference = float(np.abs(check - reference).max())
    print(f"ONNX Runtime {ort.__version__} vs PyTorch on one sentence: max |difference| {difference:.2e}")
    if difference > 1e-4:
        sys.exit("ONNX Runtime does not reproduce PyTorch; not timing it")

    index = [w[0] for w in WORKLOADS].index(args.workload)
    _, batch, length = WORKLOADS[index]
    sequences = make_workload(batch, length)
    if len({len(s) for s in sequences}) != 1:
        sys.exit("this comparison times fixed-length workloads only (no padding on either side)")
    tokens_path = os.path.join(work, args.workload + ".jsonl")
    with open(tokens_path, "w") as f:
        for s in sequences:
            f.write(json.dumps({"input_ids": s}) + "\n")
    feed = {"input_ids": np.array(sequences, dtype=np.int64), "attention_mask": np.ones((batch, len(sequences[0])), dtype=np.int64)}
    tokens = sum(len(s) for s in sequences)

    for round_ in range(args.rounds):
        session.run(None, feed)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            session.run(None, feed)
            times.append(time.perf_counter() - start)
        ms = statistics.median(times) * 1000
        print(f"round {round_ + 1}: onnxruntime {args.workload}: {ms:.1f} ms/batch, {tokens / ms * 1000:.0f} tokens/s")
        out = subprocess.run(
            [args.encoder, "bench", "--model", args.model, "--tokens", tokens_path, "--backend", args.backend,
             "--threads", str(args.threads), "--repeat", str(args.repeat), "--json"],
            check=True, capture_output=True, text=True).stdout
        result = json.loads(out)
        print(f"round {round_ + 1}: swift encoder ({result['blas_core']}) {args.workload}: {result['ms_per_batch']:.1f} ms/batch, "
              f"{result['tokens_per_second']:.0f} tokens/s, GEMM efficiency {result['gemm_efficiency']:.2f}")


if __name__ == "__main__":
    main()
