package gemel.engine.io;

import java.util.Set;

/** Named tensors of one model, as stored (one file or many shards). Closing it unmaps the files. */
public interface WeightSource extends AutoCloseable {

    Set<String> names();

    default boolean contains(String name) { return names().contains(name); }

    /** The tensor called {@code name}; an error naming the tensor (and the folder) when absent. */
    TensorView tensor(String name);

    @Override
    void close();
}
