/**
 * Data sets and the knowledge base: {@link gemel.data.MelExample} records read from the reference's JSON
 * lines by {@link gemel.data.MelJsonlReader} (with a {@link gemel.data.MelReadReport} of everything left
 * out), converters from the published WikiMEL, MIMIC-style and WikiDiverse layouts, and
 * {@link gemel.data.KnowledgeBase}. Files are written atomically through {@link gemel.engine.io.AtomicFile}.
 */
package gemel.data;
