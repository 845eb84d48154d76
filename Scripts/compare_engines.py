#!/usr/bin/env python3
"""Compare the Swift encoder with ONNX Runtime, CTranslate2 and PyTorch.

Optional, never run in CI. Normally started by Scripts/compare-engines, which
makes the virtual environment (.build-bench/venv) and the token files; run
directly with that venv's python:

  compare_engines.py run --tokens-dir DIR [--encoder PATH] [--engines ...]
  compare_engines.py prepare-onnx | prepare-ct2      (build the engine models)
  compare_engines.py worker ENGINE --tokens FILE     (one engine, one workload)

Every engine times the same token batches (JSONL files from
Scripts/make_bench_tokens.py): fp32, 2 threads (intra-op 2, inter-op 1),
warm-up, then the median wall time per batch over --repeat runs (stopping
early once --max-seconds have been spent, after at least --min-repeat runs).
A timed run is the model's forward pass plus masked mean pooling and L2
normalisation (what sentence-transformers does for all-MiniLM-L6-v2).
Tokens/s counts REAL tokens (sum of the sequence lengths). ONNX Runtime and
PyTorch get a padded batch with an attention mask, as they are normally run;
CTranslate2 gets the lists of ids (it handles the padding itself). Each
engine runs each workload in its own subprocess, so the peak RSS
(getrusage(RUSAGE_SELF).ru_maxrss) is that engine's own, model load included.
Before timing, every engine must reproduce the reference embedding of
"The cat sat on the mat." to within 1e-4.

The script never sets or unsets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: the
engines keep the environment they were started with.
"""

import argparse
import datetime
import json
import os
import platform
import resource
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
FP32_PEERS = ["onnxruntime", "ctranslate2", "pytorch"]
OURS = "swift"

# "The cat sat on the mat." with all-MiniLM-L6-v2: ids and the first
# components of the mean-pooled, L2-normalised embedding.
REF_IDS = [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102]
REF_HEAD = [0.13023715, -0.01577284, -0.03671671, 0.05798643]
REF_TOL = 1e-4
# int8 engines are checked loosely: same direction as the fp32 reference (head within 2e-2).
REF_TOL_INT8 = 2e-2

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
    def __init__(self, args):
        import numpy as np
        import ctranslate2
        self.np, self.ct2 = np, ctranslate2
        self.compute_type = "int8" if args.engine == "ctranslate2-int8" else "float32"
        self.enc = ctranslate2.Encoder(ct2_dir(args.work_dir), device="cpu", compute_type=self.compute_type,
                                       intra_threads=args.threads, inter_threads=1)

    def info(self):
        return {"version": f"ctranslate2 {self.ct2.__version__}, compute_type {self.compute_type}",
                "kernels": "see the CT2_VERBOSE log lines (ISA, SGEMM backend)",
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


ENGINE_CLASSES = {"onnxruntime": OrtEngine, "ctranslate2": Ct2Engine, "ctranslate2-int8": Ct2Engine,
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
    if err > (REF_TOL_INT8 if args.engine.endswith("int8") else REF_TOL):
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
# Driver

def run_sub(cmd, env=None, timeout=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def last_json(stdout):
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON in output")


def run_swift(encoder, tokens, args, extra=(), env=None):
    """Our encoder: `encoder bench --tokens FILE --json --threads N [extra]` (extra: one configuration of
    ours, e.g. `--backend onednn --precision bf16`; `--backend blas` when it names no backend)."""
    base = [encoder, "bench", "--model", args.model, "--tokens", tokens, "--json", "--threads", str(args.threads),
            "--repeat", str(args.repeat)] + list(extra)
    if "--backend" not in extra:
        base += ["--backend", "blas"]
    rc, out, err = run_sub(base, env)
    if rc != 0:
        raise RuntimeError((err or out).strip().splitlines()[-1:] or [f"exit {rc}"])
    objs = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("["):
            objs += json.loads(line)
        elif line.startswith("{"):
            objs.append(json.loads(line))
    if not objs:
        try:
            data = json.loads(out)
            objs = data if isinstance(data, list) else [data]
        except ValueError:
            raise RuntimeError("no JSON from encoder bench")
    blas = [o for o in objs if o.get("backend", "blas") == "blas"] or objs
    return blas[0]


def importable(mod):
    return subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True).returncode == 0


def fmt_num(v, kind):
    if v is None:
        return "n/a"
    if kind == "ms":
        return f"{v:.2f}" if v < 100 else f"{v:.0f}"
    if kind == "tps":
        return f"{v:,.0f}"
    if kind == "mib":
        return f"{v:.0f}"
    return str(v)


def label_of(c):
    base = {"onnxruntime": "ONNX Runtime", "ctranslate2": "CTranslate2", "ctranslate2-int8": "CTranslate2 int8",
            "pytorch": "PyTorch"}
    return base.get(c, c)


def print_tables(results, engines, ours, meta, out=sys.stdout):
    """results[column][workload]: the aggregate of the rounds (best run's fields, plus median_*)."""
    cols = engines + ours
    w = lambda *cells: print("| " + " | ".join(cells) + " |", file=out)  # noqa: E731

    print(f"\nMachine: {meta['machine']['cpu_model']}, {meta['machine']['cpus']} CPUs "
          f"({', '.join(meta['machine']['isa'])}); {meta['date']}; "
          f"threads: intra-op {meta['threads']}, inter-op 1; {meta['rounds']} interleaved rounds "
          f"(each round runs every workload on every engine in turn, each engine in its own process).", file=out)
    print("Cells: best of the rounds / median of the rounds, each round's figure being that run's median "
          "over its timed repetitions. batch 1: ms per batch (lower is better); batch 32: real tokens/s "
          "(higher is better). ratio: best over best against the fastest fp32 peer (ONNX Runtime, "
          "CTranslate2, PyTorch), then median over median; >1: ours is faster.\n", file=out)
    peers = [c for c in engines if c in FP32_PEERS]
    ratio_cols = [f"{c} / best fp32 peer" for c in ours]
    if "ctranslate2-int8" in engines:
        ratio_cols += [f"{c} / CTranslate2 int8" for c in ours]
    w("workload", *[label_of(c) for c in cols], *ratio_cols)
    w(*(["---"] + ["---:"] * (len(cols) + len(ratio_cols))))
    for wl in WORKLOAD_NAMES:
        if not any(wl in results.get(c, {}) for c in cols):
            continue
        row = [wl]
        b1 = wl.startswith("b1_")
        ok = {c: results.get(c, {}).get(wl) for c in cols}
        ok = {c: r for c, r in ok.items() if r is not None and "error" not in r}
        for c in cols:
            r = ok.get(c)
            if r is None:
                row.append("n/a")
                continue
            if b1:
                cell = f"{fmt_num(r['ms_per_batch'], 'ms')} / {fmt_num(r['median_ms_per_batch'], 'ms')}"
            else:
                cell = f"{fmt_num(r['tokens_per_second'], 'tps')} / {fmt_num(r['median_tokens_per_second'], 'tps')}"
            row.append(cell)

        def ratio(c, against):
            if c not in ok or not against:
                return "n/a"
            best = max(against, key=lambda p: ok[p]["tokens_per_second"])
            med = max(against, key=lambda p: ok[p]["median_tokens_per_second"])
            return (f"{ok[c]['tokens_per_second'] / ok[best]['tokens_per_second']:.2f} / "
                    f"{ok[c]['median_tokens_per_second'] / ok[med]['median_tokens_per_second']:.2f} "
                    f"(vs {label_of(best)})")
        for c in ours:
            row.append(ratio(c, [p for p in peers if p in ok]))
        if "ctranslate2-int8" in engines:
            for c in ours:
                row.append(ratio(c, ["ctranslate2-int8"] if "ctranslate2-int8" in ok else []))
        w(*row)
    print("\nPeak RSS (MiB, whole process, model load included; the largest over the rounds):\n", file=out)
    w("workload", *[label_of(c) for c in cols])
    w(*(["---"] + ["---:"] * len(cols)))
    for wl in WORKLOAD_NAMES:
        if not any(wl in results.get(c, {}) for c in cols):
            continue
        row = [wl]
        for c in cols:
            r = results.get(c, {}).get(wl)
            row.append("n/a" if r is None or "error" in r else fmt_num(r.get("max_peak_rss_mib"), "mib"))
        w(*row)
    print("\nEngines:", file=out)
    for c in cols:
        if c in meta["engines"]:
            print(f"- {label_of(c)}: {meta['engines'][c]}", file=out)
    for c, why in meta["skipped"].items():
        print(f"- {label_of(c)}: skipped: {why}", file=out)


def aggregate(runs):
    """The rounds' results for one engine and workload -> the best run, with median_* and the run count."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[-1]
    best = dict(max(good, key=lambda r: r["tokens_per_second"]))
    best["median_tokens_per_second"] = statistics.median(r["tokens_per_second"] for r in good)
    best["median_ms_per_batch"] = statistics.median(r["ms_per_batch"] for r in good)
    best["max_peak_rss_mib"] = max(r.get("peak_rss_mib") or 0 for r in good)
    best["rounds"] = [{"ms_per_batch": r["ms_per_batch"], "tokens_per_second": r["tokens_per_second"],
                       "peak_rss_mib": r.get("peak_rss_mib")} for r in good]
    return best


def driver(args):
    work = args.work_dir
    os.makedirs(work, exist_ok=True)
    me = [sys.executable, os.path.abspath(__file__)]
    common = ["--model", args.model, "--work-dir", work, "--threads", str(args.threads)]
    tokens = {wl: os.path.join(args.tokens_dir, wl + ".jsonl") for wl in WORKLOAD_NAMES}
    missing = [p for p in tokens.values() if not os.path.exists(p)]
    if missing:
        raise SystemExit(f"missing token files ({missing[0]} …): run Scripts/make_bench_tokens.py "
                         f"{args.tokens_dir}")
    workloads = args.workload or WORKLOAD_NAMES
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    meta = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": machine_info(), "threads": args.threads, "repeat": args.repeat,
            "max_seconds": args.max_seconds, "engines": {}, "skipped": {}}
    engines = []
    for e in args.engines:
        needs = {"onnxruntime": ["onnxruntime", "onnx"], "ctranslate2": ["ctranslate2"],
                 "ctranslate2-int8": ["ctranslate2"], "pytorch": ["torch", "transformers"]}[e]
        absent = [m for m in needs if not importable(m)]
        if absent:
            meta["skipped"][e] = f"Python module(s) {', '.join(absent)} not installed"
            continue
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
    if ct2:
        if args.rebuild or not os.path.exists(os.path.join(ct2_dir(work), "model.bin")):
            log("converting the model for CTranslate2 …")
            if not (importable("torch") and importable("transformers")):
                for e in ct2:
                    meta["skipped"][e] = ("the CTranslate2 converter "
                                          "(ct2-transformers-converter) needs torch and transformers")
                    engines.remove(e)
            else:
                rc, out, err = run_sub(me + ["prepare-ct2"] + common, env)
                if rc != 0:
                    for e in ct2:
                        meta["skipped"][e] = "conversion failed: " + err.strip()[-400:]
                        engines.remove(e)

    # Our configurations: each --ours-args, run once per kernel setting asked for.
    configs = args.ours_args or [""]
    kernels = [k.strip() for k in args.kernels.split(",") if k.strip()]
    ours = []   # (column, extra args, env)
    native_env = {k: v for k, v in env.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    for config in configs:
        chosen = kernels
        for prefix in ("env:", "native:"):   # a configuration may name its kernel setting itself
            if config.startswith(prefix):
                chosen, config = [prefix[:-1]], config[len(prefix):].strip()
        extra = config.split()
        for kernel in chosen:
            column = OURS + (f" {config}" if config else "") + ("" if kernel == "env" else " [native kernel]")
            ours.append((column, extra, env if kernel == "env" else native_env))
    enc = args.encoder
    if not (enc and os.path.exists(enc)):
        meta["skipped"][OURS] = f"no encoder binary at {enc} (swift build -c release)"
        ours = []

    runs = {}   # column -> workload -> [result per round]
    for rnd in range(1, args.rounds + 1):
        for wl in workloads:
            for e in engines:
                log(f"round {rnd}: {e}: {wl} …")
                if args.wait_quiet > 0:
                    wait_for_quiet(args.wait_quiet)
                wenv = dict(env, CT2_VERBOSE="1") if e.startswith("ctranslate2") else env
                cmd = me + ["worker", e, "--tokens", tokens[wl], "--repeat", str(args.repeat),
                            "--min-repeat", str(args.min_repeat), "--max-seconds", str(args.max_seconds),
                            "--warmup", str(args.warmup)] + common
                rc, out, err = run_sub(cmd, wenv)
                if rc != 0:
                    msg = (err.strip().splitlines() or [f"exit {rc}"])[-1]
                    log(f"  failed: {msg}")
                    runs.setdefault(e, {}).setdefault(wl, []).append({"error": msg})
                    continue
                r = last_json(out)
                if e.startswith("ctranslate2"):
                    isa = [l.split("[info]", 1)[1].strip() for l in err.splitlines()
                           if "[info]" in l and ("ISA" in l or "backend" in l or "MKL" in l or "CPU:" in l)]
                    r["info"]["kernels"] = "; ".join(dict.fromkeys(isa)) or r["info"]["kernels"]
                runs.setdefault(e, {}).setdefault(wl, []).append(r)
                log(f"  {r['ms_per_batch']:.2f} ms/batch, {r['tokens_per_second']:,.0f} tok/s, "
                    f"{r['peak_rss_mib']:.0f} MiB ({r['repeats']} runs; other processes used "
                    f"{r['other_load_cores'] or 0:.2f} cores)")
            for column, extra, oenv in ours:
                log(f"round {rnd}: {column}: {wl} …")
                if args.wait_quiet > 0:
                    wait_for_quiet(args.wait_quiet)
                try:
                    with OtherLoad(resource.RUSAGE_CHILDREN) as other:
                        r = run_swift(enc, tokens[wl], args, extra, oenv)
                    r["other_load_cores"] = other.cores
                    r.setdefault("tokens_per_second", r.get("tokens", 0) / (r["ms_per_batch"] / 1e3))
                    runs.setdefault(column, {}).setdefault(wl, []).append(r)
                    log(f"  {r['ms_per_batch']:.2f} ms/batch, {r['tokens_per_second']:,.0f} tok/s, "
                        f"{r.get('peak_rss_mib', 0):.0f} MiB, OpenBLAS core {r.get('blas_core', '?')}")
                except Exception as ex:
                    log(f"  n/a: {ex}")
                    runs.setdefault(column, {}).setdefault(wl, []).append({"error": str(ex)})

    results = {c: {wl: aggregate(rs) for wl, rs in per.items()} for c, per in runs.items()}
    for e in engines:
        ok = [r for r in results.get(e, {}).values() if "error" not in r]
        if ok:
            i = ok[0]["info"]
            desc = f"{i['version']}; {i['kernels']}"
            if e == "onnxruntime":
                g = i["graph"]
                desc += f"; graph: {g['how']}, then {g['optimizer']}: fused {g['fused_ops']}"
            if e == "pytorch":
                desc += f"; attention: {i['attention']}"
            desc += f"; numpy BLAS (pooling only): {i['numpy_blas']}"
            meta["engines"][e] = desc
        elif e in results:
            meta["skipped"][e] = "every workload failed: " + next(iter(results[e].values()))["error"]
    for column, extra, _ in ours:
        ok = [r for r in results.get(column, {}).values() if "error" not in r]
        if ok:
            meta["engines"][column] = (
                f"{os.path.relpath(enc, ROOT)} bench --tokens FILE --json --threads {args.threads} "
                f"{' '.join(extra) or '--backend blas'}; OpenBLAS core {ok[0].get('blas_core', '?')}")
        elif column in results:
            meta["skipped"][column] = "encoder bench failed: " + next(iter(results[column].values()))["error"]
    meta["rounds"] = args.rounds
    ours_columns = [c for c, _, _ in ours if c in results]

    table_engines = [e for e in args.engines if e in results]
    print_tables(results, table_engines, ours_columns, meta)
    out_path = args.json_out or os.path.join(work, "results.json")
    with open(out_path, "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    if args.markdown_out:
        with open(args.markdown_out, "w") as f:
            print_tables(results, table_engines, ours_columns, meta, out=f)
    print(f"\nRaw results: {out_path}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--model", default=DEFAULT_MODEL, help="model folder (sentence-transformers layout)")
        p.add_argument("--work-dir", default=BENCH_DIR, help="where converted models and results go")
        p.add_argument("--threads", type=int, default=2, help="intra-op threads (inter-op is 1)")

    def timing(p):
        p.add_argument("--repeat", type=int, default=20, help="timed runs per workload (median reported)")
        p.add_argument("--min-repeat", type=int, default=5)
        p.add_argument("--max-seconds", type=float, default=30.0,
                       help="stop timing a workload after this long (once --min-repeat runs are done)")
        p.add_argument("--warmup", type=int, default=2)

    p = sub.add_parser("run", help="prepare, run every engine and ours, print the table")
    common(p)
    timing(p)
    p.add_argument("--tokens-dir", default=os.path.join(BENCH_DIR, "tokens"))
    p.add_argument("--encoder", default=os.path.join(ROOT, ".build", "release", "encoder"))
    p.add_argument("--engines", nargs="+", choices=ENGINES, default=ENGINES)
    p.add_argument("--workload", action="append", choices=WORKLOAD_NAMES)
    p.add_argument("--onnx-source", choices=["auto", "torch", "handbuilt"], default="auto")
    p.add_argument("--rebuild", action="store_true", help="rebuild the ONNX and CTranslate2 models")
    p.add_argument("--json-out")
    p.add_argument("--markdown-out", help="also write the tables to this file")
    p.add_argument("--rounds", type=int, default=3,
                   help="interleaved rounds: each round runs every workload on every engine in turn")
    p.add_argument("--ours-args", action="append",
                   help="one configuration of ours, as extra `encoder bench` arguments (repeatable: one "
                        "column each), e.g. \"--backend onednn --precision bf16\"; default: --backend blas. "
                        "A leading 'env:' or 'native:' runs that configuration with that kernel setting only")
    p.add_argument("--kernels", default="env",
                   help="for ours: env (OpenBLAS as the environment sets it), native (OPENBLAS_CORETYPE and "
                        "OPENBLAS_L2_SIZE removed from that one command's environment), or env,native")
    p.add_argument("--wait-quiet", type=float, default=300.0,
                   help="before each measurement, wait up to this many seconds for other processes "
                        "to use < 0.25 cores (0: don't wait)")
    p.set_defaults(fn=driver)

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
    timing(p)
    p.set_defaults(fn=worker)

    args = ap.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
