"""The benchmark plan: which random models at which real shapes, prompt lengths, matrix shapes, sizes.

Writes <dir>/plan.json, read by both the gemel harness (gemel.bench.Bench) and the PyTorch peer
(torch_peer.py), so both time the same things; and generates each model ONCE as a Hugging Face folder
(config.json + model.safetensors) under <dir>/models with the fixture code of tools/fixtures/decoders
(decoders; the CLIP vision tower's random weights are drawn here, written by the same safetensors writer),
and the CLIP input pixels as <dir>/models/<clip name>-pixels.npy.
A folder is complete when its marker file holds the config it was made from; anything else is remade.

Disk: the `real` set needs about 20 GB (OPT-125m 1 GB and OPT-1.3b 10.5 GB in fp32, bf16 and fp16; Llama-1B 7.4 GB
in fp32 and bf16; CLIP ViT-L/14 1.2 GB); generating OPT-1.3b holds about 11 GB of RAM for a minute.

  /usr/bin/python3 tools/bench/plan.py --dir /tmp/gemel-bench --set real [--generate]
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

import checkpoints  # noqa: E402
import safetensors_io  # noqa: E402

# The fixture generator draws linear weights with std 0.2, right for width 32; at real widths that
# multiplies activations layer after layer until they overflow. Scaled to HF's init_std 0.02 the
# numbers stay finite, so gemel's and PyTorch's logits can be compared as a check of the timing.
LINEAR_SCALE = 0.1

OPT_125M = {
    "_remove_final_layer_norm": False, "activation_dropout": 0.0, "activation_function": "relu",
    "architectures": ["OPTForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 2, "do_layer_norm_before": True,
    "dropout": 0.1, "enable_bias": True, "eos_token_id": 2, "ffn_dim": 3072, "hidden_size": 768, "init_std": 0.02,
    "layer_norm_elementwise_affine": True, "layerdrop": 0.0, "max_position_embeddings": 2048, "model_type": "opt",
    "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1, "prefix": "</s>", "torch_dtype": "float16",
    "transformers_version": "4.21.0.dev0", "use_cache": True, "vocab_size": 50272, "word_embed_proj_dim": 768,
}
OPT_1_3B = dict(OPT_125M, ffn_dim=8192, hidden_size=2048, num_attention_heads=32, num_hidden_layers=24,
                word_embed_proj_dim=2048)
LLAMA_1B = {  # meta-llama/Llama-3.2-1B
    "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 128000,
    "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
    "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": False, "model_type": "llama",
    "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1,
    "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                            "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "tie_word_embeddings": True, "torch_dtype": "bfloat16", "transformers_version": "4.45.0.dev0",
    "use_cache": True, "vocab_size": 128256,
}
CLIP_L14 = {  # the vision tower of openai/clip-vit-large-patch14, as a CLIPVisionModel folder
    "architectures": ["CLIPVisionModel"], "hidden_act": "quick_gelu", "hidden_size": 1024, "image_size": 224,
    "intermediate_size": 4096, "layer_norm_eps": 1e-05, "model_type": "clip_vision_model", "num_attention_heads": 16,
    "num_channels": 3, "num_hidden_layers": 24, "patch_size": 14, "torch_dtype": "float32",
}
# Small stand-ins with the same structure, for trying the harness in seconds.
OPT_DEV = dict(OPT_125M, ffn_dim=1024, hidden_size=256, num_attention_heads=4, num_hidden_layers=4,
               word_embed_proj_dim=256, vocab_size=8192)
LLAMA_DEV = dict(LLAMA_1B, head_dim=64, hidden_size=256, intermediate_size=768, num_attention_heads=4,
                 num_hidden_layers=4, num_key_value_heads=2, vocab_size=8192)
CLIP_DEV = dict(CLIP_L14, hidden_size=128, intermediate_size=512, num_attention_heads=4, num_hidden_layers=2)

SETS = {
    "real": {"models": [("opt-125m", "opt", OPT_125M), ("opt-1.3b", "opt", OPT_1_3B), ("llama-1b", "llama", LLAMA_1B)],
             # best of at least two prefills (one timing moved a row by up to 10 points), and of as many as fit in 5 s: a short
             # prompt's best is then not decided by one stall of the shared machine
             "prefill_repeats": 2, "prefill_seconds": 5.0, "decode_steps": 16, "beam_steps": 8,
             "clip": ("clip-vit-l14", CLIP_L14), "tree_names": 5_000_000,
             "native_product": {"bytes": 512 << 20, "rounds": 60}},
    "dev": {"models": [("opt-dev", "opt", OPT_DEV), ("llama-dev", "llama", LLAMA_DEV)],
            "prefill_repeats": 2, "prefill_seconds": 0.5, "decode_steps": 8, "beam_steps": 4, "clip": ("clip-dev", CLIP_DEV),
            "tree_names": 200_000, "native_product": {"bytes": 64 << 20, "rounds": 6}},
}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
# fp32 and bf16 copies of every model; fp16 too for OPT, whose checkpoints are published in fp16 (opt-6.7b as well)
FAMILY_DTYPES = {"opt": ["fp32", "bf16", "fp16"], "llama": ["fp32", "bf16"]}
PREFILL_TOKENS = [512, 1536]
DECODE_AFTER = 512
BEAMS = 5  # GEMEL's num_beams: after the decode steps, steps of this many rows on the prompt's cache
# [T, K] x [K, N] at the decoder shapes: q/k/v/o and the MLP of OPT-125m and of the 2048-wide models.
SGEMM_SHAPES = [[512, 768, 768], [512, 768, 3072], [512, 2048, 2048], [512, 2048, 8192], [512, 8192, 2048],
                [1536, 2048, 8192]]
STREAM_BYTES = 2 << 30
DECODE_STREAM_BYTES = 512 << 20  # read by each side just before each decode step: far more than the caches
PROMPT_SEED = 2024
CLIP_BATCH = 4
OPT_VOCAB = 50272


def _marker(folder):
    return os.path.join(folder, ".gemel-bench-complete")


def _stamp(cfg, dtype_name, seed):
    """What a folder is made from; a folder whose marker differs is made again."""
    return {"config": cfg, "weights": dtype_name, "seed": seed, "linear_scale": LINEAR_SCALE}


def _complete(folder, stamp):
    try:
        with open(_marker(folder)) as f:
            return json.load(f) == stamp
    except (OSError, ValueError):
        return False


def generate(name, family, cfg, folders, seed):
    """Writes the model once per dtype from the same random weights; skips folders already complete."""
    todo = {d: f for d, f in folders.items() if not _complete(f, _stamp(cfg, d, seed))}
    if not todo:
        return
    start = time.time()
    make = checkpoints.opt_weights if family == "opt" else checkpoints.llama_weights
    w = make(cfg, seed)
    for key, t in w.items():
        if key.endswith(".weight") and t.dim() == 2 and "embed" not in key:
            t.mul_(LINEAR_SCALE)
    prefix = "model.decoder." if family == "opt" else "model."
    for dtype_name, folder in todo.items():
        stored = dict(cfg, torch_dtype=str(DTYPES[dtype_name]).removeprefix("torch."))  # float32, bfloat16, float16
        if os.path.exists(_marker(folder)):
            os.remove(_marker(folder))
        checkpoints.write_folder(folder, stored, w, prefix, "safetensors", DTYPES[dtype_name])
        with open(_marker(folder), "w") as f:
            json.dump(_stamp(cfg, dtype_name, seed), f, sort_keys=True)
        size = os.path.getsize(os.path.join(folder, "model.safetensors"))
        print(f"plan: wrote {folder} ({size / 1e9:.2f} GB, {time.time() - start:.0f} s so far)", file=sys.stderr)


def clip_vision_weights(cfg, seed):
    """Random CLIP vision tower weights under the names of a CLIPVisionModel checkpoint; linear weights with
    HF's initializer std 0.02 so that activations stay of order 1 through 24 layers."""
    gen = torch.Generator().manual_seed(seed)
    d, f, p, c = cfg["hidden_size"], cfg["intermediate_size"], cfg["patch_size"], cfg["num_channels"]
    tokens = (cfg["image_size"] // p) ** 2 + 1

    def normal(*shape, std=0.02):
        return torch.randn(*shape, generator=gen) * std

    w = {"vision_model.embeddings.class_embedding": normal(d, std=1.0),
         "vision_model.embeddings.patch_embedding.weight": normal(d, c, p, p),
         "vision_model.embeddings.position_embedding.weight": normal(tokens, d, std=0.2),
         "vision_model.pre_layrnorm.weight": 1 + normal(d, std=0.2), "vision_model.pre_layrnorm.bias": normal(d, std=0.1),
         "vision_model.post_layernorm.weight": 1 + normal(d, std=0.2), "vision_model.post_layernorm.bias": normal(d, std=0.1)}
    for i in range(cfg["num_hidden_layers"]):
        l = f"vision_model.encoder.layers.{i}."
        for name, rows, cols in (("self_attn.q_proj", d, d), ("self_attn.k_proj", d, d), ("self_attn.v_proj", d, d),
                                 ("self_attn.out_proj", d, d), ("mlp.fc1", f, d), ("mlp.fc2", d, f)):
            w[l + name + ".weight"] = normal(rows, cols)
            w[l + name + ".bias"] = normal(rows, std=0.1)
        for norm in ("layer_norm1", "layer_norm2"):
            w[l + norm + ".weight"] = 1 + normal(d, std=0.2)
            w[l + norm + ".bias"] = normal(d, std=0.1)
    return w


def generate_clip(cfg, folder, pixels_file, seed):
    stamp = _stamp(cfg, "fp32", seed)
    if not _complete(folder, stamp):
        os.makedirs(folder, exist_ok=True)
        if os.path.exists(_marker(folder)):
            os.remove(_marker(folder))
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
        safetensors_io.write(os.path.join(folder, "model.safetensors"), clip_vision_weights(cfg, seed))
        with open(_marker(folder), "w") as f:
            json.dump(stamp, f, sort_keys=True)
        print(f"plan: wrote {folder}", file=sys.stderr)
    # pixel values as CLIPImageProcessor leaves them: normalized, about unit scale
    pixels = torch.randn(CLIP_BATCH, cfg["num_channels"], cfg["image_size"], cfg["image_size"],
                         generator=torch.Generator().manual_seed(seed + 1))
    np.save(pixels_file, pixels.numpy().astype("<f4"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="scratch folder outside the repository")
    ap.add_argument("--set", choices=sorted(SETS), default="real")
    ap.add_argument("--generate", action="store_true", help="also write any model folder not yet complete")
    args = ap.parse_args()
    chosen = SETS[args.set]
    models = []
    for i, (name, family, cfg) in enumerate(chosen["models"]):
        folders = {d: os.path.join(args.dir, "models", f"{name}-{d}") for d in FAMILY_DTYPES[family]}
        if args.generate:
            generate(name, family, cfg, folders, seed=1000 + i)
        ids = torch.randint(3, cfg["vocab_size"], (max(PREFILL_TOKENS) + chosen["decode_steps"],),
                            generator=torch.Generator().manual_seed(PROMPT_SEED)).tolist()
        for d, folder in folders.items():
            models.append({"name": f"{name}-{d}", "family": family, "weights": d, "dir": folder, "prompt_ids": ids})
    clip_name, clip_cfg = chosen["clip"]
    clip = {"name": clip_name, "dir": os.path.join(args.dir, "models", clip_name),
            "pixels": os.path.join(args.dir, "models", f"{clip_name}-pixels.npy"), "batch": CLIP_BATCH}
    if args.generate:
        generate_clip(clip_cfg, clip["dir"], clip["pixels"], seed=3000)
    plan = {
        "set": args.set,
        "prefill_tokens": PREFILL_TOKENS,
        "prefill_repeats": chosen["prefill_repeats"],
        "prefill_seconds": chosen["prefill_seconds"],
        "decode_after": DECODE_AFTER,
        "decode_steps": chosen["decode_steps"],
        "beams": BEAMS,
        "beam_steps": chosen["beam_steps"],
        "sgemm_shapes": SGEMM_SHAPES,
        "stream_bytes": STREAM_BYTES,
        "decode_stream_bytes": DECODE_STREAM_BYTES,
        "models": models,
        "clip": clip,
        # synthetic names as OPT token ids, each [2, ids..., 2] as GEMEL's tree stores them
        "entity_tree": {"names": chosen["tree_names"], "vocab": OPT_VOCAB, "start_token": 2, "lookups": 1_000_000, "seed": 5},
        # one token times a random weight far larger than the caches, at the row widths of the 2048-wide models' layers
        "native_product": dict(chosen["native_product"], widths=[2048, 8192], seed=7),
    }
    os.makedirs(args.dir, exist_ok=True)
    tmp = os.path.join(args.dir, "plan.json.tmp")
    with open(tmp, "w") as f:
        json.dump(plan, f)
    os.replace(tmp, os.path.join(args.dir, "plan.json"))


if __name__ == "__main__":
    main()
