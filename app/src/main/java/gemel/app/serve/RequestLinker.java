package gemel.app.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.app.LinkSession;
import gemel.engine.vision.BadImageException;
import gemel.link.Demonstration;
import gemel.link.LinkQuery;
import gemel.link.LinkResult;
import gemel.link.LinkedEntity;
import java.util.ArrayList;
import java.util.List;

/**
 * Links checked requests with a {@link LinkSession} and shapes the answers:
 * {@code {"entity": {"name", "id", "entity_ids", "score"} | null, "nil", "beams": [{"name", "text", "score",
 * "entity_ids", "ended"}], "elapsed_ms", "warnings"}}. The linker returns every beam; a request's
 * {@code top_k} keeps the best ones, which are exactly what a linker keeping {@code top_k} would return.
 */
final class RequestLinker {
    private final LinkSession session;
    private final ObjectMapper json;

    RequestLinker(LinkSession session, ObjectMapper json) {
        this.session = session;
        this.json = json;
    }

    /** The answer to one request. */
    ObjectNode link(LinkRequest request) throws HttpProblem {
        return linkAll(List.of(request)).get(0);
    }

    /** The answers to several requests, in order; every image is checked before any mention is linked. */
    List<ObjectNode> linkAll(List<LinkRequest> requests) throws HttpProblem {
        List<float[]> images = new ArrayList<>(requests.size());
        for (LinkRequest r : requests) images.add(image(r));
        List<List<Demonstration>> demos = session.demonstrations(requests.stream().map(LinkRequest::mention).toList());
        List<ObjectNode> out = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            LinkRequest r = requests.get(i);
            long start = System.nanoTime();
            LinkResult result;
            try {
                result = session.linker().link(new LinkQuery(r.text(), r.mention(), images.get(i), demos.get(i)));
            } catch (IllegalArgumentException e) { // what the query asks is beyond the model, e.g. a text longer than its context
                throw HttpProblem.badRequest(r.where().isEmpty() ? null : r.where(), e.getMessage());
            }
            out.add(answer(r, result, (System.nanoTime() - start) / 1e6));
        }
        return out;
    }

    /** The image feature of a request: looked up by key in the features, or its uploaded bytes encoded by CLIP. */
    private float[] image(LinkRequest r) throws HttpProblem {
        if (session.ignoresImages()) return session.noImage();
        if (r.imageKey() != null) {
            if (!session.hasFeatures())
                throw HttpProblem.badRequest(r.field("image_key"), "this server has no image features (started without --features): upload the image as image_base64");
            float[] f = session.findImage(r.imageKey());
            if (f == null) throw HttpProblem.badRequest(r.field("image_key"), "no image feature for '" + r.imageKey() + "'");
            return f;
        }
        if (r.image() != null) {
            if (!session.hasClip())
                throw HttpProblem.badRequest(r.field("image_base64"), "this server cannot encode images (started without --clip): give image_key");
            try {
                return session.imageFromBytes(r.image(), r.field("image_base64"));
            } catch (BadImageException e) {
                throw HttpProblem.badRequest(r.field("image_base64"), e.getMessage());
            }
        }
        String accepted = session.hasFeatures() && session.hasClip() ? "image_key or image_base64" : session.hasFeatures() ? "image_key" : "image_base64";
        throw HttpProblem.badRequest(r.field(session.hasFeatures() ? "image_key" : "image_base64"), "an image is required: give " + accepted);
    }

    private ObjectNode answer(LinkRequest r, LinkResult result, double elapsedMs) {
        ObjectNode node = json.createObjectNode();
        LinkedEntity best = result.entity();
        if (best == null) node.putNull("entity");
        else {
            ObjectNode entity = node.putObject("entity").put("name", best.name()).put("id", best.entityId());
            best.entityIds().forEach(entity.putArray("entity_ids")::add);
            entity.put("score", best.score());
        }
        node.put("nil", result.nil());
        ArrayNode beams = node.putArray("beams");
        for (LinkedEntity b : result.beams().subList(0, Math.min(r.topK(), result.beams().size()))) {
            ObjectNode beam = beams.addObject().put("name", b.name()).put("text", b.text()).put("score", b.score());
            b.entityIds().forEach(beam.putArray("entity_ids")::add);
            beam.put("ended", b.ended());
        }
        node.put("elapsed_ms", Math.round(elapsedMs * 10) / 10.0);
        ArrayNode warnings = node.putArray("warnings");
        r.warnings().forEach(warnings::add);
        if (session.ignoresImages() && (r.imageKey() != null || r.image() != null))
            warnings.add(r.field(r.imageKey() != null ? "image_key" : "image_base64") + ": ignored, the server links without images (--no-image)");
        return node;
    }
}
