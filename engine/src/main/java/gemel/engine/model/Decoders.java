package gemel.engine.model;

import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.WeightSource;
import java.nio.file.Path;

/** Builds the {@link CausalLM} a Hugging Face config names, over weights already opened. */
public final class Decoders {
    private Decoders() {}

    /** The model in a Hugging Face folder: {@code config.json} and its weights (safetensors or .bin, sharded or not). */
    public static CausalLM load(Path dir) {
        HfConfig config = HfConfig.load(dir);
        return load(config, Checkpoint.open(dir));
    }

    /** OPT, Llama, Mistral or Qwen2 per {@code architectures}; any other is an error naming it. Takes ownership of {@code weights}. */
    public static CausalLM load(HfConfig config, WeightSource weights) {
        Weights w = new Weights(weights, config);
        try {
            return switch (config.architecture()) {
                case "OPTForCausalLM" -> OptDecoder.load(w);
                case "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM" -> LlamaDecoder.load(w);
                default -> throw new IllegalArgumentException(config.file() + ": unsupported architecture " + config.architecture()
                        + " (gemel runs OPTForCausalLM, LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)");
            };
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }
}
