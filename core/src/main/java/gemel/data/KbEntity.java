package gemel.data;

import java.util.Objects;

/**
 * One knowledge-base entity.
 *
 * @param id          unique within its knowledge base (a QID, a Wikipedia URL, or the name itself)
 * @param name        what the model generates for it; several entities may share a name
 * @param description optional free text (WikiMEL: its attribute line), null when absent
 */
public record KbEntity(String id, String name, String description) {
    public KbEntity {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        if (id.isEmpty()) throw new IllegalArgumentException("entity id is empty (name '" + name + "')");
        if (name.isEmpty()) throw new IllegalArgumentException("entity " + id + " has an empty name");
    }
}
