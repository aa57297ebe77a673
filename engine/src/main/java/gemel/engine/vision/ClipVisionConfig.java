package gemel.engine.vision;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.config.HfConfig;
import gemel.engine.kernel.Activation;

/**
 * The shape of a CLIP vision tower, from the {@code config.json} of a {@code CLIPModel} (under
 * {@code vision_config}, overridden by {@code vision_config_dict} in older files) or of a {@code CLIPVisionModel} / {@code CLIPVisionModelWithProjection}
 * (the file itself). Defaults are transformers' {@code CLIPVisionConfig} defaults.
 */
public record ClipVisionConfig(int hiddenSize, int intermediateSize, int heads, int layers, int imageSize, int patchSize,
                               int channels, Activation activation, float layerNormEps) {

    public ClipVisionConfig {
        if (hiddenSize % heads != 0) throw new IllegalArgumentException("CLIP vision: hidden_size " + hiddenSize + " is not a multiple of " + heads + " heads");
        if (imageSize % patchSize != 0) throw new IllegalArgumentException("CLIP vision: image_size " + imageSize + " is not a multiple of patch_size " + patchSize);
    }

    public static ClipVisionConfig from(HfConfig config) {
        boolean nested = config.has("vision_config") || config.has("vision_config_dict");
        HfConfig v = config;
        if (nested) {
            // Older CLIPModel configs also carry "vision_config_dict"; transformers lets its values win.
            ObjectNode merged = JsonNodeFactory.instance.objectNode();
            merged.setAll((ObjectNode) config.sub("vision_config").json());
            merged.setAll((ObjectNode) config.sub("vision_config_dict").json());
            v = HfConfig.of(config.file(), merged);
        }
        String type = config.modelType();
        if (!nested && !type.isEmpty() && !type.equals("clip_vision_model"))
            throw new IllegalArgumentException(config.file() + ": model_type \"" + type + "\" is not a CLIP model (expected clip or clip_vision_model)");
        return new ClipVisionConfig(v.integer("hidden_size", 768), v.integer("intermediate_size", 3072),
                v.integer("num_attention_heads", 12), v.integer("num_hidden_layers", 12), v.integer("image_size", 224),
                v.integer("patch_size", 32), v.integer("num_channels", 3),
                Activation.fromHf(v.string("hidden_act", "quick_gelu"), config.file().toString()),
                (float) v.number("layer_norm_eps", 1e-5));
    }

    public int headDim() { return hiddenSize / heads; }

    /** Patches along one side of the image. */
    public int grid() { return imageSize / patchSize; }

    /** Positions per image: the class token, then the patches row by row. */
    public int tokens() { return grid() * grid() + 1; }
}
