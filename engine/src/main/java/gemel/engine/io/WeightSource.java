package gemel.engine.io;

import java.util.Set;

/** Named tensors of one model, as stored (one file or many shards). Closing it unmaps the files. */
public interface WeightSource extends AutoCloseable {

    Set<String> names();

    default boolean contains(String name) { return names().contains(name); }

    /**
     * The tensor called {@code name}; an error naming the tensor (and the folder) when absent, or when
     * it is stored in a dtype gemel does not compute with (checkpoints carry e.g. int64 buffers such
     * as {@code position_ids}: they are listed by {@link #names()} but fail here, only if asked for).
     */
    TensorView tensor(String name);

    @Override
    void close();
}
