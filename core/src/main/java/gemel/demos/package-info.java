/**
 * In-context demonstrations: training mentions embedded by a {@link gemel.demos.SentenceEncoder} (cached by
 * {@link gemel.demos.EmbeddingCache}), retrieved by cosine similarity in the reference's order by
 * {@link gemel.demos.DemoRetriever}, and fixed in files by {@link gemel.demos.DemosFile}.
 */
package gemel.demos;
