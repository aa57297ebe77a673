package gemel.engine.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Opens the weights of a Hugging Face model folder as downloaded, whichever of the four layouts it
 * uses: {@code model.safetensors}, {@code model.safetensors.index.json} with its shards,
 * {@code pytorch_model.bin}, or {@code pytorch_model.bin.index.json} with its shards. Safetensors is
 * preferred when both kinds are present (it maps without parsing a pickle).
 */
public final class Checkpoint {
    static final String SAFETENSORS = "model.safetensors";
    static final String SAFETENSORS_INDEX = "model.safetensors.index.json";
    static final String TORCH = "pytorch_model.bin";
    static final String TORCH_INDEX = "pytorch_model.bin.index.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Checkpoint() {}

    /**
     * The weights in {@code path}: a model folder, or a single checkpoint file ({@code .safetensors},
     * else a {@code torch.save} zip).
     */
    public static WeightSource open(Path path) {
        if (Files.isRegularFile(path)) return openFile(path);
        if (!Files.isDirectory(path)) throw new IllegalArgumentException("no such checkpoint file or folder: " + path);
        if (Files.isRegularFile(path.resolve(SAFETENSORS))) return SafetensorsFile.open(path.resolve(SAFETENSORS));
        if (Files.isRegularFile(path.resolve(SAFETENSORS_INDEX))) return openSharded(path.resolve(SAFETENSORS_INDEX), SafetensorsFile::open);
        if (Files.isRegularFile(path.resolve(TORCH))) return TorchCheckpoint.open(path.resolve(TORCH));
        if (Files.isRegularFile(path.resolve(TORCH_INDEX))) return openSharded(path.resolve(TORCH_INDEX), TorchCheckpoint::open);
        throw new IllegalArgumentException("no weights in " + path + ": expected one of " + SAFETENSORS + ", " + SAFETENSORS_INDEX
                + ", " + TORCH + ", " + TORCH_INDEX);
    }

    private static WeightSource openFile(Path file) {
        return file.getFileName().toString().endsWith(".safetensors") ? SafetensorsFile.open(file) : TorchCheckpoint.open(file);
    }

    /** Opens every shard an index names and checks that each holds the tensors the index puts there. */
    static WeightSource openSharded(Path index, Function<Path, WeightSource> openShard) {
        Path folder = index.toAbsolutePath().getParent();
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, WeightSource> openShards = new LinkedHashMap<>();
        Map<String, WeightSource> shardOf = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String shardName = e.getValue();
                WeightSource shard = openShards.get(shardName);
                if (shard == null) {
                    Path shardFile = folder.resolve(shardName).normalize();
                    if (!folder.equals(shardFile.getParent()))
                        throw new IllegalArgumentException(index + ": shard " + shardName + " is not a file name inside " + folder);
                    if (!Files.isRegularFile(shardFile))
                        throw new IllegalArgumentException(index + ": shard " + shardName + " is missing from " + folder);
                    shard = openShard.apply(shardFile);
                    openShards.put(shardName, shard);
                }
                if (!shard.contains(e.getKey()))
                    throw new IllegalArgumentException(index + " puts tensor " + e.getKey() + " in shard " + shardName + ", which lacks it");
                shardOf.put(e.getKey(), shard);
            }
        } catch (RuntimeException e) {
            for (WeightSource shard : openShards.values()) shard.close();
            throw e;
        }
        return new ShardedWeights(folder, shardOf, new ArrayList<>(openShards.values()));
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(index + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(index + ": cannot read: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new IllegalArgumentException(index + ": no \"weight_map\" object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) throw new IllegalArgumentException(index + ": weight_map entry " + e.getKey() + " is not a file name");
            weightMap.put(e.getKey(), e.getValue().asText());
        }
        if (weightMap.isEmpty()) throw new IllegalArgumentException(index + ": empty weight_map");
        return weightMap;
    }
}
