#!/usr/bin/env python3
"""Compare the Swift encoder with ONNX Runtime, CTranslate2 and PyTorch.

Optional, never run in CI. Normally started by Scripts/compare-engines, which
makes the virtual environment (.build-bench/venv) and the token files; run
directly with that venv's python:

  compare_engines.py run --tokens-dir DIR [--encoder PATH] [--rounds N] ...
  compare_engines.py report RUN.json                 (the markdown report again)
  compare_engines.py prepare-onnx | prepare-ct2      (build the engine models)
  compare_engines.py worker ENGINE --tokens FILE     (one engine, one workload)

Interleaved rounds: for each workload, --rounds times, every engine runs once
in turn, each in its own process (the engine that starts a round rotates), so
a slow spell of the shared machine hits every engine rather than one. One
process gives one figure: after warm-up, the median wall time per batch over
--repeat runs (peers stop early once --max-seconds have been spent, after at
least --min-repeat runs). Per engine and workload the report gives best-of-N
(the fastest of the N figures) and median-of-N, our tokens/s over the best
fp32 peer's (best against best, and median against median), peak RSS (the
largest of the rounds) and the spread of the rounds.

Engines: onnxruntime (fused BERT graph), ctranslate2 (compute_type float32),
ctranslate2-int8 (compute_type int8), pytorch (opt-in), and ours:
`encoder bench --tokens FILE --json --threads N --repeat R` plus each
--ours-args string (a column each; `--backend blas` unless it names a
backend), under each --kernels choice: `env` (the environment as it is) and
`native` (that one command under `env -u OPENBLAS_CORETYPE -u
OPENBLAS_L2_SIZE`, so OpenBLAS picks its own kernel). The report names the
kernel `openblas_get_corename()` returned (`blas_core` in our JSON).

Every engine times the same token batches (JSONL files from
Scripts/make_bench_tokens.py): 2 threads (intra-op 2, inter-op 1). A timed
run is the model's forward pass plus masked mean pooling and L2
normalisation (what sentence-transformers does for all-MiniLM-L6-v2).
Tokens/s counts REAL tokens (sum of the sequence lengths). ONNX Runtime and
PyTorch get a padded batch with an attention mask, as they are normally run;
CTranslate2 gets the lists of ids (it handles the padding itself). Peak RSS
is getrusage(RUSAGE_SELF).ru_maxrss of that engine's own process, model load
included (ours: `peak_rss_mib` from encoder bench). Before timing, every
engine must reproduce the reference embedding of "The cat sat on the mat."
to within 1e-4 (2e-2 for int8 engines).

The script never sets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, and unsets them
only in our encoder's command under `--kernels native`.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BENCH_DIR = os.path.join(ROOT, ".build-bench")
DEFAULT_MODEL = os.environ.get("ENCODER_MODEL") or os.path.join(ROOT, "models", "all-MiniLM-L6-v2")

sys.path.insert(0, HERE)
from make_bench_tokens import WORKLOADS  # noqa: E402

WORKLOAD_NAMES = [w[0] for w in WORKLOADS]
ENGINES = ["onnxruntime", "ctranslate2", "ctranslate2-int8", "pytorch"]
OURS = "ours"
DEFAULT_ENGINES = ["onnxruntime", "ctranslate2", "ctranslate2-int8"]
FP32_PEERS = ["onnxruntime", "ctranslate2", "pytorch"]
INT8_ENGINES = ["ctranslate2-int8"]
ENGINE_LABELS = {"onnxruntime": "ONNX Runtime", "ctranslate2": "CTranslate2 fp32",
                 "ctranslate2-int8": "CTranslate2 int8", "pytorch": "PyTorch"}
# The engine's Python modules, and the prepared model it reads.
ENGINE_NEEDS = {"onnxruntime": ["onnxruntime", "onnx"], "ctranslate2": ["ctranslate2"],
                "ctranslate2-int8": ["ctranslate2"], "pytorch": ["torch", "transformers"]}
# `--kernels native` runs our encoder under exactly this prefix (and nothing else).
NATIVE_KERNEL_PREFIX = ["env", "-u", "OPENBLAS_CORETYPE", "-u", "OPENBLAS_L2_SIZE"]

# "The cat sat on the mat." with all-MiniLM-L6-v2: ids and the first
# components of the mean-pooled, L2-normalised embedding.
REF_IDS = [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102]
REF_HEAD = [0.13023715, -0.01577284, -0.03671671, 0.05798643]
REF_TOL = 1e-4
REF_TOL_INT8 = 2e-2  # int8 engines: a gate against a broken model, not a quality measure

NUM_HEADS, HIDDEN, LAYERS = 12, 384, 6
NOISY = 0.25  # cores used by other processes above which a figure is flagged


# --------------------------------------------------------------------------
# Common helpers


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def machine_info():
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count()}
    model = None
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    info["cpu_model"] = model or platform.processor() or "unknown"
    info["isa"] = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni") if f in flags]
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        info["mem_gib"] = round(kb / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    info["env"] = {k: v for k, v in os.environ.items()
                   if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "CT2_"))}
    return info


def cpu_busy_seconds():
    """Busy CPU seconds of the whole machine so far (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    busy = sum(v[:8]) - idle                     # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """Cores kept busy by OTHER processes over an interval: the machine's busy
    CPU time minus ours (RUSAGE_SELF or RUSAGE_CHILDREN), over wall time."""

    def __init__(self, who=resource.RUSAGE_SELF):
        self.who = who

    def _own(self):
        r = resource.getrusage(self.who)
        return r.ru_utime + r.ru_stime

    def __enter__(self):
        self.t, self.busy, self.own = time.perf_counter(), cpu_busy_seconds(), self._own()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.t
        busy = cpu_busy_seconds()
        if self.busy is None or busy is None or wall <= 0:
            self.cores = None
        else:
            self.cores = max(0.0, ((busy - self.busy) - (self._own() - self.own)) / wall)
        return False


def wait_for_quiet(max_wait, threshold=0.25, window=2.0):
    """Wait (up to max_wait s) until other processes use < threshold cores."""
    deadline = time.time() + max_wait
    while True:
        with OtherLoad() as o:
            time.sleep(window)
        if o.cores is None or o.cores < threshold:
            return o.cores
        if time.time() >= deadline:
            log(f"  machine still busy ({o.cores:.2f} other cores); measuring anyway")
            return o.cores
        log(f"  waiting: other processes use {o.cores:.2f} cores")
        time.sleep(3)


def load_tokens(path):
    seqs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                seqs.append([int(t) for t in json.loads(line)["input_ids"]])
    if not seqs:
        raise SystemExit(f"{path}: no sequences")
    return seqs


def padded(seqs, np):
    b, s = len(seqs), max(len(x) for x in seqs)
    ids = np.zeros((b, s), dtype=np.int64)
    mask = np.zeros((b, s), dtype=np.int64)
    for i, x in enumerate(seqs):
        ids[i, :len(x)] = x
        mask[i, :len(x)] = 1
    return ids, mask


def mean_pool_np(np, hidden, lengths):
    """Masked mean over the first lengths[i] rows, then L2-normalise."""
    out = np.empty((hidden.shape[0], hidden.shape[2]), dtype=np.float32)
    for i, n in enumerate(lengths):
        out[i] = hidden[i, :n].mean(axis=0)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out


def numpy_blas_info():
    try:
        from threadpoolctl import threadpool_info
        import numpy  # noqa: F401
        return [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                for p in threadpool_info() if p.get("user_api") == "blas"]
    except Exception as e:  # informative only
        return f"unavailable ({e})"


# --------------------------------------------------------------------------
# Model preparation (run in their own subprocesses by `run`)

def onnx_paths(work):
    d = os.path.join(work, "models")
    return (os.path.join(d, "minilm.onnx"), os.path.join(d, "minilm-opt.onnx"),
            os.path.join(d, "onnx-meta.json"))


def export_onnx_torch(model_dir, path):
    import torch
    from transformers import BertModel
    m = BertModel.from_pretrained(model_dir, local_files_only=True,
                                  attn_implementation="eager").eval()

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    ids = torch.tensor([REF_IDS])
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
            "token_type_ids": {0: "batch", 1: "seq"}, "last_hidden_state": {0: "batch", 1: "seq"}}
    with torch.no_grad():
        torch.onnx.export(Wrapper(m), (ids, torch.ones_like(ids), torch.zeros_like(ids)), path,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    return f"torch.onnx.export (TorchScript exporter, opset 17), torch {torch.__version__}"


def build_onnx_by_hand(model_dir, path):
    """The BERT graph from the safetensors weights with onnx.helper, opset 17,
    laid out like the exporter's graph so ORT's optimizer can fuse it."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    H, nh, nl = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    hd, eps = H // nh, cfg.get("layer_norm_eps", 1e-12)
    if cfg.get("hidden_act", "gelu") != "gelu":
        raise SystemExit("hand-built graph supports hidden_act=gelu only")
    w = load_file(os.path.join(model_dir, "model.safetensors"))
    w = {k[len("bert."):] if k.startswith("bert.") else k: v for k, v in w.items()}

    inits, nodes = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def const(name, value, dtype):
        return init(name, np.array(value, dtype=dtype))

    def node(op, ins, out, **attrs):
        nodes.append(helper.make_node(op, ins, [out], name=out + "_" + op, **attrs))
        return out

    f32 = np.float32
    # Embeddings: word + token type, + position, LayerNorm.
    e = "embeddings."
    word = node("Gather", [init("word_emb", w[e + "word_embeddings.weight"]), "input_ids"], "word", axis=0)
    shape = node("Shape", ["input_ids"], "ids_shape")
    seq = node("Gather", [shape, const("one_i", 1, np.int64)], "seq_len", axis=0)
    rng = node("Range", [const("zero_i", 0, np.int64), seq, const("one_i_step", 1, np.int64)], "pos_range")
    pos_ids = node("Unsqueeze", [rng, const("axes0", [0], np.int64)], "pos_row")
    pos_ids = node("Expand", [pos_ids, shape], "pos_ids")  # [B, S], as the fusion expects
    pos = node("Gather", [init("pos_emb", w[e + "position_embeddings.weight"]), pos_ids], "pos", axis=0)
    tt = node("Gather", [init("type_emb", w[e + "token_type_embeddings.weight"]), "token_type_ids"], "tt", axis=0)
    x = node("Add", [word, tt], "emb_wt")
    x = node("Add", [x, pos], "emb_sum")
    x = node("LayerNormalization", [x, init("emb_ln_g", w[e + "LayerNorm.weight"]),
                                    init("emb_ln_b", w[e + "LayerNorm.bias"])], "emb_ln", axis=-1, epsilon=eps)
    # Additive mask: (1 - mask) * min_float, shape [B, 1, 1, S].
    m = node("Unsqueeze", ["attention_mask", const("axes1", [1], np.int64)], "mask_3d")
    m = node("Unsqueeze", [m, const("axes2", [2], np.int64)], "mask_4d")
    m = node("Cast", [m], "mask_f", to=TensorProto.FLOAT)
    m = node("Sub", [const("one_f", 1.0, f32), m], "mask_inv")
    mask_add = node("Mul", [m, const("neg_big", np.finfo(np.float32).min, f32)], "mask_add")
    heads_shape = const("heads_shape", [0, 0, nh, hd], np.int64)
    merge_shape = const("merge_shape", [0, 0, H], np.int64)
    scale = const("sqrt_hd", np.sqrt(hd), f32)

    def linear(inp, prefix, out):
        mm = node("MatMul", [inp, init(out + "_w", w[prefix + ".weight"].T.astype(f32))], out + "_mm")
        return node("Add", [init(out + "_b", w[prefix + ".bias"]), mm], out)

    for i in range(nl):
        p, t = f"encoder.layer.{i}.", f"l{i}_"
        q = linear(x, p + "attention.self.query", t + "q")
        k = linear(x, p + "attention.self.key", t + "k")
        v = linear(x, p + "attention.self.value", t + "v")
        q = node("Transpose", [node("Reshape", [q, heads_shape], t + "q_r")], t + "q_t", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [k, heads_shape], t + "k_r")], t + "k_t", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [v, heads_shape], t + "v_r")], t + "v_t", perm=[0, 2, 1, 3])
        s = node("MatMul", [q, k], t + "scores")
        s = node("Div", [s, scale], t + "scores_scaled")
        s = node("Add", [s, mask_add], t + "scores_masked")
        s = node("Softmax", [s], t + "probs", axis=-1)
        c = node("MatMul", [s, v], t + "ctx")
        c = node("Transpose", [c], t + "ctx_t", perm=[0, 2, 1, 3])
        c = node("Reshape", [c, merge_shape], t + "ctx_r")
        a = linear(c, p + "attention.output.dense", t + "attn_out")
        a = node("Add", [a, x], t + "attn_res")
        x = node("LayerNormalization", [a, init(t + "ln1_g", w[p + "attention.output.LayerNorm.weight"]),
                                        init(t + "ln1_b", w[p + "attention.output.LayerNorm.bias"])],
                 t + "ln1", axis=-1, epsilon=eps)
        h = linear(x, p + "intermediate.dense", t + "ffn1")
        # exact GELU as the exporter writes it: x * 0.5 * (1 + erf(x / sqrt(2)))
        g = node("Div", [h, const(t + "sqrt2", np.sqrt(2.0), f32)], t + "gelu_div")
        g = node("Erf", [g], t + "gelu_erf")
        g = node("Add", [g, const(t + "gelu_one", 1.0, f32)], t + "gelu_add")
        g = node("Mul", [h, g], t + "gelu_mul")
        g = node("Mul", [g, const(t + "gelu_half", 0.5, f32)], t + "gelu")
        o = linear(g, p + "output.dense", t + "ffn2")
        o = node("Add", [o, x], t + "ffn_res")
        x = node("LayerNormalization", [o, init(t + "ln2_g", w[p + "output.LayerNorm.weight"]),
                                        init(t + "ln2_b", w[p + "output.LayerNorm.bias"])],
                 t + "ln2", axis=-1, epsilon=eps)
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", H])]
    graph = helper.make_graph(nodes, "minilm", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="compare_engines.py")
    model.ir_version = 8  # opset 17's IR version: loadable by older ONNX Runtime releases too
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return f"hand-built with onnx {onnx.__version__} helper API (opset 17) from model.safetensors"


def prepare_onnx(args):
    raw, opt, meta_path = onnx_paths(args.work_dir)
    os.makedirs(os.path.dirname(raw), exist_ok=True)
    source = args.onnx_source
    if source == "auto":
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
            source = "torch"
        except ImportError:
            source = "handbuilt"
    how = export_onnx_torch(args.model, raw) if source == "torch" else build_onnx_by_hand(args.model, raw)
    import onnxruntime
    from onnxruntime.transformers.optimizer import optimize_model
    m = optimize_model(raw, model_type="bert", num_heads=NUM_HEADS, hidden_size=HIDDEN)
    stats = {k: v for k, v in m.get_fused_operator_statistics().items() if v}
    m.save_model_to_file(opt)
    meta = {"source": source, "how": how, "optimizer": f"onnxruntime {onnxruntime.__version__} "
            "transformers.optimizer.optimize_model(model_type='bert', num_heads=12, hidden_size=384)",
            "fused_ops": stats}
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta))


def ct2_dir(work):
    return os.path.join(work, "models", "ct2-minilm")


def prepare_ct2(args):
    out = ct2_dir(args.work_dir)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    from ctranslate2.converters import TransformersConverter
    TransformersConverter(args.model).convert(out, force=True)
    print(json.dumps({"ct2_model": out}))


# --------------------------------------------------------------------------
# Engines (one per worker process)

class OrtEngine:
    def __init__(self, args):
        import numpy as np
        import onnxruntime as ort
        self.np, self.ort = np, ort
        _, opt, meta_path = onnx_paths(args.work_dir)
        with open(meta_path) as f:
            self.meta = json.load(f)
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(opt, so, providers=["CPUExecutionProvider"])
        self.names = {i.name for i in self.sess.get_inputs()}

    def info(self):
        return {"version": f"onnxruntime {self.ort.__version__}",
                "kernels": "CPUExecutionProvider (MLAS GEMM, dispatched on CPUID)",
                "graph": self.meta, "numpy_blas": numpy_blas_info()}

    def prepare(self, seqs):
        ids, mask = padded(seqs, self.np)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": self.np.zeros_like(ids)}
        return {k: v for k, v in feed.items() if k in self.names}, [len(s) for s in seqs]

    def run(self, batch):
        feed, lengths = batch
        hidden = self.sess.run(["last_hidden_state"], feed)[0]
        return mean_pool_np(self.np, hidden, lengths)


class Ct2Engine:
    """compute_type "float32", or "int8" (int8 weights quantised at load, per output row; activations
    quantised per row on the fly; CTranslate2's int8 GEMM accumulates in int32)."""

    compute_type = "float32"

    def __init__(self, args):
        import numpy as np
        import ctranslate2
        self.np, self.ct2 = np, ctranslate2
        self.enc = ctranslate2.Encoder(ct2_dir(args.work_dir), device="cpu", compute_type=self.compute_type,
                                       intra_threads=args.threads, inter_threads=1)

    def info(self):
        return {"version": f"ctranslate2 {self.ct2.__version__}, compute_type {self.enc.compute_type}",
                "kernels": "see the CT2_VERBOSE log lines (ISA, GEMM backend)",
                "numpy_blas": numpy_blas_info()}

    def prepare(self, seqs):
        return seqs, [len(s) for s in seqs]

    def run(self, batch):
        seqs, lengths = batch
        out = self.enc.forward_batch(seqs)
        hidden = self.np.asarray(out.last_hidden_state)
        return mean_pool_np(self.np, hidden, lengths)


class TorchEngine:
    def __init__(self, args):
        import numpy as np
        import torch
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
        from transformers import BertModel
        import transformers
        self.np, self.torch, self.tf = np, torch, transformers
        self.model = BertModel.from_pretrained(args.model, local_files_only=True).eval()

    def info(self):
        t = self.torch
        cfg = t.__config__.show()
        blas = [l.strip() for l in cfg.splitlines() if "Math Kernel" in l or "MKL-DNN" in l or "oneDNN" in l]
        return {"version": f"torch {t.__version__}, transformers {self.tf.__version__}",
                "kernels": f"BLAS: {'; '.join(blas) or 'see torch.__config__.show()'}; "
                           f"CPU capability {t.backends.cpu.get_cpu_capability()}; "
                           f"intra {t.get_num_threads()}, inter-op {t.get_num_interop_threads()}",
                "attention": getattr(self.model.config, "_attn_implementation", "default"),
                "numpy_blas": numpy_blas_info()}

    def prepare(self, seqs):
        ids, mask = padded(seqs, self.np)
        ids, mask = self.torch.from_numpy(ids), self.torch.from_numpy(mask)
        return ids, mask, self.torch.zeros_like(ids)

    def run(self, batch):
        ids, mask, tt = batch
        with self.torch.inference_mode():
            h = self.model(input_ids=ids, attention_mask=mask, token_type_ids=tt).last_hidden_state
            m = mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            pooled = self.torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.numpy()


class Ct2Int8Engine(Ct2Engine):
    compute_type = "int8"


ENGINE_CLASSES = {"onnxruntime": OrtEngine, "ctranslate2": Ct2Engine, "ctranslate2-int8": Ct2Int8Engine,
                  "pytorch": TorchEngine}


def worker(args):
    t0 = time.perf_counter()
    eng = ENGINE_CLASSES[args.engine](args)
    load_s = time.perf_counter() - t0
    # Reference check, alone and inside a padded batch.
    ref = eng.run(eng.prepare([REF_IDS]))[0]
    pad_ref = eng.run(eng.prepare([REF_IDS[:4] + [102], REF_IDS]))[1]
    err = max(max(abs(float(a) - b) for a, b in zip(ref[:4], REF_HEAD)),
              max(abs(float(a) - float(b)) for a, b in zip(ref, pad_ref)))
    tol = REF_TOL_INT8 if args.engine in INT8_ENGINES else REF_TOL
    if err > tol:
        raise SystemExit(f"{args.engine}: reference embedding off by {err:.2e} "
                         f"(got {[round(float(v), 8) for v in ref[:4]]})")
    seqs = load_tokens(args.tokens)
    batch = eng.prepare(seqs)
    real = sum(len(s) for s in seqs)
    for _ in range(args.warmup):
        eng.run(batch)
    times, start = [], time.perf_counter()
    with OtherLoad() as other:
        while len(times) < args.repeat:
            t = time.perf_counter()
            eng.run(batch)
            times.append(time.perf_counter() - t)
            if len(times) >= args.min_repeat and time.perf_counter() - start > args.max_seconds:
                break
    med = statistics.median(times)
    name = os.path.splitext(os.path.basename(args.tokens))[0]
    print(json.dumps({
        "workload": name, "engine": args.engine, "threads": args.threads, "inter_op_threads": 1,
        "sequences": len(seqs), "tokens": real, "padded_tokens": len(seqs) * max(len(s) for s in seqs),
        "repeats": len(times), "ms_per_batch": med * 1e3, "ms_min": min(times) * 1e3,
        "tokens_per_second": real / med, "load_seconds": load_s, "ref_error": err,
        "other_load_cores": other.cores,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "info": eng.info(),
    }))


# --------------------------------------------------------------------------
# Driver: contenders (columns), interleaved rounds, summaries, the report

def run_sub(cmd, env=None, timeout=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def last_json(stdout):
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON in output")


def importable(mod):
    return subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True).returncode == 0


class Contender:
    """One column of the report: a peer engine, or our encoder with one set of extra arguments under
    one kernel choice (`env`: the environment as it is; `native`: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
    unset for that one command, so OpenBLAS picks its own kernel)."""

    def __init__(self, engine, ours_args="", kernel="env"):
        self.engine, self.ours_args, self.kernel = engine, ours_args, kernel
        self.ours = engine == OURS
        self.blas_core = None  # from our JSON, once a run succeeded
        self.description = None
        self.error = None      # the first failure, shown in the report

    @property
    def key(self):
        if not self.ours:
            return self.engine
        return "ours" + (f" {self.ours_args}" if self.ours_args else "") + f" [{self.kernel}]"

    def label(self, many_kernels):
        if not self.ours:
            return ENGINE_LABELS[self.engine]
        name = "ours" + (f" `{self.ours_args}`" if self.ours_args else "")
        kernel = ": ".join(([self.kernel] if many_kernels else []) + ([self.blas_core] if self.blas_core else []))
        return f"{name} ({kernel})" if kernel else name

    def ours_command(self, encoder, tokens, args):
        extra = shlex.split(self.ours_args)
        cmd = [encoder, "bench", "--model", args.model, "--tokens", tokens, "--json",
               "--threads", str(args.threads), "--repeat", str(args.repeat)] + extra
        if "--backend" not in extra and not any(a.startswith("--backend=") for a in extra):
            cmd += ["--backend", "blas"]  # the default, `both`, would time the naive backend too
        return (NATIVE_KERNEL_PREFIX if self.kernel == "native" else []) + cmd


def error_line(text, rc):
    """The line that says what went wrong: the first `Error: …` line, else the last line."""
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return next((l for l in lines if l.startswith("Error")), lines[-1] if lines else f"exit {rc}")


def ours_result(stdout):
    """The object `encoder bench --tokens FILE --json` printed (a list when several backends ran: the
    first one that is not the naive reference)."""
    text = stdout.strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = last_json(text)
    objs = data if isinstance(data, list) else [data]
    if not objs:
        raise RuntimeError("no JSON object from encoder bench")
    fast = [o for o in objs if o.get("backend") != "naive"] or objs
    return fast[0]


def measure(c, wl, token_file, args, me, common, env):
    """One process, one figure: the median of --repeat timed runs of this workload."""
    if c.ours:
        cmd = c.ours_command(args.encoder, token_file, args)
        with OtherLoad(resource.RUSAGE_CHILDREN) as other:
            rc, out, err = run_sub(cmd, env)
        if rc != 0:
            raise RuntimeError(error_line(err or out, rc))
        r = ours_result(out)
        r["other_load_cores"] = other.cores  # over the whole process, model load included
        r.setdefault("tokens_per_second", r["tokens"] / (r["ms_per_batch"] / 1e3))
        r["command"] = " ".join(shlex.quote(a) for a in cmd)
        c.blas_core = c.blas_core or r.get("blas_core")
        return r
    wenv = dict(env, CT2_VERBOSE="1") if c.engine.startswith("ctranslate2") else env
    cmd = me + ["worker", c.engine, "--tokens", token_file, "--repeat", str(args.repeat),
                "--min-repeat", str(args.min_repeat), "--max-seconds", str(args.max_seconds),
                "--warmup", str(args.warmup)] + common
    rc, out, err = run_sub(cmd, wenv)
    if rc != 0:
        raise RuntimeError((err.strip().splitlines() or [f"exit {rc}"])[-1])
    r = last_json(out)
    if c.engine.startswith("ctranslate2"):
        isa = [l.split("[info]", 1)[1].strip() for l in err.splitlines()
               if "[info]" in l and ("ISA" in l or "backend" in l or "MKL" in l or "CPU:" in l)]
        r["info"]["kernels"] = "; ".join(dict.fromkeys(isa)) or r["info"]["kernels"]
    return r


def summarize(rounds):
    """best-of-N and median-of-N over the rounds' figures (each the median of one process's runs)."""
    ok = [x for x in rounds if "error" not in x]
    if not ok:
        return None
    ms = sorted(x["ms_per_batch"] for x in ok)
    tokens = ok[0]["tokens"]
    best = min(ok, key=lambda x: x["ms_per_batch"])
    med = statistics.median(ms)
    s = {"rounds": len(ok), "tokens": tokens,
         "best_ms": ms[0], "median_ms": med, "worst_ms": ms[-1],
         "best_tokens_per_second": tokens / (ms[0] / 1e3), "median_tokens_per_second": tokens / (med / 1e3),
         "spread": ms[-1] / ms[0] - 1,
         "peak_rss_mib": max(x.get("peak_rss_mib") or 0 for x in ok),
         "disturbed_rounds": sum(1 for x in ok if (x.get("other_load_cores") or 0) > NOISY),
         "best_round_disturbed": (best.get("other_load_cores") or 0) > NOISY}
    eff = [x["gemm_efficiency"] for x in ok if isinstance(x.get("gemm_efficiency"), (int, float))]
    if eff:
        s["best_gemm_efficiency"] = max(eff)
        s["median_gemm_efficiency"] = statistics.median(eff)
    ref = [x["reference_sgemm_gflops"] for x in ok if isinstance(x.get("reference_sgemm_gflops"), (int, float))]
    if ref:
        s["median_reference_sgemm_gflops"] = statistics.median(ref)
    return s


def fmt_num(v, kind):
    if v is None:
        return "n/a"
    if kind == "ms":
        return f"{v:.2f}" if v < 100 else f"{v:,.0f}"
    if kind == "tps":
        return f"{v:,.0f}"
    if kind == "mib":
        return f"{v:.0f}"
    return str(v)


def render_report(contenders, summaries, meta, workloads):
    """The report as markdown lines (the same text is printed and written to the .md file)."""
    L = []
    many_kernels = len({c.kernel for c in contenders if c.ours}) > 1
    labels = {c.key: c.label(many_kernels) for c in contenders}
    peers = [c for c in contenders if not c.ours]
    ours = [c for c in contenders if c.ours]
    fp32_peers = [c for c in peers if c.engine in FP32_PEERS]
    int8_peer = next((c for c in peers if c.engine == "ctranslate2-int8"), None)
    # A ratio against CTranslate2 int8 only for our columns that ask for a lower precision.
    low_precision = [c for c in ours if re.search(r"--precision[ =](bf16|int8)", c.ours_args)]
    m = meta["machine"]

    def row(*cells):
        L.append("| " + " | ".join(cells) + " |")

    L.append(f"## Engine comparison: {os.path.basename(meta['model'].rstrip('/'))}, "
             f"{meta['rounds']} interleaved rounds")
    L.append("")
    L.append(f"- Date: {meta['date']} to {meta.get('finished', '(unfinished)')} "
             f"({meta.get('elapsed_minutes', 0):.1f} min)")
    L.append(f"- Machine: {m['cpu_model']}, {m['cpus']} CPUs ({', '.join(m['isa'])}), "
             f"{m.get('mem_gib', '?')} GiB; {m['platform']}")
    L.append(f"- Threads: {meta['threads']} for every engine (intra-op {meta['threads']}, inter-op 1; "
             f"ours `--threads {meta['threads']}`)")
    env_blas = ", ".join(f"{k}={v}" for k, v in sorted(m["env"].items()) if k.startswith("OPENBLAS_")) or "none set"
    for c in ours:
        how = ("as the environment has them" if c.kernel == "env"
               else "unset for this command (`" + " ".join(NATIVE_KERNEL_PREFIX) + "`)")
        L.append(f"- OpenBLAS core of {labels[c.key]}: `openblas_get_corename()` = **{c.blas_core or '?'}** "
                 f"(OPENBLAS_* {how}; environment: {env_blas})")
    refs = {c.key: statistics.median([s["median_reference_sgemm_gflops"] for s in summaries[c.key].values()
                                       if s and "median_reference_sgemm_gflops" in s])
            for c in ours if any(s and "median_reference_sgemm_gflops" in s for s in summaries[c.key].values())}
    for k, v in refs.items():
        L.append(f"- Host speed check ({labels[k]}): one 4096×1536×384 sgemm on {meta['threads']} OpenBLAS "
                 f"threads, {v:.0f} GFLOP/s (median over the runs)")
    L.append(f"- How: {meta['rounds']} interleaved rounds; a round takes the workloads one after the other "
             f"and runs every engine once on each, in turn, each in its own process (the engine that starts "
             f"rotates from round to round). One "
             f"process = model load, {meta['warmup']} warm-up run(s) (ours: 1), then the median of "
             f"{meta['repeat']} timed runs (peers stop after {meta['max_seconds']:g} s once "
             f"{meta['min_repeat']} runs are done). **best** = the fastest of the {meta['rounds']} "
             f"per-round figures, **median** = their median. A timed run = forward pass + mean pooling "
             f"+ L2 normalisation of the whole batch; tokens/s counts real tokens.")
    if meta.get("wait_quiet"):
        L.append(f"- Before each process the driver waited (up to {meta['wait_quiet']:g} s) for other "
                 f"processes to use < {NOISY} cores.")
    L.append(f"- Ours: `{meta['encoder']}` (modified {meta.get('encoder_mtime', '?')}; work tree at "
             f"{meta.get('git', '?')})")
    L.append(f"- Command: `{meta['command']}`")
    L.append("")

    def ratio_cell(wl, mine, theirs_list, key):
        vals = [(summaries[t.key].get(wl) or {}).get(key) for t in theirs_list]
        cands = [(v, t) for v, t in zip(vals, theirs_list) if v]
        s = (summaries[mine.key].get(wl) or {}).get(key)
        if not s or not cands:
            return "n/a"
        v, t = max(cands, key=lambda x: x[0])
        return f"{s / v:.2f} ({labels[t.key]})" if len(theirs_list) > 1 else f"{s / v:.2f}"

    def speed_table(title, ms_key, tps_key, what):
        L.append(f"### {title}")
        L.append("")
        L.append("Batch 1: ms per batch (lower is better); batch 32: real tokens/s (higher is better). "
                 f"Ratios: our tokens/s over the fastest peer's, {what} (> 1: ours is faster).")
        L.append("")
        ratio_heads = []
        for c in ours:
            name = "ours" if len(ours) == 1 else labels[c.key]
            if fp32_peers:
                ratio_heads.append((c, fp32_peers, f"{name} / best fp32 peer"))
            if int8_peer and c in low_precision:
                ratio_heads.append((c, [int8_peer], f"{name} / CTranslate2 int8"))
        # One column of ours: its ratios in the same table; several: the ratios in a table of their own.
        inline = ratio_heads if len(ours) == 1 else []
        row("workload", *[labels[c.key] for c in contenders], *[h[2] for h in inline])
        row(*(["---"] + ["---:"] * (len(contenders) + len(inline))))
        for wl in workloads:
            b1 = wl.startswith("b1_")
            cells = [f"{wl} ({'ms' if b1 else 'tok/s'})"]
            for c in contenders:
                s = summaries[c.key].get(wl)
                if not s:
                    cells.append("n/a")
                    continue
                cell = fmt_num(s[ms_key], "ms") if b1 else fmt_num(s[tps_key], "tps")
                if s["best_round_disturbed"] and ms_key == "best_ms":
                    cell += " *"
                cells.append(cell)
            cells += [ratio_cell(wl, h[0], h[1], tps_key) for h in inline]
            row(*cells)
        L.append("")
        if ratio_heads and not inline:
            L.append(f"Ratios, {what}:")
            L.append("")
            row("workload", *[h[2] for h in ratio_heads])
            row(*(["---"] + ["---:"] * len(ratio_heads)))
            for wl in workloads:
                row(wl, *[ratio_cell(wl, h[0], h[1], tps_key) for h in ratio_heads])
            L.append("")

    speed_table(f"Best of {meta['rounds']}", "best_ms", "best_tokens_per_second", "best against best")
    speed_table(f"Median of {meta['rounds']}", "median_ms", "median_tokens_per_second",
                "median against median")

    L.append("### Peak RSS, MiB (whole process, model load included; the largest of the rounds)")
    L.append("")
    row("workload", *[labels[c.key] for c in contenders])
    row(*(["---"] + ["---:"] * len(contenders)))
    for wl in workloads:
        row(wl, *[fmt_num((summaries[c.key].get(wl) or {}).get("peak_rss_mib"), "mib") for c in contenders])
    L.append("")

    L.append("### Spread: slowest round over fastest, % (how much the rounds disagree)")
    L.append("")
    row("workload", *[labels[c.key] for c in contenders])
    row(*(["---"] + ["---:"] * len(contenders)))
    for wl in workloads:
        cells = [wl]
        for c in contenders:
            s = summaries[c.key].get(wl)
            cells.append("n/a" if not s else f"{100 * s['spread']:.1f} ({s['rounds']}"
                         + (f", {s['disturbed_rounds']} disturbed" if s["disturbed_rounds"] else "") + ")")
        row(*cells)
    L.append("")

    if any(summaries[c.key].get(wl, {}) and "best_gemm_efficiency" in summaries[c.key][wl]
           for c in ours for wl in workloads):
        L.append("### Ours: GEMM efficiency (encoder GFLOP/s over the reference sgemm's; best / median round)")
        L.append("")
        row("workload", *[labels[c.key] for c in ours])
        row(*(["---"] + ["---:"] * len(ours)))
        for wl in workloads:
            cells = [wl]
            for c in ours:
                s = summaries[c.key].get(wl) or {}
                cells.append(f"{s['best_gemm_efficiency']:.2f} / {s['median_gemm_efficiency']:.2f}"
                             if "best_gemm_efficiency" in s else "n/a")
            row(*cells)
        L.append("")

    if any(s and s["best_round_disturbed"] for c in contenders for s in summaries[c.key].values()):
        L.append(f"\\* the best round itself ran while other processes kept more than {NOISY} cores busy: "
                 "treat that figure as disturbed.")
        L.append("")
    L.append("Engines:")
    L.append("")
    for c in contenders:
        if c.description:
            L.append(f"- {labels[c.key]}: {c.description}")
        if c.error:
            L.append(f"- {labels[c.key]}: failed: {c.error}")
    for e, why in meta["skipped"].items():
        L.append(f"- {ENGINE_LABELS.get(e, e)}: skipped: {why}")
    return L


def describe_peer(r, engine):
    i = r["info"]
    desc = f"{i['version']}; {i['kernels']}"
    if engine == "onnxruntime":
        g = i["graph"]
        desc += f"; graph: {g['how']}, then {g['optimizer']}: fused {g['fused_ops']}"
    if engine == "pytorch":
        desc += f"; attention: {i['attention']}"
    return desc + f"; numpy BLAS (pooling only): {i['numpy_blas']}"


def git_state():
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def driver(args):
    work = args.work_dir
    os.makedirs(work, exist_ok=True)
    me = [sys.executable, os.path.abspath(__file__)]
    common = ["--model", args.model, "--work-dir", work, "--threads", str(args.threads)]
    tokens = {wl: os.path.join(args.tokens_dir, wl + ".jsonl") for wl in WORKLOAD_NAMES}
    workloads = args.workload or WORKLOAD_NAMES
    missing = [tokens[wl] for wl in workloads if not os.path.exists(tokens[wl])]
    if missing:
        raise SystemExit(f"missing token files ({missing[0]} …): run Scripts/make_bench_tokens.py "
                         f"{args.tokens_dir}")
    kernels = [k.strip() for k in ",".join(args.kernels).split(",") if k.strip()]
    bad = [k for k in kernels if k not in ("env", "native")]
    if bad or not kernels:
        raise SystemExit(f"--kernels: {', '.join(bad) or '(none)'}: expected env, native or env,native")
    kernels = list(dict.fromkeys(kernels))
    # Each --ours-args runs under every --kernels choice, unless it starts with `env:` or `native:`,
    # which runs that configuration with that kernel setting only.
    ours_configs = []
    for a in dict.fromkeys(args.ours_args if args.ours_args is not None else [""]):
        chosen = kernels
        for prefix in ("env:", "native:"):
            if a.startswith(prefix):
                chosen, a = [prefix[:-1]], a[len(prefix):].strip()
        ours_configs += [(a, k) for k in chosen if (a, k) not in ours_configs]
    for a, _ in ours_configs:
        try:
            extra = shlex.split(a)
        except ValueError as ex:
            raise SystemExit(f"--ours-args {a!r}: {ex}")
        clash = [x for x in extra if x.split("=")[0] in ("--model", "--tokens", "--json", "--threads", "--repeat",
                                                         "--workload")]
        if clash:
            raise SystemExit(f"--ours-args {a!r}: {clash[0]} is set by this script (use its own option)")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    started = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
    json_out = args.json_out or os.path.join(work, f"compare-engines-{stamp}.json")
    md_out = args.markdown_out or os.path.join(work, f"compare-engines-{stamp}.md")
    meta = {"date": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "model": args.model, "machine": machine_info(), "threads": args.threads, "rounds": args.rounds,
            "repeat": args.repeat, "min_repeat": args.min_repeat, "max_seconds": args.max_seconds,
            "warmup": args.warmup, "wait_quiet": args.wait_quiet, "workloads": workloads,
            "command": os.environ.get("COMPARE_ENGINES_COMMAND") or " ".join(shlex.quote(a) for a in sys.argv),
            "encoder": os.path.relpath(args.encoder, ROOT) if args.encoder else None,
            "git": git_state(), "order": "rounds outermost; in a round, workload by workload, every engine in turn",
            "skipped": {}}

    engines = []
    for e in dict.fromkeys(args.engines):
        absent = [mod for mod in ENGINE_NEEDS[e] if not importable(mod)]
        if absent:
            meta["skipped"][e] = f"Python module(s) {', '.join(absent)} not installed"
        else:
            engines.append(e)

    # Prepare models (each in its own process).
    if "onnxruntime" in engines:
        _, opt, meta_path = onnx_paths(work)
        if args.rebuild or not (os.path.exists(opt) and os.path.exists(meta_path)):
            log("preparing the ONNX model …")
            rc, out, err = run_sub(me + ["prepare-onnx", "--onnx-source", args.onnx_source] + common, env)
            if rc != 0:
                meta["skipped"]["onnxruntime"] = "ONNX model preparation failed: " + err.strip()[-400:]
                engines.remove("onnxruntime")
    ct2 = [e for e in engines if e.startswith("ctranslate2")]
    if ct2 and (args.rebuild or not os.path.exists(os.path.join(ct2_dir(work), "model.bin"))):
        log("converting the model for CTranslate2 …")
        why = None
        if not (importable("torch") and importable("transformers")):
            why = "the CTranslate2 converter (ct2-transformers-converter) needs torch and transformers"
        else:
            rc, out, err = run_sub(me + ["prepare-ct2"] + common, env)
            if rc != 0:
                why = "conversion failed: " + err.strip()[-400:]
        if why:
            for e in ct2:
                meta["skipped"][e] = why
                engines.remove(e)

    contenders = [Contender(e) for e in engines]
    if args.no_ours:
        pass
    elif args.encoder and os.path.exists(args.encoder):
        meta["encoder_mtime"] = datetime.datetime.fromtimestamp(
            os.path.getmtime(args.encoder), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        contenders += [Contender(OURS, a, k) for a, k in ours_configs]
    else:
        meta["skipped"][OURS] = f"no encoder binary at {args.encoder} (Scripts/release-build)"
    if not contenders:
        raise SystemExit("nothing to run: " + "; ".join(f"{k}: {v}" for k, v in meta["skipped"].items()))

    results = {c.key: {wl: [] for wl in workloads} for c in contenders}
    summaries = {c.key: {} for c in contenders}

    def save(final=False):
        meta["elapsed_minutes"] = (time.time() - started) / 60
        if final:
            meta["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        cols = [{"key": c.key, "engine": c.engine, "ours_args": c.ours_args if c.ours else None,
                 "kernel": c.kernel if c.ours else None, "blas_core": c.blas_core,
                 "label": c.label(len({x.kernel for x in contenders if x.ours}) > 1), "description": c.description, "error": c.error}
                for c in contenders]
        tmp = json_out + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"meta": meta, "contenders": cols, "summary": summaries, "rounds": results}, f, indent=1)
        os.replace(tmp, json_out)

    log(f"{len(workloads)} workload(s) × {args.rounds} round(s) × {len(contenders)} engine(s): "
        + ", ".join(c.key for c in contenders))
    n = len(contenders)
    for rnd in range(args.rounds):
        order = contenders[rnd % n:] + contenders[:rnd % n]
        for wl in workloads:
            for c in order:
                if any("error" in x for x in results[c.key][wl]):
                    continue  # failed on this workload already: don't try every round
                if args.wait_quiet > 0:
                    wait_for_quiet(args.wait_quiet, window=1.0)
                log(f"[{(time.time() - started) / 60:5.1f} min] round {rnd + 1}/{args.rounds}, {wl}: {c.key} …")
                try:
                    r = measure(c, wl, tokens[wl], args, me, common, env)
                except Exception as ex:  # a failed engine is reported, not fatal
                    msg = str(ex) or type(ex).__name__
                    log(f"  failed: {msg}")
                    results[c.key][wl].append({"round": rnd + 1, "error": msg})
                    c.error = c.error or f"{wl}: {msg}"
                    summaries[c.key][wl] = summarize(results[c.key][wl])
                    save()
                    continue
                r["round"] = rnd + 1
                results[c.key][wl].append(r)
                if c.description is None:
                    c.description = (describe_peer(r, c.engine) if not c.ours else
                                     f"`{r.get('command', '')}`; backend {r.get('backend', '?')}"
                                     + (f", precision {r['precision']}" if "precision" in r else "")
                                     + f", OpenBLAS core {r.get('blas_core', '?')}, threads {r.get('threads', '?')}")
                log(f"  {r['ms_per_batch']:.2f} ms/batch, {r['tokens_per_second']:,.0f} tok/s, "
                    f"{r.get('peak_rss_mib') or 0:.0f} MiB (other processes: {r.get('other_load_cores') or 0:.2f} cores)")
                summaries[c.key][wl] = summarize(results[c.key][wl])
                save()

    save(final=True)
    report = render_report(contenders, summaries, meta, workloads)
    text = "\n".join(report) + "\n"
    with open(md_out, "w") as f:
        f.write(text)
    print()
    print(text, end="")
    print(f"\nReport: {md_out}\nAll rounds (JSON): {json_out}")


def rerender(args):
    """`report FILE.json`: the markdown report again from a run's JSON (e.g. an interrupted run's)."""
    with open(args.json) as f:
        data = json.load(f)
    contenders = []
    for col in data["contenders"]:
        c = Contender(col["engine"], col.get("ours_args") or "", col.get("kernel") or "env")
        c.blas_core, c.description, c.error = col.get("blas_core"), col.get("description"), col.get("error")
        contenders.append(c)
    meta = data["meta"]
    workloads = [wl for wl in meta["workloads"] if any(wl in data["summary"][c.key] for c in contenders)]
    summaries = {k: {wl: v for wl, v in s.items()} for k, s in data["summary"].items()}
    print("\n".join(render_report(contenders, summaries, meta, workloads)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--model", default=DEFAULT_MODEL, help="model folder (sentence-transformers layout)")
        p.add_argument("--work-dir", default=BENCH_DIR, help="where converted models and results go")
        p.add_argument("--threads", type=int, default=2, help="intra-op threads (inter-op is 1)")

    def timing(p, repeat, max_seconds):
        p.add_argument("--repeat", type=int, default=repeat,
                       help="timed runs in one process (their median is that process's figure)")
        p.add_argument("--min-repeat", type=int, default=5)
        p.add_argument("--max-seconds", type=float, default=max_seconds,
                       help="peers stop timing after this long (once --min-repeat runs are done)")
        p.add_argument("--warmup", type=int, default=2)

    p = sub.add_parser("run", help="prepare, run every engine and ours in interleaved rounds, report")
    common(p)
    timing(p, 10, 15.0)
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds per workload; each round runs every engine once, in its own process")
    p.add_argument("--tokens-dir", default=os.path.join(BENCH_DIR, "tokens"))
    p.add_argument("--encoder", default=os.path.join(ROOT, ".build", "release", "encoder"))
    p.add_argument("--no-ours", action="store_true", help="peers only (no 'no encoder binary' note)")
    p.add_argument("--ours-args", action="append", metavar="ARGS",
                   help="extra arguments for our `encoder bench` (one string, split like a shell); "
                        "repeatable: each is its own column. '' = the defaults (--backend blas). "
                        "Write --ours-args=--flag for a single flag.")
    p.add_argument("--kernels", action="append", default=None, metavar="env,native",
                   help="our encoder's OpenBLAS kernel: env (the environment as it is), native "
                        "(OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for that command only), or both")
    p.add_argument("--engines", nargs="+", choices=ENGINES, default=DEFAULT_ENGINES,
                   help="peer engines (default: %(default)s)")
    p.add_argument("--workload", action="append", choices=WORKLOAD_NAMES)
    p.add_argument("--onnx-source", choices=["auto", "torch", "handbuilt"], default="auto")
    p.add_argument("--rebuild", action="store_true", help="rebuild the ONNX and CTranslate2 models")
    p.add_argument("--json-out", help="every round's figures (default WORK_DIR/compare-engines-STAMP.json)")
    p.add_argument("--markdown-out", help="the report (default WORK_DIR/compare-engines-STAMP.md)")
    p.add_argument("--wait-quiet", type=float, default=120.0,
                   help="before each process, wait up to this many seconds for other processes "
                        "to use < 0.25 cores (0: don't wait)")
    p.set_defaults(fn=driver)

    p = sub.add_parser("report", help="print the markdown report of a run's JSON again")
    p.add_argument("json")
    p.set_defaults(fn=rerender)

    p = sub.add_parser("prepare-onnx")
    common(p)
    p.add_argument("--onnx-source", choices=["auto", "torch", "handbuilt"], default="auto")
    p.set_defaults(fn=prepare_onnx)

    p = sub.add_parser("prepare-ct2")
    common(p)
    p.set_defaults(fn=prepare_ct2)

    p = sub.add_parser("worker")
    p.add_argument("engine", choices=ENGINES)
    p.add_argument("--tokens", required=True)
    common(p)
    timing(p, 20, 30.0)
    p.set_defaults(fn=worker)

    args = ap.parse_args(argv)
    if args.cmd == "run":
        args.kernels = args.kernels or ["env"]
        if args.rounds < 1 or args.repeat < 1:
            ap.error("--rounds and --repeat must be at least 1")
    args.fn(args)


if __name__ == "__main__":
    main()
