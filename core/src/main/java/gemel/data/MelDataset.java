package gemel.data;

import java.util.List;

/** The records kept from one file, in file order, and the report of what was left out and why. */
public record MelDataset(List<MelExample> examples, MelReadReport report) {
    public MelDataset {
        examples = List.copyOf(examples);
    }

    public int size() { return examples.size(); }

    public MelExample get(int index) { return examples.get(index); }
}
