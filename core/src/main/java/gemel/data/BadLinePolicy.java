package gemel.data;

/** What a reader does with a line it cannot turn into a record. Either way the line is reported. */
public enum BadLinePolicy {
    /** Leave the line out and go on; the report lists it. */
    SKIP,
    /** Stop reading: the whole file is refused with an error naming the lines at fault. */
    REJECT
}
