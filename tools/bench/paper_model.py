"""The paper's model as it is published: a random OPT-6.7B in facebook/opt-6.7b's layout, timed by gemel alone.

facebook/opt-6.7b ships fp16 weights as two PyTorch `.bin` shards (ZIP archives of 9.96 and 3.36 GB, the first with
ZIP64 records) with a `pytorch_model.bin.index.json`, its tensors named `decoder.*`. `make` writes that layout with
random weights (linear std 0.02, HF's init_std), once; `plan` writes the plan that `gemel.bench.Bench decoders` reads;
`context` notes the machine and its load; `render` turns gemel's measurements into BENCHMARKS.md's section paper-model.
No peer: PyTorch 1.13 on a CPU widens fp16 to fp32 (27 GB), more than this machine holds. `tools/bench/paper_model.sh`
runs them all.

  /usr/bin/python3 tools/bench/paper_model.py make --dir /tmp/gemel-paper
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import plan as bench_plan  # noqa: E402
import report  # noqa: E402

NAME = "opt-6.7b-fp16"
OPT_6_7B = dict(bench_plan.OPT_125M, ffn_dim=16384, hidden_size=4096, num_attention_heads=32, num_hidden_layers=32,
                word_embed_proj_dim=4096)
SHARD_BYTES = 10 * 10**9  # the hub's max_shard_size when these checkpoints were written
PREFILL_TOKENS = [512, 1536]  # 1,536: about a GEMEL prompt with 16 demonstrations
DECODE_STEPS, BEAMS, BEAM_STEPS = 8, 5, 8
SEED = 67


def folder(base):
    return os.path.join(base, "models", NAME)


def _marker(path):
    return os.path.join(path, ".gemel-bench-complete")


def _tensors(cfg):
    """(name, shape, kind) in the order OPT's state dict lists them; kind: linear, bias, embed, norm."""
    h, f, v = cfg["hidden_size"], cfg["ffn_dim"], cfg["vocab_size"]
    yield "decoder.embed_tokens.weight", (v, h), "embed"
    yield "decoder.embed_positions.weight", (cfg["max_position_embeddings"] + 2, h), "embed"
    yield "decoder.final_layer_norm.weight", (h,), "norm"
    yield "decoder.final_layer_norm.bias", (h,), "bias"
    for i in range(cfg["num_hidden_layers"]):
        p = f"decoder.layers.{i}."
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            yield p + f"self_attn.{proj}.weight", (h, h), "linear"
            yield p + f"self_attn.{proj}.bias", (h,), "bias"
        yield p + "self_attn_layer_norm.weight", (h,), "norm"
        yield p + "self_attn_layer_norm.bias", (h,), "bias"
        yield p + "fc1.weight", (f, h), "linear"
        yield p + "fc1.bias", (f,), "bias"
        yield p + "fc2.weight", (h, f), "linear"
        yield p + "fc2.bias", (h,), "bias"
        yield p + "final_layer_norm.weight", (h,), "norm"
        yield p + "final_layer_norm.bias", (h,), "bias"


def _draw(gen, shape, kind):
    t = torch.randn(*shape, generator=gen)
    t.mul_(0.01 if kind == "bias" else 0.02)
    if kind == "norm":
        t.add_(1.0)
    return t.to(torch.float16)


def make(base):
    out = folder(base)
    stamp = {"config": OPT_6_7B, "seed": SEED}
    try:
        with open(_marker(out)) as f:
            if json.load(f) == stamp:
                print(f"paper_model: {out} is complete", file=sys.stderr)
                return
    except (OSError, ValueError):
        pass
    os.makedirs(out, exist_ok=True)
    if os.path.exists(_marker(out)):
        os.remove(_marker(out))
    torch.set_num_threads(os.cpu_count() or 1)
    gen = torch.Generator().manual_seed(SEED)
    start = time.time()
    specs = list(_tensors(OPT_6_7B))
    shards, current, size = [], [], 0
    for spec in specs:  # consecutive runs of tensors up to SHARD_BYTES, as the hub's sharding cut them
        nbytes = 2 * math.prod(spec[1])
        if current and size + nbytes > SHARD_BYTES:
            shards.append(current)
            current, size = [], 0
        current.append(spec)
        size += nbytes
    shards.append(current)
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        file = f"pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin"
        part = {name: _draw(gen, shape, kind) for name, shape, kind in shard}
        torch.save(part, os.path.join(out, file))
        total += sum(t.numel() * 2 for t in part.values())
        weight_map.update({name: file for name in part})
        del part
        print(f"paper_model: wrote {file} ({os.path.getsize(os.path.join(out, file)) / 1e9:.2f} GB, "
              f"{time.time() - start:.0f} s so far)", file=sys.stderr)
    with open(os.path.join(out, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(OPT_6_7B, f, indent=2, sort_keys=True)
    with open(_marker(out), "w") as f:
        json.dump(stamp, f, sort_keys=True)


def write_plan(base, path):
    ids = torch.randint(3, OPT_6_7B["vocab_size"], (max(PREFILL_TOKENS) + DECODE_STEPS + BEAMS * BEAM_STEPS,),
                        generator=torch.Generator().manual_seed(bench_plan.PROMPT_SEED)).tolist()
    plan = {"set": "paper", "prefill_tokens": PREFILL_TOKENS, "prefill_repeats": 1, "prefill_seconds": 0.0,
            "decode_after": max(PREFILL_TOKENS), "decode_steps": DECODE_STEPS, "beams": BEAMS, "beam_steps": BEAM_STEPS,
            "sgemm_shapes": [], "stream_bytes": bench_plan.STREAM_BYTES,
            "decode_stream_bytes": bench_plan.DECODE_STREAM_BYTES,
            "models": [{"name": NAME, "family": "opt", "weights": "fp16", "dir": folder(base), "prompt_ids": ids}],
            "clip": None, "entity_tree": None, "native_product": None}
    with open(path, "w") as f:
        json.dump(plan, f)


def _one(records, phase, tokens=None):
    found = [r for r in records if r.get("model") == NAME and r.get("phase") == phase
             and (tokens is None or r.get("tokens") == tokens)]
    if not found:
        raise SystemExit(f"paper_model: no {phase} record of {NAME} in the results: did the timing run to its end?")
    return found[-1]


def section(records, peak_rss_kb, files_bytes):
    """The table of BENCHMARKS.md's paper-model section from gemel's records of one run, and the memory line."""
    matrix = report._matrix_params(OPT_6_7B)
    h, layers, vocab = OPT_6_7B["hidden_size"], OPT_6_7B["num_hidden_layers"], OPT_6_7B["vocab_size"]
    heads = OPT_6_7B["num_attention_heads"]
    warm = _one(records, "warm-up")
    lines = ["| phase | gemel | rate | against the same run's probes |", "| --- | --- | --- | --- |",
             f"| open, map and check both shards | {_one(records, 'load')['seconds']:.2f} s | | |",
             f"| first {warm['tokens']}-token prompt (the JIT still compiling), then the last of {warm['runs']} "
             "warm-up ones | "
             f"{warm['first_seconds']:.1f} s, then {warm['last_seconds']:.1f} s | | |"]
    for t in PREFILL_TOKENS:
        r = _one(records, "prefill", t)
        s = min(r["seconds"])
        flops = report.prefill_flops(matrix, vocab * h, layers, heads, h // heads, t)
        probe = statistics.median(r["compute_gflops"])
        lines.append(f"| prefill {t:,} tokens | {s:.1f} s | {t / s:.1f} tok/s, {flops / s / 1e9:.0f} GFLOP/s | "
                     f"{100 * flops / s / 1e9 / probe:.0f} % of a compute probe of {probe:.0f} GFLOP/s just after |")
    after = max(PREFILL_TOKENS)
    for phase, rows, past in (("decode", 1, after), ("beams", BEAMS, after + DECODE_STEPS)):
        r = _one(records, phase)
        s = statistics.median(r["seconds"])
        read = statistics.median(r["stream_gb_per_s"])
        kv = layers * 2 * (past + 1) * h * 4  # the prompt's fp32 keys and values, read once: the rows share them
        gb = ((matrix + vocab * h) * 2 + kv) / 1e9
        what = "decode step, one row" if rows == 1 else f"beam step, {rows} rows on the prompt's shared cache"
        lines.append(f"| {what} (median of {len(r['seconds'])}) | {s:.2f} s | {rows / s:.2f} tok/s, {gb / s:.1f} GB/s of "
                     f"weights, keys and values | {100 * gb / s / read:.0f} % of a read of {read:.1f} GB/s just before |")
    memory = (f"Peak resident set of the whole run: {peak_rss_kb / 2**20:.1f} GiB, the {files_bytes / 1e9:.1f} GB of mapped "
              f"shards included, on a machine of {report._ram_gib():.0f} GiB.")
    return lines, memory


def render(args):
    with open(args.results) as f:
        records = [json.loads(line) for line in f if line.strip()]
    out = folder(args.dir)
    files = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out) if n.endswith(".bin"))
    table, rss = section(records, args.rss_kb, files)
    ctx = report._context(os.path.dirname(args.results), "paper-model")
    text = "\n".join([
        "<!-- section:paper-model -->", "## The paper's model: OPT-6.7B as published (fp16 `.bin` shards)", "",
        "Command: `tools/bench/paper_model.sh`.", "", *report._context_lines(ctx), "",
        f"A random OPT-6.7B ({report._fmt(parameter_count() / 1e9)} B parameters) in facebook/opt-6.7b's layout: fp16 "
        "weights in two PyTorch `.bin` shards (ZIP archives, the first past 4 GB) with their index, tensors named "
        "`decoder.*`, as GEMEL's reference runs it. "
        "gemel maps the shards as they are and widens fp16 to fp32 in its kernels. Prompts and steps as in the decoders "
        f"section (prompt ids at random, logits of the last position only), with one timed prompt per length after "
        f"warm-up prompts; decode and {BEAMS}-row beam steps follow the {max(PREFILL_TOKENS):,}-token prompt, each after a "
        "read of a 512 MiB buffer. No peer runs: PyTorch 1.13 on a CPU would widen the weights to 27 GB of fp32.", "",
        *table, "", rss, "<!-- /section:paper-model -->", ""])
    report.replace_section(args.markdown, "paper-model", text)


def parameter_count():
    """Every parameter of the checkpoint (6,658,473,984 for facebook/opt-6.7b's config)."""
    return sum(math.prod(shape) for _, shape, _ in _tensors(OPT_6_7B))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("--dir", required=True)
    p = sub.add_parser("plan")
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    c = sub.add_parser("context", help="the machine and its load, at the begin or end of the timing")
    c.add_argument("--results", required=True)
    c.add_argument("--stage", choices=["begin", "end"], required=True)
    c.add_argument("--java", default="java")
    r = sub.add_parser("render")
    r.add_argument("--dir", required=True)
    r.add_argument("--results", required=True)
    r.add_argument("--rss-kb", type=int, required=True)
    r.add_argument("--markdown", required=True)
    args = ap.parse_args()
    if args.command == "make":
        make(args.dir)
    elif args.command == "plan":
        write_plan(args.dir, args.out)
    elif args.command == "context":
        report.context(argparse.Namespace(results=args.results, section="paper-model", stage=args.stage, java=args.java,
                                          command="tools/bench/paper_model.sh"))
    else:
        render(args)


if __name__ == "__main__":
    main()
