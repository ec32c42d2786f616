package io.mcpoauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package picture of the README, checked on the compiled classes with {@code jdeps}: every package sits in one
 * layer, depends only on packages of lower layers (nothing imports upward, so there is no cycle), and only the
 * wiring ({@code io.mcpoauth}) and the administrative commands see a storage backend; everyone else sees the storage
 * interfaces.
 */
class ArchitectureTest {
    /** Lowest first. A package may use packages of lower layers only. */
    static final List<Set<String>> LAYERS = List.of(
            Set.of("core"),
            Set.of("config"),
            Set.of("store"),
            Set.of("store.memory"),
            Set.of("store.file", "store.postgres"),
            Set.of("http"),
            Set.of("oauth"),
            Set.of("idp"),
            Set.of("login"),
            Set.of("connect"),
            Set.of("resource"),
            Set.of("resource.tools", "resource.gateway"),
            Set.of("ops"),
            Set.of("admin"),
            Set.of("")); // io.mcpoauth: Main and the wiring

    /** Storage backends: only these packages may use them (everyone else goes through the interfaces in store). */
    static final Set<String> BACKENDS = Set.of("store.memory", "store.file", "store.postgres");
    static final Set<String> MAY_USE_BACKENDS = Set.of("", "admin", "store.file", "store.postgres");

    private static Map<String, Set<String>> graph;

    @BeforeAll
    static void readDependencies() throws URISyntaxException {
        Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("jdeps is not available in this JDK"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", "-e", "io\\.mcpoauth(\\..*)?", classes.toString());
        assertEquals(0, rc, "jdeps failed: " + err);
        graph = new TreeMap<>();
        Pattern edge = Pattern.compile("^\\s+(io\\.mcpoauth\\S*)\\s+->\\s+(io\\.mcpoauth\\S*)\\s", Pattern.MULTILINE);
        Matcher m = edge.matcher(out.toString());
        while (m.find()) {
            String from = local(m.group(1));
            String to = local(m.group(2));
            graph.computeIfAbsent(from, k -> new TreeSet<>());
            graph.computeIfAbsent(to, k -> new TreeSet<>());
            if (!from.equals(to)) graph.get(from).add(to);
        }
        assertTrue(graph.size() > 10, "jdeps found too few packages: " + out);
    }

    private static String local(String pkg) {
        return pkg.equals("io.mcpoauth") ? "" : pkg.substring("io.mcpoauth.".length());
    }

    private static String show(String pkg) {
        return pkg.isEmpty() ? "io.mcpoauth" : pkg;
    }

    private static int layer(String pkg) {
        for (int i = 0; i < LAYERS.size(); i++) {
            if (LAYERS.get(i).contains(pkg)) return i;
        }
        return -1;
    }

    @Test
    void everyPackageHasALayer() {
        List<String> unplaced = graph.keySet().stream().filter(p -> layer(p) < 0).map(ArchitectureTest::show).toList();
        assertEquals(List.of(), unplaced, "place each new package in LAYERS (and in the README's picture)");
    }

    @Test
    void nothingImportsUpwardOrSideways() {
        List<String> bad = new ArrayList<>();
        graph.forEach((from, tos) -> {
            for (String to : tos) {
                if (layer(to) >= layer(from)) bad.add(show(from) + " -> " + show(to));
            }
        });
        assertEquals(List.of(), bad, "a package may only use packages of lower layers");
    }

    @Test
    void onlyTheWiringSeesAStorageBackend() {
        List<String> bad = new ArrayList<>();
        graph.forEach((from, tos) -> {
            for (String to : tos) {
                if (BACKENDS.contains(to) && !MAY_USE_BACKENDS.contains(from)) bad.add(show(from) + " -> " + show(to));
            }
        });
        assertEquals(List.of(), bad, "use the interfaces in io.mcpoauth.store; only the wiring picks a backend");
    }

    @Test
    void noPackageCycle() {
        List<List<String>> cycles = stronglyConnected(graph).stream().filter(c -> c.size() > 1).toList();
        if (!cycles.isEmpty()) fail("package cycles: " + cycles);
    }

    /** Tarjan's algorithm, iterative enough for a few dozen packages. */
    static List<List<String>> stronglyConnected(Map<String, Set<String>> g) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<List<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String v : g.keySet()) {
            if (!index.containsKey(v)) strongConnect(v, g, index, low, stack, onStack, out, counter);
        }
        return out;
    }

    private static void strongConnect(String v, Map<String, Set<String>> g, Map<String, Integer> index, Map<String, Integer> low,
                                      Deque<String> stack, Set<String> onStack, List<List<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : g.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                strongConnect(w, g, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            List<String> component = new ArrayList<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(show(w));
            } while (!w.equals(v));
            out.add(component);
        }
    }

    @Test
    void theCycleFinderFindsACycle() {
        Map<String, Set<String>> g = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
        List<List<String>> cycles = stronglyConnected(new TreeMap<>(g)).stream().filter(c -> c.size() > 1).toList();
        assertEquals(1, cycles.size());
        assertEquals(Set.of("a", "b", "c"), new TreeSet<>(cycles.get(0)));
    }
}
