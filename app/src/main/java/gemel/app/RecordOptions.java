package gemel.app;

import gemel.data.BadLinePolicy;
import gemel.data.MelDataset;
import gemel.data.MelJsonlReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * How a command reads JSON-lines records, chosen alike by every command that reads them: what becomes of lines
 * that are not a record, and whether records with a NIL gold are kept. Every file read is reported on stderr.
 */
final class RecordOptions {
    @Option(names = "--bad-lines", defaultValue = "reject", paramLabel = "reject|skip", converter = PolicyConverter.class,
            description = "lines that are not a record (malformed JSON, a missing or empty required field): 'reject' refuses the file, "
                    + "'skip' leaves them out; either way they are reported with their line numbers "
                    + "(default: ${DEFAULT-VALUE}; a bad line stops the reference's reading)")
    BadLinePolicy badLines;

    @Option(names = "--keep-nil",
            description = "keep the evaluated records (eval --data, convert demos --queries) whose golden is NIL (the reference drops them); "
                    + "such a record is correct when the answer is NIL. Refused elsewhere: records trained on or shown as demonstrations "
                    + "always drop NIL, they name no entity")
    boolean keepNil;

    /** Records to evaluate or retrieve for: NIL records kept on --keep-nil. */
    MelDataset evaluated(Path file) throws IOException { return read(file, keepNil); }

    /** Records trained on or shown as demonstrations: a NIL record has no entity name to learn or show, so it is always dropped. */
    MelDataset training(Path file) throws IOException { return read(file, false); }

    /** Refuses --keep-nil in a command that reads no evaluated records, saying {@code why}. */
    void refuseKeepNil(String why) {
        if (keepNil) throw new IllegalArgumentException("--keep-nil does not apply here: " + why);
    }

    private MelDataset read(Path file, boolean nil) throws IOException {
        MelDataset set = new MelJsonlReader(badLines, nil).read(file);
        System.err.println(set.report().summary());
        return set;
    }

    /** {@code reject} or {@code skip}, in any case. */
    static final class PolicyConverter implements ITypeConverter<BadLinePolicy> {
        @Override
        public BadLinePolicy convert(String value) {
            try {
                return BadLinePolicy.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("expected reject or skip, got '" + value + "'");
            }
        }
    }
}
