/**
 * The numeric kernels every model of the engine is built from: the product of fp32 activations with a
 * stored weight (F32, F16 or BF16, converted block by block, never whole), norms, softmax, rotary
 * positions, activations and attention. Activations are plain {@code float[]} in row-major order with
 * their shapes in the comments; each vector kernel has a scalar twin that tests use as its oracle.
 * Kernels round the same whether the JIT has compiled them or not (lane sums in a fixed tree,
 * {@link gemel.engine.kernel.Lanes}; an exponential of plain multiply-adds,
 * {@link gemel.engine.kernel.Exponential}), so a query's logits and a training step's gradients do not
 * depend on how warm the JVM is. Inference and training share the forward kernels; the training pass
 * adds only the backward ones (input gradient of a linear layer, norm and activation gradients).
 * Parallel work runs on the calling thread and one worker per other core
 * ({@link gemel.engine.kernel.Parallel}). Register tiles (4 x 4 accumulators and the like) are written
 * out by hand, line by line: vectors held in an array are not kept in registers, and such a tile ran
 * eight times slower.
 */
package gemel.engine.kernel;
