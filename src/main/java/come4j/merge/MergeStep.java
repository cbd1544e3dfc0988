package come4j.merge;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import come4j.io.TensorData;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One step of a CoMe method as come-merge.json records it (docs/come-merge-format.md), serialised by Jackson: the
 * fields in this order, an absent one (a weighted sum's kept heads, a step without candidates or time) left out.
 * Everything in {@link ProgressiveMerger.Step} but the merged tensors; doubles print as they parse back, so a step
 * read back is the step written.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MergeStep(int step, @JsonProperty("layers_before") int layersBefore, int[] pair, int[][] original,
                 Double[] sbi, double[] bi, double[] ratio, boolean fallback, Kept kept, Sides heads, Sides channels,
                 @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Candidate> candidates,
                 @JsonProperty("calib_nll_before") double calibNllBefore, @JsonProperty("calib_nll_after") double calibNllAfter,
                 @JsonProperty("ls_correction") LsCorrection lsCorrection, Double seconds) {
    /** How many kv head groups and FFN channels were kept from a and from b. */
    public record Kept(int[] heads, int[] channels) {}

    /** What was kept of each source layer, ascending. */
    public record Sides(int[] a, int[] b) {}

    /** CoMe-P: a candidate r_a and the calibration NLL it leads to. */
    public record Candidate(double ratio, double nll) {}

    /**
     * What the least-squares correction measured (come-ls and its variants, issue 16): the calibration windows fitted
     * on and held out, each projection's fit, the layer's mean squared error on the calibration windows before and
     * after, whether the correction was dropped (worse), the Gram matrices' bytes, the seconds; with come-ls-pair, the
     * pairs tried.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record LsCorrection(int windows, @JsonProperty("held_out_windows") int heldOutWindows, List<Projection> projections,
                               @JsonProperty("calib_mse_before") double calibMseBefore, @JsonProperty("calib_mse_after") double calibMseAfter,
                               boolean reverted, @JsonProperty("gram_bytes") long gramBytes, double seconds,
                               @JsonProperty("pair_candidates") List<PairCandidate> pairCandidates) {
        /** This correction, of the pair chosen among {@code pairs}. */
        LsCorrection withPairCandidates(List<PairCandidate> pairs) {
            return new LsCorrection(windows, heldOutWindows, projections, calibMseBefore, calibMseAfter, reverted, gramBytes, seconds, pairs);
        }
    }

    /** One refitted projection: its ridge strength (null: kept as merged) and its held-out mean squared error before and after. */
    public record Projection(String name, @JsonInclude(JsonInclude.Include.ALWAYS) Double alpha,
                             @JsonProperty("held_out_mse_before") double heldOutMseBefore, @JsonProperty("held_out_mse_after") double heldOutMseAfter) {}

    /** come-ls-pair: a pair (a, a + 1) tried, its SBI and the calibration NLL after merging and correcting it. */
    public record PairCandidate(int a, double sbi, double nll) {}

    /** Step {@code number} (from 1) of a run; an SBI of +∞ (a pair the no-re-merge rule excludes) is recorded as null. */
    static MergeStep of(int number, ProgressiveMerger.Step s) {
        MergedLayer m = s.merged();
        boolean kept = m.headsA() != null;
        return new MergeStep(number, s.layersBefore(), new int[] {s.a(), s.a() + 1}, new int[][] {ints(s.originalA()), ints(s.originalB())},
                Arrays.stream(s.sbi()).mapToObj(v -> Double.isInfinite(v) ? null : v).toArray(Double[]::new), s.bi(),
                new double[] {s.ra(), s.rb()}, s.fallback(),
                kept ? new Kept(new int[] {m.headsA().length, m.headsB().length}, new int[] {m.channelsA().length, m.channelsB().length}) : null,
                kept ? new Sides(m.headsA(), m.headsB()) : null, kept ? new Sides(m.channelsA(), m.channelsB()) : null,
                s.candidates().stream().map(c -> new Candidate(c[0], c[1])).toList(), s.nllBefore(), s.nllAfter(), s.correction(),
                Double.isFinite(s.seconds()) ? s.seconds() : null); // the only field that differs between runs
    }

    /** The step, given its merged tensors. */
    ProgressiveMerger.Step toStep(Map<String, TensorData> tensors) {
        MergedLayer m = heads == null ? new MergedLayer(tensors, null, null, null, null)
                : new MergedLayer(tensors, heads.a(), heads.b(), channels.a(), channels.b());
        return new ProgressiveMerger.Step(layersBefore, pair[0], list(original[0]), list(original[1]),
                Arrays.stream(sbi).mapToDouble(v -> v == null ? Double.POSITIVE_INFINITY : v).toArray(), bi, ratio[0], ratio[1], fallback, m,
                candidates == null ? List.of() : candidates.stream().map(c -> new double[] {c.ratio(), c.nll()}).toList(),
                calibNllBefore, calibNllAfter, seconds == null ? Double.NaN : seconds, lsCorrection);
    }

    private static int[] ints(List<Integer> v) {
        return v.stream().mapToInt(Integer::intValue).toArray();
    }

    private static List<Integer> list(int[] v) {
        return Arrays.stream(v).boxed().toList();
    }
}
