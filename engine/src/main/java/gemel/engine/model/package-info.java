/**
 * Decoder-only language models loaded from Hugging Face folders ({@link gemel.engine.model.Decoders}):
 * OPT ({@link gemel.engine.model.OptDecoder}) and the Llama family ({@link gemel.engine.model.LlamaDecoder}:
 * Llama, Mistral, Qwen2), behind {@link gemel.engine.model.CausalLM}, with a KV cache whose forks share a
 * prompt between beams ({@link gemel.engine.model.ArrayKvCache}).
 */
package gemel.engine.model;
