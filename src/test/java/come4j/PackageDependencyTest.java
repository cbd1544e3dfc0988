package come4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Package imports point one way, as the data flows: no cycle between the packages of src/main, and each package
 * imports only packages of lower layers in the README's layer line (so the README's diagram is the code's). A package
 * depends on another when its code names it: an import, a static import or a fully qualified name anywhere in the
 * code (comments and string literals do not count).
 */
class PackageDependencyTest {
    private static final Path MAIN = Path.of("src/main/java/come4j");
    /** A reference to a class of another come4j package, e.g. "come4j.io.TensorData" or "come4j.io.*". */
    private static final Pattern REFERENCE = Pattern.compile("\\bcome4j\\.([a-z][a-z0-9_]*)\\.");
    private static final Pattern PACKAGE = Pattern.compile("\\bpackage\\s+come4j\\.([a-z][a-z0-9_]*)\\s*;");
    /** The README's layer line, bottom to top: "io < tensor < model < calib, eval < ...". */
    private static final Pattern LAYER_LINE = Pattern.compile("^[a-z]+(, [a-z]+)*( < [a-z]+(, [a-z]+)*)+$", Pattern.MULTILINE);

    /** package -> package it depends on -> the files of the first that name the second. */
    record Graph(Map<String, Map<String, Set<String>>> edges) {
        Map<String, Set<String>> packages() {
            Map<String, Set<String>> g = new TreeMap<>();
            edges.forEach((p, deps) -> g.put(p, deps.keySet()));
            return g;
        }
    }

    @Test
    void noCycleBetweenPackages() throws IOException {
        Graph g = mainGraph();
        List<List<String>> cycles = cycles(g.packages());
        StringBuilder why = new StringBuilder();
        for (List<String> c : cycles) {
            why.append("\npackage cycle ").append(String.join(" -> ", c)).append(" -> ").append(c.getFirst()).append(":");
            for (int i = 0; i < c.size(); i++) {
                String from = c.get(i), to = c.get((i + 1) % c.size());
                why.append("\n  ").append(from).append(" -> ").append(to).append(" in ").append(g.edges().get(from).get(to));
            }
        }
        assertTrue(cycles.isEmpty(), why.toString());
    }

    @Test
    void packagesImportOnlyLowerLayersOfTheReadme() throws IOException {
        List<Set<String>> layers = readmeLayers();
        Map<String, Integer> level = new HashMap<>();
        for (int i = 0; i < layers.size(); i++) for (String p : layers.get(i)) assertNull(level.put(p, i), p + " is in two layers");
        Graph g = mainGraph();
        assertEquals(new TreeSet<>(g.edges().keySet()), new TreeSet<>(level.keySet()), "the README's layer line lists exactly the packages of src/main");
        List<String> upward = new ArrayList<>();
        g.edges().forEach((from, deps) -> deps.forEach((to, files) -> {
            if (level.get(to) >= level.get(from)) upward.add(from + " -> " + to + " in " + files);
        }));
        assertTrue(upward.isEmpty(), "imports of a package not below in the README's layers " + layers + ":\n  " + String.join("\n  ", upward));
    }

    /** The cycle finder on hand-made graphs: one cycle per strongly connected component, named from its least package. */
    @Test
    void findsEveryCycleOfAHandMadeGraph() {
        Map<String, Set<String>> g = new TreeMap<>();
        g.put("a", Set.of("b"));
        g.put("b", Set.of("c"));
        g.put("c", Set.of("a", "d"));
        g.put("d", Set.of("e"));
        g.put("e", Set.of("d", "f"));
        g.put("f", Set.of());
        assertEquals(List.of(List.of("a", "b", "c"), List.of("d", "e")), cycles(g));
        g.put("c", Set.of("d")); // a -> b -> c -> d: no longer a cycle
        assertEquals(List.of(List.of("d", "e")), cycles(g));
        g.put("e", Set.of("f"));
        assertEquals(List.of(), cycles(g));
        g.put("f", Set.of("a")); // a -> b -> c -> d -> e -> f -> a
        assertEquals(List.of(List.of("a", "b", "c", "d", "e", "f")), cycles(g));
    }

    /** Imports, static imports and same-line qualified names count; comments and strings do not. */
    @Test
    void readsTheReferencesOfTheCodeOnly() {
        String source = """
                package come4j.merge;

                import static come4j.tensor.VectorOps.dot;
                import come4j.io.*; // come4j.cli.Main in a comment
                /** {@link come4j.bench.Bench} */
                class X {
                    String s = "come4j.report.Html \\" come4j.eval.Task", t = \"""
                        come4j.distill.Loss
                        \""";
                    char c = '"'; Object m = come4j.model.Transformer.load(null); /* come4j.calib.X */ int merge = come4j.merge.Y.Z;
                }
                """;
        assertEquals(Set.of("tensor", "io", "model", "merge"), references(source));
    }

    /** The dependency graph of src/main: every package, even one that imports no other. */
    private static Graph mainGraph() throws IOException {
        Map<String, Map<String, Set<String>>> edges = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(MAIN)) {
            files = s.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        }
        for (Path f : files) {
            String code = Files.readString(f);
            Matcher m = PACKAGE.matcher(code);
            assertTrue(m.find(), f + " has no come4j package");
            String from = m.group(1);
            Map<String, Set<String>> deps = edges.computeIfAbsent(from, p -> new TreeMap<>());
            for (String to : references(code))
                if (!to.equals(from)) deps.computeIfAbsent(to, p -> new TreeSet<>()).add(MAIN.relativize(f).toString());
        }
        return new Graph(edges);
    }

    /** The come4j packages the code of one source file names. */
    static Set<String> references(String source) {
        Set<String> packages = new LinkedHashSet<>();
        Matcher m = REFERENCE.matcher(codeOnly(source));
        while (m.find()) packages.add(m.group(1));
        return packages;
    }

    /** The source with comments, string and character literals (text blocks too) blanked. */
    static String codeOnly(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0, n = s.length();
        while (i < n) {
            int end;
            if (s.startsWith("//", i)) end = indexOrEnd(s, "\n", i);
            else if (s.startsWith("/*", i)) end = indexOrEnd(s, "*/", i + 2) + 2;
            else if (s.startsWith("\"\"\"", i)) end = literalEnd(s, i + 3, "\"\"\"");
            else if (s.charAt(i) == '"') end = literalEnd(s, i + 1, "\"");
            else if (s.charAt(i) == '\'') end = literalEnd(s, i + 1, "'");
            else {
                out.append(s.charAt(i++));
                continue;
            }
            end = Math.min(end, n);
            out.append(" ".repeat(end - i));
            i = end;
        }
        return out.toString();
    }

    private static int indexOrEnd(String s, String what, int from) {
        int at = s.indexOf(what, from);
        return at < 0 ? s.length() : at;
    }

    /** The index after the literal's closing {@code quote}, skipping escaped characters. */
    private static int literalEnd(String s, int i, String quote) {
        while (i < s.length() && !s.startsWith(quote, i)) i += s.charAt(i) == '\\' ? 2 : 1;
        return i + quote.length();
    }

    /** The README's layer line, bottom to top; a layer's packages (comma-separated) do not import one another. */
    private static List<Set<String>> readmeLayers() throws IOException {
        Matcher m = LAYER_LINE.matcher(Files.readString(Path.of("README.md")));
        assertTrue(m.find(), "README.md has no layer line such as 'io < tensor < ...'");
        String line = m.group();
        assertTrue(!m.find(), "README.md has two layer lines");
        List<Set<String>> layers = new ArrayList<>();
        for (String layer : line.split(" < ")) layers.add(new TreeSet<>(List.of(layer.split(", "))));
        return layers;
    }

    /**
     * One cycle per strongly connected component of more than one package (Tarjan's algorithm), each from the
     * component's least package along least successors within the component, components ordered by that package.
     */
    static List<List<String>> cycles(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        List<Set<String>> components = new ArrayList<>();
        for (String p : new TreeSet<>(graph.keySet())) if (!index.containsKey(p)) connect(p, graph, index, low, stack, components);
        List<List<String>> cycles = new ArrayList<>();
        for (Set<String> c : components) if (c.size() > 1) cycles.add(cycleThrough(new TreeSet<>(c), graph));
        cycles.sort((a, b) -> a.getFirst().compareTo(b.getFirst()));
        return cycles;
    }

    private static void connect(String p, Map<String, Set<String>> graph, Map<String, Integer> index, Map<String, Integer> low,
                                Deque<String> stack, List<Set<String>> components) {
        index.put(p, index.size());
        low.put(p, index.get(p));
        stack.push(p);
        for (String q : new TreeSet<>(graph.getOrDefault(p, Set.of()))) {
            if (!index.containsKey(q)) {
                connect(q, graph, index, low, stack, components);
                low.put(p, Math.min(low.get(p), low.get(q)));
            } else if (stack.contains(q)) {
                low.put(p, Math.min(low.get(p), index.get(q)));
            }
        }
        if (low.get(p).equals(index.get(p))) {
            Set<String> component = new TreeSet<>();
            String q;
            do {
                q = stack.pop();
                component.add(q);
            } while (!q.equals(p));
            components.add(component);
        }
    }

    /** A shortest cycle through the component's least package (breadth-first, least successors first). */
    private static List<String> cycleThrough(TreeSet<String> component, Map<String, Set<String>> graph) {
        String start = component.first();
        Map<String, String> parent = new HashMap<>();
        Deque<String> queue = new ArrayDeque<>(List.of(start));
        while (!queue.isEmpty()) {
            String p = queue.poll();
            for (String q : new TreeSet<>(graph.getOrDefault(p, Set.of()))) {
                if (!component.contains(q)) continue;
                if (q.equals(start)) {
                    List<String> cycle = new ArrayList<>();
                    for (String r = p; r != null; r = parent.get(r)) cycle.addFirst(r);
                    return cycle;
                }
                if (!parent.containsKey(q) && !q.equals(start)) {
                    parent.put(q, p);
                    queue.add(q);
                }
            }
        }
        throw new IllegalStateException("no cycle through " + start + " in the component " + component);
    }
}
