package come4j.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** The distillation a compression ran itself (--distill-each, NAME+distill), as come-distill.json records one. */
record DistillSection(JsonNode d) implements Section {
    @Override
    public List<String> shows() {
        List<String> shown = new ArrayList<>(List.of("distill.settings", "distill.layers[].layer", "distill.layers[].block",
                "distill.layers[].loss_first", "distill.layers[].loss_last", "distill.layers[].lr", "distill.layers[].lr_search",
                "distill.layers[].held_out_best", "distill.layers[].best_step", "distill.layers[].steps_run"));
        if (d.path("layers").valueStream().allMatch(l -> DistillReport.everyStep(l.path("loss")))) shown.add("distill.layers[].loss");
        return shown;
    }

    @Override
    public void render(StringBuilder b) {}

    @Override
    public void renderBelowTree(StringBuilder b) {
        b.append(DistillReport.section(d, false));
    }
}
