package gemel.features;

/** What to do with a record whose image has no stored feature vector. */
public enum MissingFeaturePolicy {
    /** Refuse: an error counts the missing keys and lists the first few (the reference's behaviour). */
    FAIL,
    /** Leave the record out; the lookup reports which records were left out. */
    SKIP_RECORD,
    /** Keep the record with an all-zero vector. */
    ZERO_VECTOR
}
