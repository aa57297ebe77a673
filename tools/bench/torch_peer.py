"""The PyTorch peer of the gemel benchmarks: the same plan, the same weights, timed in the same run.

Debian's python3-torch 1.13 (sgemm through OpenBLAS from libopenblas0-pthread), 2 threads. Decoders run
the reference forward passes of tools/fixtures/decoders (Hugging Face transformers semantics in plain
torch, eager attention) with a key/value cache grown by concatenation as HF's past_key_values is, and
logits of the last position only, as generation asks for them. Weights stored in bf16 or fp16 are widened
to fp32 on loading and computed in fp32 (torch 1.13 on this CPU has no fast bf16 or fp16 matrix product). The CLIP
vision tower runs the plain-torch CLIPVisionTransformer of tools/fixtures/vision.

Appends one JSON object per measurement to --out; logits rows go to <out dir>/logits/ for the report
to compare with gemel's.

  /usr/bin/python3 tools/bench/torch_peer.py machine --plan P --out R
  /usr/bin/python3 tools/bench/torch_peer.py decoders --plan P --out R --model opt-1.3b-bf16
  /usr/bin/python3 tools/bench/torch_peer.py clip --plan P --out R
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "decoders"))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "vision"))

import make_vision_fixtures  # noqa: E402
import reference  # noqa: E402
import safetensors_io  # noqa: E402

THREADS = 2


class Log:
    """Appends measurements to the results file and says what was measured on stderr."""

    def __init__(self, path, section):
        self.path = path
        self.section = section

    def record(self, **fields):
        rec = {"section": self.section, "impl": "torch", **fields}
        with open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        print("torch " + " ".join(f"{k}={_short(v)}" for k, v in fields.items()), file=sys.stderr, flush=True)


def _short(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return f"[{len(v)} values]" if len(v) > 4 else "[" + ", ".join(str(_short(x)) for x in v) + "]"
    return v


def best_seconds(fn, repeats):
    """Best wall time of `repeats` calls after one untimed call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def machine(plan, log):
    for t, k, n in plan["sgemm_shapes"]:
        x = torch.randn(t, k)
        w = torch.randn(n, k)
        seconds = best_seconds(lambda: x @ w.T, 5)  # as a linear layer multiplies: x [T, K] by W [N, K] transposed
        log.record(kind="sgemm", shape=[t, k, n], seconds=seconds, gflops=2.0 * t * k * n / seconds / 1e9)
    count = plan["stream_bytes"] // 4
    data = torch.ones(count)
    seconds = best_seconds(lambda: data.sum(), 5)
    log.record(kind="stream", bytes=count * 4, seconds=seconds, gb_per_s=count * 4 / seconds / 1e9)


def _load(model):
    with open(os.path.join(model["dir"], "config.json")) as f:
        cfg = json.load(f)
    prefix = "model.decoder." if model["family"] == "opt" else "model."
    tensors = safetensors_io.read(os.path.join(model["dir"], "model.safetensors"))
    return cfg, {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in tensors.items()}


def decoders(plan, log, name, logits_dir):
    model = next((m for m in plan["models"] if m["name"] == name), None)
    if model is None:
        raise SystemExit(f"torch_peer: no model {name} in the plan (have {[m['name'] for m in plan['models']]})")
    start = time.perf_counter()
    cfg, w = _load(model)
    log.record(model=name, phase="load", seconds=time.perf_counter() - start)
    ids = torch.tensor(model["prompt_ids"])
    table = w["embed_tokens.weight"]

    def run(embeds, start, cache):
        """embeds [rows, n, width] at positions [start, start + n) on top of a cache holding [0, start) for every
        row; logits [rows, vocab] of the last position."""
        rows, n = embeds.shape[:2]
        mask = torch.ones(rows, start + n, dtype=torch.int64)
        if model["family"] == "opt":
            logits = reference.opt_logits(cfg, w, embeds, mask, logit_rows=[-1], cache=cache)
        else:
            positions = torch.arange(start, start + n)[None].expand(rows, n)
            logits = reference.llama_logits(cfg, w, embeds, mask, positions, logit_rows=[-1], cache=cache)
        return logits[:, -1]

    def forward(start, end, cache):
        """Positions [start, end) of the prompt on top of a cache holding [0, start); logits [vocab] of the last."""
        return run(table[ids[start:end]][None], start, cache)[0]

    def beam_step(past, s, cache):
        """Beam step s on top of `past` positions: row b takes prompt id past + s * beams + b (as gemel's harness)."""
        first = past + s * beams
        return run(table[ids[first:first + beams]][:, None], past + s, cache)

    def expand(cache):
        """Every beam its own copy of the keys and values, as the reference's beam search holds them."""
        cache[:] = [(k.expand(beams, -1, -1, -1).contiguous(), v.expand(beams, -1, -1, -1).contiguous()) for k, v in cache]

    def timed(stream, count, step):
        """Runs step(s) for s in range(count), each after a timed read of `stream` (the bound of that step);
        the seconds, the reads in GB/s and the last step's logits."""
        stream.sum()
        step_seconds, bandwidth, logits = [], [], None
        for s in range(count):
            begin = time.perf_counter()
            stream.sum()
            bandwidth.append(stream.numel() * 4 / (time.perf_counter() - begin) / 1e9)
            begin = time.perf_counter()
            logits = step(s)
            step_seconds.append(time.perf_counter() - begin)
        return step_seconds, bandwidth, logits

    def save(point, logits):
        file = os.path.join(logits_dir, f"{name}.torch.{point}.npy")
        np.save(file, logits.numpy().astype("<f4"))
        log.record(model=name, phase="logits", point=point, file=file)

    after, steps = plan["decode_after"], plan["decode_steps"]
    beams, beam_steps = plan["beams"], plan["beam_steps"]
    with torch.no_grad():
        warm = []  # a short prompt, two steps and a beam step, so that the timed calls find everything allocated and loaded
        forward(0, 32, warm)
        forward(32, 33, warm)
        forward(33, 34, warm)
        expand(warm)
        beam_step(34, 0, warm)
        if after + steps + beams * beam_steps > len(ids):
            raise SystemExit(f"torch_peer: the plan's prompt for {name} has {len(ids)} ids, {after + steps + beams * beam_steps} needed")
        for tokens in plan["prefill_tokens"]:
            seconds, timed_from = [], None
            # at least prefill_repeats timed runs, and more until prefill_seconds have passed, as gemel's harness does
            while len(seconds) < plan["prefill_repeats"] or time.perf_counter() - timed_from < plan["prefill_seconds"]:
                cache = []
                begin = time.perf_counter()
                logits = forward(0, tokens, cache)
                if timed_from is None:  # one untimed run first
                    timed_from = time.perf_counter()
                else:
                    seconds.append(time.perf_counter() - begin)
            log.record(model=name, phase="prefill", tokens=tokens, seconds=seconds)
            if tokens == after:
                save(f"prefill-{after}", logits)
                # the machine's read bandwidth changes from minute to minute: a read just before each step
                # gives the bound that step ran against
                stream = torch.ones(plan["decode_stream_bytes"] // 4)
                step_seconds, bandwidth, logits = timed(stream, steps, lambda s: forward(after + s, after + s + 1, cache))
                log.record(model=name, phase="decode", after=after, seconds=step_seconds, stream_gb_per_s=bandwidth)
                save(f"decode-{steps}", logits)
                expand(cache)
                step_seconds, bandwidth, logits = timed(stream, beam_steps, lambda s: beam_step(after + steps, s, cache))
                log.record(model=name, phase="beams", rows=beams, after=after + steps, seconds=step_seconds, stream_gb_per_s=bandwidth)
                save(f"beams-{beam_steps}", logits)
                del stream


def clip(plan, log, outputs_dir):
    spec = plan["clip"]
    start = time.perf_counter()
    with open(os.path.join(spec["dir"], "config.json")) as f:
        cfg = json.load(f)
    w = safetensors_io.read(os.path.join(spec["dir"], "model.safetensors"))
    log.record(model=spec["name"], phase="load", seconds=time.perf_counter() - start)
    pixels = torch.from_numpy(np.load(spec["pixels"]))  # [batch, channels, size, size]
    with torch.no_grad():
        make_vision_fixtures.clip_vision(w, cfg, pixels[:1])  # untimed: one image
        start = time.perf_counter()
        pooled, _, _ = make_vision_fixtures.clip_vision(w, cfg, pixels)
        seconds = time.perf_counter() - start
    log.record(model=spec["name"], phase="encode", images=pixels.shape[0], seconds=seconds)
    file = os.path.join(outputs_dir, f"{spec['name']}.torch.pooled.npy")
    np.save(file, pooled.numpy().astype("<f4"))
    log.record(model=spec["name"], phase="pooled", file=file)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("section", choices=["machine", "decoders", "clip"])
    ap.add_argument("--plan", required=True)
    ap.add_argument("--out", required=True, help="results file (JSON lines), appended to")
    ap.add_argument("--model", help="decoders: the plan's model to time")
    args = ap.parse_args()
    torch.set_num_threads(THREADS)
    with open(args.plan) as f:
        plan = json.load(f)
    log = Log(args.out, args.section)
    if args.section == "machine":
        log.record(kind="setup", torch=torch.__version__, threads=torch.get_num_threads(),
                   openblas_env={k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")})
        machine(plan, log)
        return
    outputs_dir = os.path.join(os.path.dirname(os.path.abspath(args.out)), "logits")
    os.makedirs(outputs_dir, exist_ok=True)
    if args.section == "clip":
        clip(plan, log, outputs_dir)
    elif not args.model:
        raise SystemExit("torch_peer: decoders needs --model")
    else:
        decoders(plan, log, args.model, outputs_dir)


if __name__ == "__main__":
    main()
