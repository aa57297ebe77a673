package gemel.engine.io;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tensors of a model split over several shard files, as an index json maps them. Only the
 * tensors the index names are visible; closing closes every shard.
 */
final class ShardedWeights implements WeightSource {
    private final Path folder;
    private final Map<String, WeightSource> shardOf;
    private final List<WeightSource> shards;

    ShardedWeights(Path folder, Map<String, WeightSource> shardOf, List<WeightSource> shards) {
        this.folder = folder;
        this.shardOf = Collections.unmodifiableMap(shardOf);
        this.shards = List.copyOf(shards);
    }

    @Override
    public Set<String> names() { return shardOf.keySet(); }

    @Override
    public TensorView tensor(String name) {
        WeightSource shard = shardOf.get(name);
        if (shard == null) throw new IllegalArgumentException("no tensor " + name + " in " + folder);
        return shard.tensor(name);
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (WeightSource shard : shards) {
            try {
                shard.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }
}
