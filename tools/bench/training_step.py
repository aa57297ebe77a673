"""Training steps (forward + backward to the input embeddings) of an OPT-shaped decoder in plain
PyTorch autograd, beside the same step in gemel (gemel.engine.grad.TrainingStepBench), on the same
random weights and inputs.

    tools/bench/training_step.sh [DIR] [SHAPE]          (all of it: make, torch, gemel with and without recompute)
    /usr/bin/python3 tools/bench/training_step.py make  DIR [--shape opt-125m] [--tokens 1536] [--targets 8]
    /usr/bin/python3 tools/bench/training_step.py torch DIR [--threads 2] [--steps 2]

`make` writes DIR/model (config.json, model.safetensors in F32, std 0.02 as OPT's init), DIR/embeds.npy
[tokens, hidden] (embedding rows of random token ids) and DIR/labels.npy [tokens] (-100 except the last
`targets` tokens, as a GEMEL prompt labels only the entity name). `torch` times the same step `steps`
times with the reference forward of tools/fixtures/decoders/reference.py (logits only at the labelled
rows, as gemel), writes DIR/grad_torch.npy and prints the loss, the seconds and the peak resident memory.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "decoders"))
import reference  # noqa: E402
import safetensors_io  # noqa: E402

SHAPES = {
    "opt-125m": dict(hidden_size=768, num_attention_heads=12, num_hidden_layers=12, ffn_dim=3072),
    "opt-350m-prenorm": dict(hidden_size=1024, num_attention_heads=16, num_hidden_layers=24, ffn_dim=4096),
    "opt-1.3b": dict(hidden_size=2048, num_attention_heads=32, num_hidden_layers=24, ffn_dim=8192),
}


def make(args):
    cfg = dict(architectures=["OPTForCausalLM"], model_type="opt", vocab_size=50272, max_position_embeddings=2048,
               do_layer_norm_before=True, activation_function="relu", word_embed_proj_dim=SHAPES[args.shape]["hidden_size"],
               bos_token_id=2, eos_token_id=2, pad_token_id=1, torch_dtype="float32", **SHAPES[args.shape])
    hidden, ffn = cfg["hidden_size"], cfg["ffn_dim"]
    gen = torch.Generator().manual_seed(0)

    def randn(*shape):
        return torch.randn(*shape, generator=gen) * 0.02

    w = {"model.decoder.embed_tokens.weight": randn(cfg["vocab_size"], hidden),
         "model.decoder.embed_positions.weight": randn(cfg["max_position_embeddings"] + 2, hidden)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.decoder.layers.{i}."
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            w[p + "self_attn." + name + ".weight"] = randn(hidden, hidden)
            w[p + "self_attn." + name + ".bias"] = randn(hidden)
        for name in ("self_attn_layer_norm", "final_layer_norm"):
            w[p + name + ".weight"] = 1 + randn(hidden)
            w[p + name + ".bias"] = randn(hidden)
        w[p + "fc1.weight"], w[p + "fc1.bias"] = randn(ffn, hidden), randn(ffn)
        w[p + "fc2.weight"], w[p + "fc2.bias"] = randn(hidden, ffn), randn(hidden)
    w["model.decoder.final_layer_norm.weight"] = 1 + randn(hidden)
    w["model.decoder.final_layer_norm.bias"] = randn(hidden)
    model = os.path.join(args.dir, "model")
    os.makedirs(model, exist_ok=True)
    with open(os.path.join(model, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    safetensors_io.write(os.path.join(model, "model.safetensors"), w)
    ids = torch.randint(3, cfg["vocab_size"], (args.tokens,), generator=gen)
    np.save(os.path.join(args.dir, "embeds.npy"), w["model.decoder.embed_tokens.weight"][ids].numpy().astype("<f4"))
    labels = np.full(args.tokens, -100, dtype="<i4")
    labels[-args.targets:] = ids[-args.targets:].numpy()
    np.save(os.path.join(args.dir, "labels.npy"), labels)
    print(f"{args.shape}: {sum(t.numel() for t in w.values()) / 1e6:.1f} M parameters, {args.tokens} tokens -> {args.dir}")


def step(args):
    torch.set_num_threads(args.threads)
    model = os.path.join(args.dir, "model")
    with open(os.path.join(model, "config.json")) as f:
        cfg = json.load(f)
    prefix = "model.decoder."
    w = {k[len(prefix):]: v for k, v in safetensors_io.read(os.path.join(model, "model.safetensors")).items()}
    embeds = torch.from_numpy(np.load(os.path.join(args.dir, "embeds.npy")))[None].requires_grad_(True)
    labels = torch.from_numpy(np.load(os.path.join(args.dir, "labels.npy")).astype(np.int64))
    sources = (labels[1:] != -100).nonzero().flatten()  # logits at t score the label at t + 1
    mask = torch.ones(1, embeds.shape[1], dtype=torch.long)
    later = []
    for step in range(args.steps):  # the same step again: the first one pays for whatever torch sets up once
        embeds.grad = None
        start, cpu_start = time.perf_counter(), time.process_time()
        logits = reference.opt_logits(cfg, w, embeds, mask, logit_rows=sources)[0]
        loss = torch.nn.functional.cross_entropy(logits, labels[sources + 1])
        loss.backward()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        if step == 0:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB -> GB
            print(f"torch {torch.__version__}, {args.threads} threads: loss {loss.item():.6f} over {len(sources)} targets; "
                  f"forward + backward {seconds:.2f} s ({cpu_seconds:.1f} s of CPU); peak RSS {peak:.2f} GB")
        else:
            later.append(f"{seconds:.2f} s ({cpu_seconds:.1f} s of CPU)")
    if later:
        print(f"later steps: {', '.join(later)}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
    np.save(os.path.join(args.dir, "grad_torch.npy"), embeds.grad[0].numpy().astype("<f4"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["make", "torch"])
    parser.add_argument("dir")
    parser.add_argument("--shape", default="opt-125m", choices=sorted(SHAPES))
    parser.add_argument("--tokens", type=int, default=1536)
    parser.add_argument("--targets", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2, help="torch: the same step this many times")
    args = parser.parse_args()
    make(args) if args.what == "make" else step(args)


if __name__ == "__main__":
    main()
