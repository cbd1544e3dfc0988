package come4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.BadInputException;
import come4j.model.Checkpoint;
import come4j.model.Transformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "logits", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Print the logits of a token sequence as JSON (for parity checks).", "",
                "One JSON object: {\"ids\", \"vocab\", \"logits\"} with the logits row-major [tokens x vocab], computed in fp32."},
        footerHeading = "%nExamples:%n",
        footer = {"  come logits --model " + Examples.MODEL + " --ids 1,450,3186"})
final class LogitsCommand implements Runnable {
    @Mixin
    ModelOption model;

    @Option(names = "--ids", required = true, split = ",", paramLabel = "ID", description = "Token ids, comma-separated.")
    int[] ids;

    @Mixin
    CommonOptions common;

    @Override
    public void run() {
        try (Checkpoint ckpt = Checkpoint.open(model.dir)) {
            int V = ckpt.config().vocabSize();
            for (int id : ids) if (id < 0 || id >= V) throw new BadInputException(null, "--ids: token id " + id + " is outside the vocabulary (0.." + (V - 1) + ")");
            if (ids.length > ckpt.config().maxPositions())
                throw new BadInputException(null, "--ids: " + ids.length + " tokens exceed max_position_embeddings " + ckpt.config().maxPositions());
            ckpt.requireFinite();
            float[] logits = Transformer.load(ckpt).forward(ids, 1);
            ObjectNode o = new ObjectMapper().createObjectNode();
            var idArr = o.putArray("ids");
            for (int id : ids) idArr.add(id);
            o.put("vocab", V);
            var arr = o.putArray("logits");
            for (float x : logits) arr.add(x);
            System.out.println(o);
        }
    }
}
