"""Tests of report.py: the counts behind every bound, and the rewriting of BENCHMARKS.md's sections.

  /usr/bin/python3 -m unittest discover -s tools/bench      (needs numpy; .ci/run runs it)
"""
import json
import os
import struct
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

OPT_125M = {"model_type": "opt", "hidden_size": 768, "num_hidden_layers": 12, "ffn_dim": 3072, "num_attention_heads": 12,
            "vocab_size": 50272, "max_position_embeddings": 2048, "word_embed_proj_dim": 768}
OPT_350M = dict(OPT_125M, hidden_size=1024, num_hidden_layers=24, ffn_dim=4096, num_attention_heads=16, word_embed_proj_dim=512)
LLAMA_32_1B = {"model_type": "llama", "hidden_size": 2048, "num_hidden_layers": 16, "intermediate_size": 8192,
               "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256}


class MatrixParameters(unittest.TestCase):
    """The per-token matrices a config implies are the published parameter counts less the embeddings and vectors."""

    def test_opt_125m(self):
        h, layers, ffn = 768, 12, 3072
        vectors = layers * (4 * h + ffn + h + 4 * h) + 2 * h  # biases, two layer norms a layer, the final norm
        published = 125_239_296
        self.assertEqual(published - 50272 * h - 2050 * h - vectors, report._matrix_params(OPT_125M))

    def test_opt_350m_counts_its_projections(self):
        h, layers, ffn = 1024, 24, 4096
        vectors = layers * (4 * h + ffn + h + 4 * h)  # post-layer-norm: no final norm
        published = 331_196_416
        self.assertEqual(published - 50272 * 512 - 2050 * h - vectors, report._matrix_params(OPT_350M))

    def test_llama_32_1b_with_grouped_keys(self):
        h, layers = 2048, 16
        published = 1_235_814_400  # tied head
        self.assertEqual(published - 128256 * h - (2 * layers + 1) * h, report._matrix_params(LLAMA_32_1B))


def _write_model(folder, cfg, tensors):
    """config.json and a model.safetensors whose header lists the tensors (the counts read nothing else)."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        n = report.Shape.BYTES[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + bytes(offset))


TINY_LLAMA = {"model_type": "llama", "hidden_size": 8, "num_hidden_layers": 2, "intermediate_size": 16,
              "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 10}


def _tiny_llama_tensors(dtype, drop=None):
    t = {"model.embed_tokens.weight": (dtype, [10, 8]), "lm_head.weight": (dtype, [10, 8]), "model.norm.weight": (dtype, [8])}
    for i in range(2):
        p = f"model.layers.{i}."
        t.update({p + "self_attn.q_proj.weight": (dtype, [8, 8]), p + "self_attn.k_proj.weight": (dtype, [4, 8]),
                  p + "self_attn.v_proj.weight": (dtype, [4, 8]), p + "self_attn.o_proj.weight": (dtype, [8, 8]),
                  p + "mlp.gate_proj.weight": (dtype, [16, 8]), p + "mlp.up_proj.weight": (dtype, [16, 8]),
                  p + "mlp.down_proj.weight": (dtype, [8, 16]), p + "input_layernorm.weight": (dtype, [8]),
                  p + "post_attention_layernorm.weight": (dtype, [8])})
    t.pop(drop, None)
    return t


class ShapeOfACheckpoint(unittest.TestCase):
    def test_flops_and_bytes_by_hand(self):
        with tempfile.TemporaryDirectory() as d:
            _write_model(d, TINY_LLAMA, _tiny_llama_tensors("BF16"))
            s = report.Shape({"dir": d})
            # per layer q 64, k 32, v 32, o 64, gate, up, down 128 each: 576; two layers
            self.assertEqual(1152, s.token_params)
            self.assertEqual(80, s.head_params)
            self.assertEqual(2, s.stored_bytes)
            # 5 tokens: matrices on all, the head on one, q.k and p.v over 15 causal pairs, 2 layers x 2 heads x 4 dims
            self.assertEqual(2 * 1152 * 5 + 2 * 80 + 2 * (2 * 2 * 4 * 15) * 2, s.prefill_flops(5))
            # a step after 3 positions: weights once in bf16, fp32 keys and values of 4 positions, 1 key/value head of 4
            self.assertEqual((1152 + 80) * 2 + 2 * 2 * 4 * 1 * 4 * 4, s.step_bytes(3, 2))
            self.assertEqual((1152 + 80) * 2 + 5 * 2 * 2 * 4 * 1 * 4 * 4, s.step_bytes(3, 2, rows=5))

    def test_a_checkpoint_missing_a_matrix_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            _write_model(d, TINY_LLAMA, _tiny_llama_tensors("F32", drop="model.layers.1.mlp.up_proj.weight"))
            with self.assertRaises(SystemExit) as e:
                report.Shape({"dir": d})
            self.assertIn("its config implies 1152", str(e.exception))

    def test_mixed_dtypes_are_refused(self):
        with tempfile.TemporaryDirectory() as d:
            tensors = _tiny_llama_tensors("F32")
            tensors["lm_head.weight"] = ("BF16", [10, 8])
            _write_model(d, TINY_LLAMA, tensors)
            with self.assertRaises(SystemExit) as e:
                report.Shape({"dir": d})
            self.assertIn("mixes dtypes", str(e.exception))


class ComputeProbes(unittest.TestCase):
    def test_medians_beside_decode_steps_and_prompts_of_gemel_only(self):
        records = [
            {"impl": "gemel", "model": "m", "phase": "prefill", "tokens": 1536, "seconds": [2.0], "compute_gflops": [100.0, 300.0, 200.0]},
            {"impl": "gemel", "model": "m", "phase": "prefill", "tokens": 512, "seconds": [1.0], "compute_gflops": [150.0]},
            {"impl": "gemel", "model": "m", "phase": "decode", "seconds": [0.1], "compute_gflops": [210.0, 230.0]},
            {"impl": "gemel", "model": "m", "phase": "beams", "seconds": [0.1], "compute_gflops": [5.0]},
            {"impl": "torch", "model": "m", "phase": "prefill", "tokens": 512, "seconds": [3.0]},
            {"impl": "gemel", "model": "old", "phase": "prefill", "tokens": 512, "seconds": [1.0]},  # a run before the probe
        ]
        text = "\n".join(report.probe_lines(records))
        self.assertIn("decode steps, GFLOP/s", text)
        self.assertIn("m 220.", text)
        self.assertIn("m 512 tokens 150, 1536 tokens 200.", text)
        self.assertNotIn("old", text)
        self.assertEqual([], report.probe_lines(records[4:]))


class MachineSection(unittest.TestCase):
    PLAN = {"set": "dev", "sgemm_shapes": [[512, 768, 768], [512, 2048, 2048]], "stream_bytes": 2 * 2**30}
    RECORDS = [
        {"impl": "gemel", "kind": "setup", "cores": 2, "vector_bits": 256},
        {"impl": "gemel", "kind": "stream", "gb_per_s": 40.0},
        {"impl": "torch", "kind": "stream", "gb_per_s": 30.0},
        {"impl": "torch", "kind": "sgemm", "shape": [512, 768, 768], "gflops": 200.0},
        {"impl": "torch", "kind": "sgemm", "shape": [512, 2048, 2048], "gflops": 300.0},
        {"impl": "gemel", "kind": "matmul", "weights": "F32", "shape": [512, 768, 768], "gflops": 100.0},
        {"impl": "gemel", "kind": "matmul", "weights": "BF16", "shape": [512, 768, 768], "gflops": 150.0},
        {"impl": "gemel", "kind": "matmul", "weights": "F32", "shape": [512, 2048, 2048], "gflops": 330.0},
    ]
    CONTEXT = {"begin": {"utc": "2026-11-28 01:00 UTC", "load": [0.5, 0.5, 0.5]},
               "end": {"utc": "2026-11-28 01:05 UTC", "load": [2.0, 1.9, 1.0]},
               "nproc": 2, "cpu": "a processor", "ram_gib": 24.0, "jdk": "openjdk 25", "torch": "1.13",
               "blas": "/usr/lib/libblas.so.3", "openblas_env": {}, "command": "tools/bench/run.sh machine", "commit": "abc1234"}

    def _setup(self, d, markdown_text):
        results = os.path.join(d, "results")
        os.makedirs(results)
        with open(os.path.join(results, "machine.jsonl"), "w") as f:
            f.writelines(json.dumps(dict(r, section="machine")) + "\n" for r in self.RECORDS)
        with open(os.path.join(results, "machine.context.json"), "w") as f:
            json.dump(self.CONTEXT, f)
        plan = os.path.join(d, "plan.json")
        with open(plan, "w") as f:
            json.dump(self.PLAN, f)
        markdown = os.path.join(d, "B.md")
        with open(markdown, "w") as f:
            f.write(markdown_text)
        return results, plan, markdown

    def _render(self, results, plan, markdown):
        argv = ["report.py", "render", "--results", results, "--section", "machine", "--plan", plan, "--markdown", markdown]
        with mock.patch.object(sys, "argv", argv), mock.patch.object(sys, "stderr", open(os.devnull, "w")):
            report.main()
        with open(markdown) as f:
            return f.read()

    def test_bounds_are_the_best_sgemm_and_the_higher_read(self):
        self.assertEqual((300.0, 40.0), report.bounds(self.RECORDS))

    def test_render_rewrites_its_section_only(self):
        before = "# Benchmarks\n\nHand-written text.\n\n"
        after = "\nMore hand-written text.\n\n<!-- section:clip -->\nCLIP\n<!-- /section:clip -->\n"
        old = "<!-- section:machine -->\nan old table\n<!-- /section:machine -->\n"
        with tempfile.TemporaryDirectory() as d:
            doc = self._render(*self._setup(d, before + old + after))
            self.assertTrue(doc.startswith(before), doc[:200])
            self.assertTrue(doc.endswith(after), doc[-200:])
            self.assertNotIn("an old table", doc)
            self.assertIn("| [512, 768] x [768, 768] | 200 | 100 | 150 | 0.5 |", doc)
            self.assertIn("| [512, 2048] x [2048, 2048] | 300 | 330 | - | 1.1 |", doc)
            self.assertIn("**sgemm 300 GFLOP/s**", doc)
            self.assertIn("**bandwidth 40 GB/s**", doc)
            self.assertIn("256-bit vectors", doc)
            self.assertIn("commit abc1234", doc)
            self.assertNotIn("Other work shared", doc)  # loads of 2.0 at most: the benchmark's own 2 threads
            self.assertEqual([], [n for n in os.listdir(d) if n.endswith(".tmp")])

    def test_render_appends_a_missing_section_and_flags_a_loaded_machine(self):
        with tempfile.TemporaryDirectory() as d:
            results, plan, markdown = self._setup(d, "# Benchmarks\n\nText.\n")
            with open(os.path.join(results, "machine.context.json"), "w") as f:
                json.dump(dict(self.CONTEXT, end={"utc": "2026-11-28 01:05 UTC", "load": [3.1, 2.0, 1.0]}), f)
            doc = self._render(results, plan, markdown)
            self.assertTrue(doc.startswith("# Benchmarks\n\nText.\n\n<!-- section:machine -->\n"), doc[:200])
            self.assertTrue(doc.endswith("<!-- /section:machine -->\n"))
            self.assertIn("Other work shared the 2 cores during this run", doc)


if __name__ == "__main__":
    unittest.main()
