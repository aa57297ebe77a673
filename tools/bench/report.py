"""Turns the measurements of one benchmark section into its part of BENCHMARKS.md.

  report.py context --results DIR --section S --stage begin|end --java JAVA   (run.sh: the machine and its load)
  report.py render  --results DIR --section S --plan P --markdown BENCHMARKS.md

Each section lives between `<!-- section:NAME -->` and `<!-- /section:NAME -->`; rendering replaces only
that part (appending it when absent), written to a temporary file and moved into place. Measurements are
the JSON lines gemel.bench.Bench and torch_peer.py appended to DIR/<section>.jsonl; everything derived
(FLOPs, bytes, bounds, ratios) is computed here, once, for both.
"""
import argparse
import json
import math
import os
import platform
import re
import statistics
import struct
import subprocess
import sys
import time


COMMAND = "tools/bench/run.sh"
GOAL = 0.8  # of the bound, for prefill and for decode


# ------------------------------------------------------------------------------------------------ context

def _cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def _load():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def _first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def context(args):
    file = os.path.join(args.results, f"{args.section}.context.json")
    ctx = {}
    if args.stage == "end" and os.path.exists(file):
        with open(file) as f:
            ctx = json.load(f)
    stamp = {"utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load": _load()}
    if args.stage == "begin":
        import torch
        ctx = {
            "begin": stamp,
            "nproc": os.cpu_count(),
            "cpu": _cpu_model(),
            "ram_gib": _ram_gib(),
            "jdk": _first_line([args.java, "-version"]),
            "torch": torch.__version__,
            "blas": os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"),
            "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
            "command": args.command,
            "commit": _first_line(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--short", "HEAD"]),
        }
    else:
        ctx["end"] = stamp
    _write_atomic(file, json.dumps(ctx, indent=1))


def _context_lines(ctx):
    env = ", ".join(f"{k}={v}" for k, v in sorted(ctx["openblas_env"].items())) or "none set"
    begin, end = ctx["begin"], ctx.get("end", {"utc": "?", "load": ["?"]})
    # the benchmark keeps 2 threads busy: more than that on average means other work shared the cores
    loads = [begin["load"][0]] + ([end["load"][0], end["load"][1]] if end["load"][0] != "?" else [])
    loaded = max(loads) > 2.5
    return [
        f"Machine: {ctx['nproc']} cores (`nproc`), {ctx['cpu']}, {ctx['ram_gib']:.0f} GiB RAM; {ctx['jdk']}; "
        f"torch {ctx['torch']} with BLAS {ctx['blas']}, OPENBLAS_* variables: {env}.",
        f"Run: {begin['utc']} to {end['utc']}, commit {ctx['commit']}; load average {begin['load'][0]} (1 min) before, "
        f"{end['load'][0]} (1 min) and {end['load'][1] if len(end['load']) > 1 else '?'} (5 min) after; the benchmark "
        "itself keeps 2 threads busy." + (" **Other work shared the 2 cores during this run: timings are lower than on a "
                                          "quiet machine.**" if loaded else ""),
    ]


# ------------------------------------------------------------------------------------------------ records

def _records(results, section):
    path = os.path.join(results, f"{section}.jsonl")
    if not os.path.exists(path):
        raise SystemExit(f"report: no measurements in {path}: run `{COMMAND} {section}` first")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _context(results, section):
    path = os.path.join(results, f"{section}.context.json")
    with open(path) as f:
        return json.load(f)


def _fmt(x, digits=3):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def _pct(x):
    return "-" if x is None else f"{100 * x:.0f} %"


# ------------------------------------------------------------------------------------------------ machine

def bounds(records):
    """(sgemm GFLOP/s, bandwidth GB/s): the best torch sgemm over the decoder shapes; the higher of the two reads."""
    sgemm = max(r["gflops"] for r in records if r["kind"] == "sgemm")
    stream = max(r["gb_per_s"] for r in records if r["kind"] == "stream")
    return sgemm, stream


def render_machine(records, plan, results):
    by = {}
    for r in records:
        if r["kind"] in ("sgemm", "matmul"):
            key = "torch" if r["kind"] == "sgemm" else "gemel-" + r["weights"]
            by[(tuple(r["shape"]), key)] = r["gflops"]
    shapes = [tuple(s) for s in plan["sgemm_shapes"]]
    lines = ["| [T, K] x [K, N] | torch sgemm (OpenBLAS) GFLOP/s | gemel MatMul fp32 GFLOP/s | gemel MatMul bf16 GFLOP/s | gemel fp32 / torch |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for s in shapes:
        t, g32, g16 = by.get((s, "torch")), by.get((s, "gemel-F32")), by.get((s, "gemel-BF16"))
        ratio = g32 / t if t and g32 else None
        lines.append(f"| [{s[0]}, {s[1]}] x [{s[1]}, {s[2]}] | {_fmt(t)} | {_fmt(g32)} | {_fmt(g16)} | {_fmt(ratio, 2)} |")
    stream = {r["impl"]: r for r in records if r["kind"] == "stream"}
    sgemm, bandwidth = bounds(records)
    gib = plan["stream_bytes"] / 2**30
    setup = {r["impl"]: r for r in records if r["kind"] == "setup"}
    lines += [
        "",
        f"Memory read bandwidth over a {gib:.0f} GiB buffer: gemel (Vector API sum of its 32-bit words over a MemorySegment, "
        f"{setup.get('gemel', {}).get('cores', '?')} threads of four streams each, {setup.get('gemel', {}).get('vector_bits', '?')}-bit vectors) "
        f"**{_fmt(stream.get('gemel', {}).get('gb_per_s'))} GB/s**; torch (`tensor.sum()`, {setup.get('torch', {}).get('threads', '?')} threads) "
        f"**{_fmt(stream.get('torch', {}).get('gb_per_s'))} GB/s**.",
        "",
        f"Bounds used below: **sgemm {_fmt(sgemm)} GFLOP/s** (the best torch sgemm of the table, fp32, 2 threads), "
        f"**bandwidth {_fmt(bandwidth)} GB/s** (the higher of the two reads). Each timing is the best of several runs after one "
        "untimed run; the weight is [N, K] and multiplied transposed, as a linear layer does.",
    ]
    return lines


# ------------------------------------------------------------------------------------------------ decoders

def _header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))


class Shape:
    """What the FLOP and byte counts need, taken from the checkpoint itself: matrices applied to every
    token (all 2-D weights but the embedding tables and the head) and the head, applied to one row."""
    BYTES = {"F32": 4, "BF16": 2, "F16": 2}

    def __init__(self, model):
        with open(os.path.join(model["dir"], "config.json")) as f:
            cfg = json.load(f)
        header = {k: v for k, v in _header(os.path.join(model["dir"], "model.safetensors")).items() if k != "__metadata__"}
        dtypes = {v["dtype"] for v in header.values()}
        if len(dtypes) != 1:
            raise SystemExit(f"report: {model['dir']} mixes dtypes {sorted(dtypes)}")
        self.stored_bytes = self.BYTES[dtypes.pop()]
        numel = {k: math.prod(v["shape"]) for k, v in header.items()}
        rank = {k: len(v["shape"]) for k, v in header.items()}
        head = next((k for k in numel if k.endswith("lm_head.weight")), None) or next(k for k in numel if k.endswith("embed_tokens.weight"))
        self.head_params = numel[head]
        self.token_params = sum(n for k, n in numel.items()
                                if rank[k] == 2 and not k.endswith(("embed_tokens.weight", "embed_positions.weight", "lm_head.weight")))
        self.layers = cfg["num_hidden_layers"]
        heads = cfg["num_attention_heads"]
        self.head_dim = cfg.get("head_dim") or cfg["hidden_size"] // heads
        self.heads = heads
        self.kv_heads = cfg.get("num_key_value_heads") or heads
        self.total_params = sum(numel.values())
        expected = _matrix_params(cfg)
        if self.token_params != expected:
            raise SystemExit(f"report: {model['dir']} holds {self.token_params} matrix parameters, its config implies {expected}")

    def prefill_flops(self, t):
        return prefill_flops(self.token_params, self.head_params, self.layers, self.heads, self.head_dim, t)

    def step_bytes(self, past, weight_bytes, rows=1):
        """A step of one token in each of `rows` rows: the weights read once, plus each row's fp32 keys and values
        of the past + 1 positions."""
        kv = self.layers * 2 * (past + 1) * self.kv_heads * self.head_dim * 4
        return (self.token_params + self.head_params) * weight_bytes + rows * kv


def prefill_flops(token_params, head_params, layers, heads, head_dim, t):
    """A prompt of t tokens, 2 per multiply-add: the matrices on t tokens, the head on the last, q.k and p.v over the
    causal pairs."""
    attention = layers * 2 * 2 * heads * head_dim * t * (t + 1) // 2
    return 2 * token_params * t + 2 * head_params + attention


def _matrix_params(cfg):
    """The per-token matrix parameters a config implies, counted the other way round (from the architecture)."""
    h, layers = cfg["hidden_size"], cfg["num_hidden_layers"]
    if cfg["model_type"] == "opt":
        width = cfg.get("word_embed_proj_dim", h)
        return layers * (4 * h * h + 2 * h * cfg["ffn_dim"]) + (2 * h * width if width != h else 0)
    heads = cfg["num_attention_heads"]
    hd = cfg.get("head_dim") or h // heads
    kv = cfg.get("num_key_value_heads") or heads
    return layers * (2 * h * heads * hd + 2 * h * kv * hd + 3 * h * cfg["intermediate_size"])


def _logit_check(records, model, point):
    return _output_check({r["impl"]: r["file"] for r in records if r.get("model") == model and r.get("point") == point})


def _output_check(files, argmax=True):
    """max |gemel - torch| / max |torch| of the outputs both saved, and (logits) whether their argmax agree."""
    if set(files) != {"gemel", "torch"}:
        return "-"
    import numpy as np  # only here, so that the rest (and its tests) runs on a python3 without numpy
    g, t = np.load(files["gemel"]), np.load(files["torch"])
    if g.shape != t.shape:
        return f"shapes differ {g.shape} vs {t.shape}"
    rel = float(np.abs(g - t).max() / max(np.abs(t).max(), 1e-30))
    if not argmax:
        return f"{rel:.1e}"
    same = "same argmax" if np.array_equal(g.argmax(-1), t.argmax(-1)) else "**argmax differs**"
    return f"{rel:.1e}, {same}"


def render_decoders(records, plan, results):
    try:
        sgemm, bandwidth = bounds(_records(results, "machine"))
    except SystemExit:
        sgemm = bandwidth = None
    meas, adjacent, warm = {}, {}, {}
    for r in records:
        if r["phase"] == "warm-up" and r["impl"] == "gemel":
            warm[r["model"]] = r
        if r["phase"] in ("prefill", "decode", "beams", "load"):
            meas[(r["model"], r["impl"], r["phase"], r.get("tokens"))] = r["seconds"]
        if r["phase"] in ("decode", "beams"):
            if r.get("stream_gb_per_s"):
                adjacent[(r["model"], r["impl"], r["phase"])] = statistics.median(r["stream_gb_per_s"])
    after, steps = plan["decode_after"], plan["decode_steps"]
    beams, beam_steps = plan.get("beams"), plan.get("beam_steps")  # none in plans written before beam steps were timed
    phases = [("decode", 1, after, steps, f"decode after {after}")]
    if beams:
        phases.append(("beams", beams, after + steps, beam_steps, f"{beams} beams after {after + steps}"))
    lines = ["| model | weights | phase | gemel tok/s | torch tok/s | gemel / torch | bound tok/s | gemel % of bound | "
             "torch % of bound | goal | logits gemel vs torch (max rel. diff) |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    failed = [f"{r['impl']} on {r['model']}" for r in records if r["phase"] == "failed"]
    loads, missing, reads = [], [], []
    for model in plan["models"]:
        name = model["name"]
        if not any(k[0] == name for k in meas):
            missing.append(name)
            continue
        shape = Shape(model)
        base = name[: -len(model["weights"]) - 1]
        for tokens in plan["prefill_tokens"]:
            g, t = (meas.get((name, impl, "prefill", tokens)) for impl in ("gemel", "torch"))
            g_rate = tokens / min(g) if g else None
            t_rate = tokens / min(t) if t else None
            bound = sgemm * 1e9 / shape.prefill_flops(tokens) * tokens if sgemm else None
            check = _logit_check(records, name, f"prefill-{after}") if tokens == after else ""
            met = g_rate is not None and g_rate >= GOAL * bound and (t_rate is None or g_rate > t_rate) if bound else None
            lines.append(_row(base, model["weights"], f"prefill {tokens}", g_rate, t_rate, bound, bound, met, check))
        for phase, rows, past, count, label in phases:
            g, t = (meas.get((name, impl, phase, None)) for impl in ("gemel", "torch"))
            g_rate = rows / statistics.median(g) if g else None
            t_rate = rows / statistics.median(t) if t else None
            mid = past + count // 2
            # each side's bound: the read bandwidth measured between its own steps (else the machine section's)
            g_bw, t_bw = (adjacent.get((name, impl, phase), bandwidth) for impl in ("gemel", "torch"))
            g_bound = rows * g_bw * 1e9 / shape.step_bytes(mid, shape.stored_bytes, rows) if g_bw else None
            t_bound = rows * t_bw * 1e9 / shape.step_bytes(mid, 4, rows) if t_bw else None  # torch computes on fp32 copies
            if phase == "decode" and g_bw and t_bw:
                reads.append(f"{name} {g_bw:.1f} / {t_bw:.1f}")
            # the goal is set for decode; beam steps are shown for what linking spends after its prompt
            met = (g_rate is not None and g_rate >= GOAL * g_bound if g_bound else None) if phase == "decode" else None
            lines.append(_row(base, model["weights"], label, g_rate, t_rate, g_bound, t_bound, met,
                              _logit_check(records, name, f"{phase}-{count}")))
        lg, lt = (meas.get((name, impl, "load", None)) for impl in ("gemel", "torch"))
        loads.append(f"{name} {shape.total_params / 1e6:.0f} M parameters: gemel {_fmt(lg)} s, torch {_fmt(lt)} s")
    if missing:
        lines += ["", "Not measured in this run: " + ", ".join(missing) + "."]
    if failed:
        lines += ["", "**Failed in this run** (see the run's output): " + ", ".join(failed) + "."]
    if sgemm is None:
        lines += ["", f"No machine bounds yet: run `{COMMAND} machine` for the bound columns."]
    lines += [
        "",
        f"Prefill: tokens / best of at least {plan['prefill_repeats']} runs of one prompt"
        + (f" and of as many as fit in {plan['prefill_seconds']:g} s (each side)" if plan.get("prefill_seconds") else "")
        + " (logits of the last position only), after "
        f"warm-up prompts (gemel: for 5 s, at least two, while the JIT compiles its kernels; see the cold start below) and one untimed run of the same prompt. Decode: 1 / median of {steps} single-token steps on the KV cache of the {after}-token prompt. "
        "Prefill bound = sgemm bound / FLOPs per prompt, with FLOPs = 2 x (parameters of the matrices applied to every token) "
        "x tokens + 2 x head parameters (one row) + 4 x heads x head_dim x causal (query, key) pairs per layer. Decode bound = "
        "read bandwidth / bytes read per token: every weight once in its stored dtype for gemel, in fp32 for torch (it "
        "widened bf16 and fp16 on loading), plus the fp32 keys and values. "
        + (f"Beams: {beams} rows of one token each per step (GEMEL's beam search) on the cache of the prompt and the decode "
           f"steps, {beams} / median of {beam_steps} steps; gemel's rows share the prompt's keys and values (one prefill, as its "
           f"linker runs them), torch's rows hold a copy each (as the reference's beam search does); the bound counts the "
           f"weights once and the keys and values of every row; no goal is set for them. " if beams else "")
        + "The read bandwidth of this machine changes from minute to "
        "minute (between about 30 and 60 GB/s in the same hour: other machines share its memory), so each side reads "
        f"a {plan['decode_stream_bytes'] >> 20} MiB buffer just before each of its decode and beam steps and each bound uses the median of those reads "
        "(the machine section's figure only when a run has none); the bound column shows gemel's, with torch's in "
        "parentheses when it differs. Goal: prefill at least 80 % of its bound and ahead of "
        "torch; decode at least 80 % of its bound. The logits column compares the last-position logits of both on the "
        f"same weights and prompt (after the {after}-token prefill, after the last decode step, after the last beam step "
        "in every row): "
        "max |gemel - torch| / max |torch|.",
        "",
        "Loading (open, map, check; torch: read and widen to fp32): " + "; ".join(loads) + ".",
    ]
    if warm:
        lines += ["", "Cold start (gemel: the first prompt after loading, while the JIT has yet to compile the kernels, then the "
                  "last of the warm-up prompts before the timings above): "
                  + "; ".join(f"{m} {w['tokens']} tokens in {w['first_seconds']:.3g} s, then {w['last_seconds']:.3g} s after "
                              f"{w['runs'] - 1} more" for m, w in warm.items()) + "."]
    if reads:
        lines += ["", "Read bandwidth during the decode steps, GB/s (median, gemel / torch): " + "; ".join(reads) + "."]
    return lines + probe_lines(records)


def probe_lines(records):
    """The compute probes' medians beside gemel's decode steps and prompts, per model: where the shared cores ran slow."""
    decode, prompts = {}, {}
    for r in records:
        if r["impl"] != "gemel" or not r.get("compute_gflops"):
            continue
        if r["phase"] == "decode":
            decode[r["model"]] = statistics.median(r["compute_gflops"])
        elif r["phase"] == "prefill":
            prompts.setdefault(r["model"], []).append((r["tokens"], statistics.median(r["compute_gflops"])))
    lines = []
    if decode:
        lines += ["", "Compute during gemel's decode steps, GFLOP/s (median of a probe just after each read: every core runs "
                  "vector multiply-adds in registers for about a millisecond; a slow step beside a normal read shows here): "
                  + "; ".join(f"{m} {g:.0f}" for m, g in decode.items()) + "."]
    if prompts:
        lines += ["", "Compute just after gemel's timed prompts, GFLOP/s (median of the same probe after each, by prompt length; "
                  "a prompt timed in a slow spell of the shared cores shows here): "
                  + "; ".join(f"{m} " + ", ".join(f"{t} tokens {g:.0f}" for t, g in sorted(p)) for m, p in prompts.items()) + "."]
    return lines


def _row(model, weights, phase, g, t, g_bound, t_bound, met, check):
    """met: None when there is no bound to judge against."""
    goal = "-" if met is None else "met" if met else "not met"
    ratio = g / t if g and t else None
    bound = _fmt(g_bound) if g_bound == t_bound else f"{_fmt(g_bound)} (torch: {_fmt(t_bound)})"
    return (f"| {model} | {weights} | {phase} | {_fmt(g)} | {_fmt(t)} | {_fmt(ratio, 2)} | {bound} | "
            f"{_pct(g / g_bound if g and g_bound else None)} | {_pct(t / t_bound if t and t_bound else None)} | {goal} | {check} |")


# ------------------------------------------------------------------------------------------------ clip

def clip_flops(spec):
    """Per image, from the checkpoint: 2 x matrix parameters x tokens, the patch convolution as a product over
    the patches, and 4 x hidden x tokens^2 per layer for q.k and p.v over all (bidirectional) pairs."""
    with open(os.path.join(spec["dir"], "config.json")) as f:
        cfg = json.load(f)
    header = {k: v for k, v in _header(os.path.join(spec["dir"], "model.safetensors")).items() if k != "__metadata__"}
    patches = (cfg["image_size"] // cfg["patch_size"]) ** 2
    tokens = patches + 1
    matrices = sum(math.prod(v["shape"]) for k, v in header.items() if len(v["shape"]) == 2 and "position_embedding" not in k)
    conv = math.prod(header["vision_model.embeddings.patch_embedding.weight"]["shape"])
    d = cfg["hidden_size"]
    expected = cfg["num_hidden_layers"] * (4 * d * d + 2 * d * cfg["intermediate_size"])
    if matrices != expected:
        raise SystemExit(f"report: {spec['dir']} holds {matrices} matrix parameters, its config implies {expected}")
    params = sum(math.prod(v["shape"]) for v in header.values())
    return 2 * matrices * tokens + 2 * conv * patches + cfg["num_hidden_layers"] * 4 * d * tokens * tokens, params


def render_clip(records, plan, results):
    try:
        sgemm, _ = bounds(_records(results, "machine"))
    except SystemExit:
        sgemm = None
    spec = plan["clip"]
    flops, params = clip_flops(spec)
    enc = {r["impl"]: r for r in records if r["phase"] == "encode"}
    load = {r["impl"]: r["seconds"] for r in records if r["phase"] == "load"}
    rate = {impl: r["images"] / r["seconds"] for impl, r in enc.items()}
    g, t = rate.get("gemel"), rate.get("torch")
    bound = sgemm * 1e9 / flops if sgemm else None
    check = _output_check({r["impl"]: r["file"] for r in records if r["phase"] == "pooled"}, argmax=False)
    lines = ["| model | images per call | gemel images/s | torch images/s | gemel / torch | bound images/s | gemel % of bound | "
             "torch % of bound | pooled output gemel vs torch (max rel. diff) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
             f"| {spec['name']} fp32 ({params / 1e6:.0f} M parameters) | {spec['batch']} | {_fmt(g)} | {_fmt(t)} | "
             f"{_fmt(g / t if g and t else None, 2)} | {_fmt(bound)} | {_pct(g / bound if g and bound else None)} | "
             f"{_pct(t / bound if t and bound else None)} | {check} |",
             "",
             f"One call encodes the batch after one untimed image; pixel values are random (as CLIPImageProcessor leaves "
             f"them: normalized). Bound = sgemm bound / {_fmt(flops / 1e9)} GFLOP per image (matrices, patch convolution, "
             f"attention over all token pairs). Loading: gemel {_fmt(load.get('gemel'))} s, torch {_fmt(load.get('torch'))} s."]
    if sgemm is None:
        lines += ["", f"No machine bounds yet: run `{COMMAND} machine` for the bound columns."]
    return lines


# ------------------------------------------------------------------------------------------------ entity tree

def render_entity_tree(records, plan, results):
    by = {r["kind"]: r for r in records}
    b, l, f = by["build"], by["lookup"], by["file"]
    spec = plan["entity_tree"]
    return [
        "| names (distinct) | nodes | tree in memory | bytes per name | build | lookups/s (1 thread) | file | save | load |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {b['names']:,} ({b['distinct']:,}) | {b['nodes']:,} | {b['tree_bytes'] / 2**20:.0f} MiB | "
        f"{b['tree_bytes'] / b['distinct']:.0f} | {_fmt(b['seconds'])} s | {l['lookups'] / l['seconds']:,.0f} | "
        f"{f['file_bytes'] / 2**20:.0f} MiB | {_fmt(f['save_seconds'])} s | {_fmt(f['load_seconds'])} s |",
        "",
        f"Synthetic entries `[{spec['start_token']}, ids..., {spec['start_token']}]` as GEMEL stores OPT names: 1 to 10 "
        f"name tokens over a vocabulary of {spec['vocab']:,}, the first from a pool of 2,000 so that prefixes are shared. "
        f"Build: adding every entry and building the arrays. Lookups: the tokens allowed after a random prefix of a real "
        f"entry (`allowedNext`, {l['lookups']:,} of them, {l['mean_allowed']:.0f} tokens allowed on average: the bare start "
        "token allows every first token). No peer: GENRE's Python dict-of-dict tree, which the reference uses, is "
        "reported to need about 8.5 GB for ~5 M Wikipedia titles (shared/GEMEL.md).",
    ]


# ------------------------------------------------------------------------------------------------ native product

WEIGHT_NAMES = {"F32": "fp32", "BF16": "bf16", "F16": "fp16"}


def render_native_product(records, plan, results):
    lines = ["| weights | weight [rows, width] | gemel GB/s | C GB/s | gemel / C | gemel % of its read | C % of its read | "
             "fastest third of reads: read GB/s, gemel / C, gemel %, C % | C with the bf16 dot instruction: GB/s, % of read | "
             "outputs gemel vs C (max diff / max output) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"]
    for r in sorted(records, key=lambda r: (r["in"], list(WEIGHT_NAMES).index(r["dtype"]))):
        g, c, gr, cr = (r[k] for k in ("gemel_gb_per_s", "native_gb_per_s", "gemel_read_gb_per_s", "native_read_gb_per_s"))
        rounds = range(len(g))
        # the rounds in which the machine read fastest (both sides' reads of that round)
        fast = sorted(rounds, key=lambda i: gr[i] + cr[i])[-max(1, len(g) // 3):]
        med = statistics.median

        def fractions(sel):
            return (med((gr[i] + cr[i]) / 2 for i in sel), med(g[i] / c[i] for i in sel), med(g[i] / gr[i] for i in sel),
                    med(c[i] / cr[i] for i in sel))

        _, ratio, g_frac, c_frac = fractions(rounds)
        f_read, f_ratio, f_g, f_c = fractions(fast)
        dot = r["native_bf16_dot_gb_per_s"]
        dot_text = f"{_fmt(med(dot))}, {_pct(med(dot[i] / cr[i] for i in rounds))}" if dot else "-"
        diff = f"{r['max_difference']:.1e}" + (f" (bf16 dot: {r['bf16_dot_max_difference']:.1e})" if dot else "")
        lines.append(f"| {WEIGHT_NAMES[r['dtype']]} | [{r['rows']:,}, {r['in']:,}] ({r['bytes'] / 2**20:.0f} MiB) | {_fmt(med(g))} | "
                     f"{_fmt(med(c))} | {_fmt(ratio, 2)} | {_pct(g_frac)} | {_pct(c_frac)} | {_fmt(f_read)}, {_fmt(f_ratio, 2)}, "
                     f"{_pct(f_g)}, {_pct(f_c)} | {dot_text} | {diff} |")
    spec = plan["native_product"]
    threads = records[0]["threads"] if records else "?"
    lines += ["",
              f"The product of a decode step, one token times a weight read once, on random weights of about "
              f"{spec['bytes'] >> 20} MiB (far more than the caches), with gemel's `MatMul` and with a C peer "
              "(`tools/bench/native/decode_product.c`: AVX-512 intrinsics, widening in registers as gemel does, "
              f"{threads} threads, four row streams per thread; `gcc -O2 -march=native`), called through the FFM API on the "
              f"same bytes. {len(records[0]['gemel_gb_per_s']) if records else '?'} rounds per row; in each, each side first "
              "reads the weight's bytes, then multiplies; which "
              "side goes first alternates. Both read the bytes as four streams per core, the way their products read them: "
              "gemel with `StreamingRead`, the probe of the decoders section, C with its own loop; so a percentage is "
              "what widening and multiplying cost over reading alone. All columns are medians over rounds; ratios are taken within a round, so both "
              "sides of a ratio saw the same machine. The fastest third are the rounds whose two reads summed highest: "
              "this machine's memory reads at about 30 GB/s most of the time and at 40-57 GB/s in bursts of seconds. "
              "The bf16 dot instruction (`vdpbf16ps`, x rounded to bf16) is a ceiling for any bf16 kernel, not gemel's "
              "numerics (it rounds the activations). Outputs: both sides' last products, compared row by row."]
    return lines


# ------------------------------------------------------------------------------------------------ sections

SECTIONS = {
    "machine": ("Machine bounds: sgemm and memory bandwidth", render_machine),
    "decoders": ("Decoders: prefill and decode at real shapes, random weights, against PyTorch", render_decoders),
    "clip": ("CLIP vision encoder: images/s", render_clip),
    "entity-tree": ("Entity tree: memory, build time, lookups/s", render_entity_tree),
    "native-product": ("Decode product: gemel against C on the same weights", render_native_product),
}


def section_text(name, results, plan):
    title, render = SECTIONS[name]
    lines = [f"<!-- section:{name} -->", f"## {title}", ""]
    ctx = _context(results, name)
    lines += [f"Command: `{ctx['command']}`" + (f" (model set `{plan['set']}`)" if name == "decoders" else "") + ".", ""]
    lines += _context_lines(ctx) + [""]
    records = _records(results, name)
    lines += render(records, plan, results)
    lines.append(f"<!-- /section:{name} -->")
    return "\n".join(lines) + "\n"


def render(args):
    with open(args.plan) as f:
        plan = json.load(f)
    replace_section(args.markdown, args.section, section_text(args.section, args.results, plan))


def replace_section(markdown, name, text):
    """Puts text (a whole section, markers included) in place of the section `name` of the file, or at its end."""
    doc = "# Benchmarks\n"
    if os.path.exists(markdown):
        with open(markdown) as f:
            doc = f.read()
    pattern = re.compile(rf"<!-- section:{re.escape(name)} -->.*?<!-- /section:{re.escape(name)} -->\n", re.S)
    doc = pattern.sub(lambda _: text, doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + text
    _write_atomic(markdown, doc)
    print(f"report: wrote section {name} of {markdown}", file=sys.stderr)


def _write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["context", "render"])
    ap.add_argument("--results", required=True)
    ap.add_argument("--section", required=True, choices=sorted(SECTIONS))
    ap.add_argument("--stage", choices=["begin", "end"])
    ap.add_argument("--java", default="java")
    ap.add_argument("--command", default=COMMAND, help="context: the command line that runs the section")
    ap.add_argument("--plan")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    if args.action == "context":
        context(args)
    else:
        render(args)


if __name__ == "__main__":
    main()
