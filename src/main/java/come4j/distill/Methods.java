package come4j.distill;

import come4j.io.BadInputException;
import come4j.io.Suggestion;
import come4j.merge.CompressionMethod;
import come4j.merge.Laco;
import come4j.merge.LayerRemoval;
import come4j.merge.Mka;
import come4j.merge.ProgressiveMerger;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Every compression method by the name users type (`come compress --method`, `come bench --methods`). A new method is
 * one line here: its name and how to make it from the options. The registry lives in distill, the lowest package that
 * sees every method: merge's and the ones that train (Taylor, LLM-Streamline, NAME+distill).
 */
public final class Methods {
    /** Method parameters the command line sets. */
    public record Options(boolean officialGqaTiling, int granularity, Laco.Settings laco, List<Path> distillData,
                          HierarchicalDistiller.Settings distill) {}

    private static final Map<String, Function<Options, CompressionMethod>> ALL = new LinkedHashMap<>();

    static {
        ALL.put("come", o -> new ProgressiveMerger.Progressive("come", ProgressiveMerger.Method.COME, o.officialGqaTiling(), o.granularity()));
        ALL.put("come-p", o -> new ProgressiveMerger.Progressive("come-p", ProgressiveMerger.Method.COME_P, o.officialGqaTiling(), o.granularity()));
        ALL.put("come-ls", o -> ls("come-ls", ProgressiveMerger.Method.COME, ProgressiveMerger.Ls.ON, o));
        ALL.put("come-p-ls", o -> ls("come-p-ls", ProgressiveMerger.Method.COME_P, ProgressiveMerger.Ls.ON, o));
        // issue 16's variant of CoMe-LS (docs/results.md): the pair among the 3 smallest-SBI ones by corrected
        // calibration NLL
        ALL.put("come-ls-pair", o -> ls("come-ls-pair", ProgressiveMerger.Method.COME, new ProgressiveMerger.Ls(true, 3), o));
        ALL.put("weightsum", o -> new ProgressiveMerger.Progressive("weightsum", ProgressiveMerger.Method.WEIGHTSUM, o.officialGqaTiling(), o.granularity()));
        ALL.put("shortgpt", o -> new LayerRemoval.Removal("shortgpt", LayerRemoval.Method.SHORTGPT));
        ALL.put("reverse", o -> new LayerRemoval.Removal("reverse", LayerRemoval.Method.REVERSE));
        ALL.put("magnitude", o -> new LayerRemoval.Removal("magnitude", LayerRemoval.Method.MAGNITUDE));
        ALL.put("magnitude+", o -> new LayerRemoval.Removal("magnitude+", LayerRemoval.Method.MAGNITUDE_PLUS));
        ALL.put("sleb", o -> new LayerRemoval.Removal("sleb", LayerRemoval.Method.SLEB));
        ALL.put("taylor", o -> new LayerRemoval.ByScore("taylor", TaylorImportance::of, false));
        ALL.put("taylor+", o -> new LayerRemoval.ByScore("taylor+", TaylorImportance::of, true));
        ALL.put("laco", o -> new Laco(o.laco()));
        ALL.put("mka", o -> new Mka());
        ALL.put("streamline", o -> Streamline.defaults());
    }

    private Methods() {}

    private static CompressionMethod ls(String name, ProgressiveMerger.Method m, ProgressiveMerger.Ls ls, Options o) {
        return new ProgressiveMerger.Progressive(name, m, o.officialGqaTiling(), o.granularity(), ls);
    }

    public static Set<String> names() {
        return ALL.keySet();
    }

    public static CompressionMethod create(String name, Options o) {
        if (name.endsWith(Distilled.SUFFIX)) // any method followed by distillation of its merged layers
            return new Distilled(create(name.substring(0, name.length() - Distilled.SUFFIX.length()), o), o.distillData(), o.distill());
        Function<Options, CompressionMethod> f = ALL.get(name);
        if (f == null) {
            List<String> all = java.util.stream.Stream.concat(names().stream(), names().stream().map(n -> n + Distilled.SUFFIX)).toList();
            throw new BadInputException(null, "unknown method '" + name + "'" + Suggestion.didYouMean(name, all) + "; one of "
                    + String.join(", ", names()) + ", each also as NAME" + Distilled.SUFFIX);
        }
        return f.apply(o);
    }
}
