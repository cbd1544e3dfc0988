package come4j.cli;

import come4j.merge.Laco;
import come4j.bench.Methods;
import picocli.CommandLine.Option;

/** Parameters of individual methods, shared by `come compress` and `come bench`. */
final class MethodOptions {
    @Option(names = "--official-gqa-tiling", description = "CoMe: select query heads as the authors' code does (tiles the kv mask; wrong pairing on GQA models, for parity only).")
    boolean officialGqaTiling;

    @Option(names = "--granularity", defaultValue = "20", description = "CoMe-P ratio grid: 0, 1/G, ..., 1 (default ${DEFAULT-VALUE}).")
    int granularity;

    @Option(names = "--laco-c", defaultValue = "4", description = "LaCo: layers per merge attempt C (default ${DEFAULT-VALUE}; grows if the target cannot be reached).")
    int lacoC;

    @Option(names = "--laco-i", defaultValue = "1", description = "LaCo: positions down after a kept merge I (default ${DEFAULT-VALUE}).")
    int lacoI;

    @Option(names = "--laco-low", defaultValue = "0", description = "LaCo: lowest layer a merge may start at, L_low (default ${DEFAULT-VALUE}).")
    int lacoLow;

    Methods.Options options() {
        if (granularity < 1) throw new come4j.io.BadInputException(null, "--granularity must be >= 1");
        return new Methods.Options(officialGqaTiling, granularity, new Laco.Settings(lacoC, lacoI, lacoLow));
    }
}
