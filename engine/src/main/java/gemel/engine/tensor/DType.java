package gemel.engine.tensor;

/** Element types a checkpoint may store. Compute is always fp32; weights stay in their stored type. */
public enum DType {
    F32(4), F16(2), BF16(2);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    public int bytes() { return bytes; }

    /** The safetensors spelling ("F32", "F16", "BF16"); any other is an error naming it. */
    public static DType fromSafetensors(String name, String where) {
        return switch (name) {
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            default -> throw new IllegalArgumentException(where + ": unsupported dtype " + name + " (gemel reads F32, F16, BF16)");
        };
    }
}
