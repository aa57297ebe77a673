package gemel.link;

import gemel.data.KbEntity;
import gemel.data.KnowledgeBase;
import gemel.demos.ProgressMeter;
import gemel.engine.generate.Hypothesis;
import gemel.engine.model.CausalLM;
import gemel.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * GEMEL's inference: builds the prompt (demonstrations, then the query with its image tokens), runs
 * beam search from the start token constrained by the entity tree (the prompt is run once and its
 * cache shared by all beams), and maps each generated name to the knowledge-base ids that carry it.
 * Thread-safe when the model is.
 */
public final class Linker {
    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final FeatureMapper mapper;
    private final EntityTree tree;
    private final Map<String, List<String>> idsByName;
    private final LinkerSettings settings;
    private final PromptBuilder prompts;
    private final NameSearch search;

    public Linker(CausalLM model, Tokenizer tokenizer, FeatureMapper mapper, EntityTree tree, Map<String, List<String>> idsByName,
                  LinkerSettings settings) {
        this(model, tokenizer, mapper, tree, idsByName, settings, NameSearch.local(model, tree));
    }

    private Linker(CausalLM model, Tokenizer tokenizer, FeatureMapper mapper, EntityTree tree, Map<String, List<String>> idsByName,
                   LinkerSettings settings, NameSearch search) {
        mapper.requireFits(model.shape(), "given to the linker");
        if (tree.startToken() != model.shape().bosTokenId())
            throw new IllegalArgumentException("the entity tree starts at token " + tree.startToken() + " but " + model.shape().architecture()
                    + " generates from its BOS token " + model.shape().bosTokenId() + ": the tree was built for another tokenizer");
        this.model = model;
        this.tokenizer = tokenizer;
        this.mapper = mapper;
        this.tree = tree;
        this.idsByName = Map.copyOf(idsByName);
        this.settings = settings;
        this.prompts = new PromptBuilder(tokenizer, mapper.tokens());
        this.search = search;
    }

    /** This linker with its beam searches run by {@code search} (workers on other machines holding the same model and tree). */
    public Linker searchingWith(NameSearch search) { return new Linker(model, tokenizer, mapper, tree, idsByName, settings, search); }

    /** A linker over the names of {@code kb}: a generated name links to every entity of that name, in KB order. */
    public static Linker forKnowledgeBase(CausalLM model, Tokenizer tokenizer, FeatureMapper mapper, EntityTree tree, KnowledgeBase kb,
                                          LinkerSettings settings) {
        Map<String, List<String>> idsByName = new LinkedHashMap<>();
        for (KbEntity e : kb.entities()) idsByName.computeIfAbsent(e.name(), n -> new ArrayList<>()).add(e.id());
        return new Linker(model, tokenizer, mapper, tree, idsByName, settings);
    }

    public LinkerSettings settings() { return settings; }

    /** The best {@code decoding().keep()} answers for one query, best first, and whether it is NIL. */
    public LinkResult link(LinkQuery query) { return link(prompt(query)); }

    /**
     * The query's prompt, after checking that it and the tokens generated after it fit the model's
     * positions (an error naming the lengths otherwise, before the model runs).
     */
    private Prompt prompt(LinkQuery query) {
        List<Demonstration> demos = query.demonstrations();
        if (settings.zeroImages()) demos = demos.stream().map(d -> new Demonstration(d.text(), d.mention(), zeros(), d.answer())).toList();
        else for (Demonstration d : demos) requireFeature(d.image(), "demonstration '" + d.mention() + "'");
        float[] image = settings.zeroImages() ? zeros() : requireFeature(query.image(), "query '" + query.mention() + "'");
        Prompt prompt = prompts.build(demos, query.text(), query.mention(), image);
        // the last generated token is never fed back; beams may outgrow every name (a beam the tree blocks runs on
        // with score minus infinity until enough hypotheses are finished), so only the token limit bounds them
        int newTokens = settings.decoding().maxNewTokens(), window = model.shape().maxPositions();
        if (prompt.length() + newTokens - 1 > window)
            throw new IllegalArgumentException("the prompt takes " + prompt.length() + " positions (" + demos.size() + " demonstrations) and generation up to "
                    + newTokens + " new tokens more, beyond max_position_embeddings " + window + " of this " + model.shape().architecture()
                    + ": use fewer demonstrations, a shorter text or fewer new tokens");
        return prompt;
    }

    private LinkResult link(Prompt prompt) {
        float[] embeddings = prompt.embeddings(model, mapper);
        List<Hypothesis> found;
        try {
            found = search.search(embeddings, prompt.length(), settings.decoding());
        } catch (IOException e) {
            throw new UncheckedIOException(search.name() + ": " + e.getMessage(), e);
        }
        List<LinkedEntity> beams = new ArrayList<>(found.size());
        for (Hypothesis h : found) {
            String text = tokenizer.decode(h.tokens(), true);
            String name = stripSpaces(text);
            beams.add(new LinkedEntity(name, text, idsByName.getOrDefault(name, List.of()), h.score(), h.ended()));
        }
        LinkedEntity best = beams.get(0);
        return new LinkResult(beams, best.isNil() || best.score() < settings.nilThreshold());
    }

    /**
     * Links every query; results in query order. {@code parallelQueries} queries run at once (each one
     * also spreads its matrix products over the cores), which pays off when single queries leave cores
     * idle (small models, decode steps). Every query's prompt is checked before the first one runs.
     * {@code progress} may be null.
     */
    public List<LinkResult> linkAll(List<LinkQuery> queries, int parallelQueries, ProgressMeter progress) {
        return linkAll(queries, parallelQueries, progress, (query, result) -> {});
    }

    /** What is told of each query as it is linked: from the linking threads, in the order they finish. */
    @FunctionalInterface
    public interface Finished {
        void linked(int query, LinkResult result);
    }

    /**
     * {@link #linkAll(List, int, ProgressMeter)}, telling {@code finished} of each result as soon as it is known (so that a
     * long run can keep what it has done): from the linking threads, so {@code finished} must be safe to call from several.
     */
    public List<LinkResult> linkAll(List<LinkQuery> queries, int parallelQueries, ProgressMeter progress, Finished finished) {
        if (parallelQueries < 1) throw new IllegalArgumentException("parallel queries must be >= 1, got " + parallelQueries);
        // a check pass that keeps no prompt: tokenizing twice costs far less than holding every prompt of a large batch
        for (int i = 0; i < queries.size(); i++) {
            try {
                prompt(queries.get(i));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("query " + i + " ('" + queries.get(i).mention() + "'): " + e.getMessage(), e);
            }
        }
        LinkResult[] out = new LinkResult[queries.size()];
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int i; (i = next.getAndIncrement()) < out.length; ) {
                try {
                    out[i] = link(queries.get(i));
                    finished.linked(i, out[i]);
                } catch (RuntimeException e) {
                    next.set(out.length); // the others stop after their current query
                    throw new IllegalStateException("query " + i + " ('" + queries.get(i).mention() + "'): " + e.getMessage(), e);
                }
                if (progress != null) progress.advance(1);
            }
        };
        int threads = Math.min(parallelQueries, Math.max(1, queries.size()));
        if (threads == 1) {
            worker.run();
            return Arrays.asList(out);
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> running = new ArrayList<>(threads);
            for (int t = 0; t < threads; t++) running.add(pool.submit(worker));
            for (Future<?> f : running) f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while linking", e);
        }
        return Arrays.asList(out);
    }

    private float[] zeros() { return new float[mapper.dimClip()]; }

    private float[] requireFeature(float[] feature, String owner) {
        if (feature.length != mapper.dimClip())
            throw new IllegalArgumentException("image feature of " + owner + " has " + feature.length + " values, the feature mapper takes "
                    + mapper.dimClip());
        return feature;
    }

    /** Python's {@code str.strip(" ")}: only the space character, not other whitespace. */
    static String stripSpaces(String s) {
        int from = 0, to = s.length();
        while (from < to && s.charAt(from) == ' ') from++;
        while (to > from && s.charAt(to - 1) == ' ') to--;
        return s.substring(from, to);
    }
}
