package gemel.engine.kernel;

import jdk.incubator.vector.FloatVector;

/**
 * How many vector registers hold the preferred species: the register-blocked kernels choose their tile by it. x86 has 32
 * only with AVX-512 (its EVEX encoding names 32); with AVX2, or AVX-512 turned off (-XX:UseAVX=2), it has 16. Arm has 32.
 */
final class VectorRegisters {
    static final int COUNT = count();

    private VectorRegisters() {}

    private static int count() {
        boolean x86 = System.getProperty("os.arch").matches("amd64|x86_64|x86|i386");
        return x86 && FloatVector.SPECIES_PREFERRED.vectorBitSize() < 512 ? 16 : 32;
    }
}
