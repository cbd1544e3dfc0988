package come4j.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One kind of method section of come-merge.json (docs/come-merge-format.md) and its part of report.html: each kind
 * holds its part of the record, names the fields its part shows, and {@link OtherFields} shows every field no part
 * names, so that a new method's record is never silently missing from the page.
 */
sealed interface Section permits StepsSection, RemovalSection, LacoSection, MkaSection, StreamlineSection, DistillSection {
    /**
     * The fields this part shows, as paths into the record: "steps[].sbi" (any step), "steps[0].bi" (the first only);
     * a path stands for everything under it.
     */
    List<String> shows();

    /** This part of the page, above the merge tree. */
    void render(StringBuilder b);

    /** What this part shows below the merge tree (CoMe's per-step NLL and table). */
    default void renderBelowTree(StringBuilder b) {}

    /** The sections record {@code m} has, in page order. */
    static List<Section> of(JsonNode m) {
        List<Section> out = new ArrayList<>();
        if (!m.path("steps").isEmpty()) out.add(new StepsSection(m.get("steps")));
        if (m.has("removed")) out.add(new RemovalSection(m));
        if (m.has("laco")) out.add(new LacoSection(m.get("laco")));
        if (m.has("mka")) out.add(new MkaSection(m.get("mka")));
        if (m.has("span")) out.add(new StreamlineSection(m));
        if (m.has("distill")) out.add(new DistillSection(m.get("distill")));
        return out;
    }
}
