package dist.layout;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Layers point down only: serial → protocol → comm → scheduler / worker / nanny → client API →
 * cluster → dashboard → cli. Reads every file of src/main and fails on a reference that points up
 * (or sideways between the three roles), naming the file and the reference.
 */
class LayeringTest {
    static final Path MAIN = Path.of("src/main/java");

    /** The rank of each package; a file may use only packages of a lower rank, or its own. */
    static final Map<String, Integer> RANK = Map.ofEntries(
            Map.entry("dist.config", 0), Map.entry("dist.serial", 1), Map.entry("dist.compress", 1),
            Map.entry("dist.protocol", 2), Map.entry("dist.comm", 3),
            Map.entry("dist.scheduler", 4), Map.entry("dist.worker", 4), Map.entry("dist.nanny", 4),
            Map.entry("dist", 5), Map.entry("dist.client", 5),
            Map.entry("dist.cluster", 6), Map.entry("dist.dashboard", 7),
            Map.entry("dist.cli", 8), Map.entry("dist.examples", 8));

    /** Files of the package {@code dist} (named by users) that belong to a higher layer than the client API. */
    static final Map<String, Integer> ROOT_FILES = Map.of("dist.LocalCluster", 6, "dist.Main", 8);

    private static final Pattern REF = Pattern.compile("\\bdist(?:\\.[a-z][a-z0-9]*)*\\.[A-Z][A-Za-z0-9_]*");
    private static final Pattern PACKAGE = Pattern.compile("^package ([a-z.]+);", Pattern.MULTILINE);

    record Violation(String file, String reference, String why) {
        @Override
        public String toString() {
            return file + ": " + reference + " (" + why + ")";
        }
    }

    @Test
    void noArrowPointsUp() {
        List<Violation> bad = scan(MAIN);
        if (!bad.isEmpty()) {
            StringBuilder b = new StringBuilder(bad.size() + " references point up the layers:");
            bad.forEach(v -> b.append("\n  ").append(v));
            fail(b.toString());
        }
    }

    @Test
    void everyPackageHasALayer() throws IOException {
        TreeSet<String> unknown = new TreeSet<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            files.filter(p -> p.toString().endsWith(".java")).forEach(p -> {
                String pkg = packageOf(read(p));
                if (!RANK.containsKey(pkg)) {
                    unknown.add(pkg + " (" + p + ")");
                }
            });
        }
        assertTrue(unknown.isEmpty(), "packages without a layer in LayeringTest.RANK: " + unknown);
    }

    /** The check itself must see an upward import, a qualified name, and a same-package use of a higher file. */
    @Test
    void theCheckCatchesUpwardReferences(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        write(dir, "dist/comm/Up.java", "package dist.comm;\nimport dist.scheduler.SchedulerServer;\nclass Up {}\n");
        write(dir, "dist/worker/Side.java", "package dist.worker;\nclass Side { dist.nanny.Nanny n; }\n");
        write(dir, "dist/Uses.java", "package dist;\nclass Uses { LocalCluster c; /* Main in a comment */ "
                + "String s = \"dist.cli.Main\"; }\n");
        write(dir, "dist/cli/Fine.java", "package dist.cli;\nimport dist.comm.Connection;\nclass Fine {}\n");
        List<Violation> bad = scan(dir);
        List<String> lines = bad.stream().map(v -> v.toString().replace('\\', '/')).toList();
        assertEquals(List.of("dist/Uses.java: dist.LocalCluster (the client API may not use cluster)",
                "dist/comm/Up.java: dist.scheduler.SchedulerServer (comm may not use scheduler)",
                "dist/worker/Side.java: dist.nanny.Nanny (worker may not use nanny)"), lines);
    }

    static List<Violation> scan(Path root) {
        List<Violation> bad = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            files.filter(p -> p.toString().endsWith(".java")).sorted().forEach(p -> check(root, p, bad));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bad;
    }

    private static void check(Path root, Path file, List<Violation> bad) {
        String code = stripCommentsAndStrings(read(file));
        String pkg = packageOf(code);
        String self = pkg + "." + file.getFileName().toString().replace(".java", "");
        Integer rank = ROOT_FILES.getOrDefault(self, RANK.get(pkg));
        if (rank == null) {
            return; // reported by everyPackageHasALayer
        }
        String name = root.relativize(file).toString();
        Set<String> seen = new TreeSet<>();
        Matcher m = REF.matcher(code);
        while (m.find()) {
            String ref = m.group();
            String refPkg = ref.substring(0, ref.lastIndexOf('.'));
            if (refPkg.equals(pkg) || !seen.add(ref)) {
                continue;
            }
            Integer to = ROOT_FILES.getOrDefault(ref, RANK.get(refPkg));
            if (to == null) {
                continue;
            }
            if (to > rank || (to.equals(rank) && rank == 4)) {
                bad.add(new Violation(name, ref, layer(pkg, self) + " may not use " + layer(refPkg, ref)));
            }
        }
        if (pkg.equals("dist")) { // files of one package need no import: look for the higher ones by name
            for (Map.Entry<String, Integer> e : ROOT_FILES.entrySet()) {
                String simple = e.getKey().substring("dist.".length());
                if (!e.getKey().equals(self) && e.getValue() > rank
                        && Pattern.compile("\\b" + simple + "\\b").matcher(code).find()) {
                    bad.add(new Violation(name, e.getKey(), layer(pkg, self) + " may not use " + layer("dist", e.getKey())));
                }
            }
        }
    }

    private static String layer(String pkg, String type) {
        Integer r = ROOT_FILES.get(type);
        if (r != null) {
            return r == 6 ? "cluster" : "cli";
        }
        return pkg.equals("dist") ? "the client API" : pkg.substring("dist.".length());
    }

    static String packageOf(String code) {
        Matcher m = PACKAGE.matcher(code);
        return m.find() ? m.group(1) : "";
    }

    /** Comments, string and char literals become blanks, so only code is searched. */
    static String stripCommentsAndStrings(String s) {
        StringBuilder b = new StringBuilder(s.length());
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == '/' && i + 1 < n && s.charAt(i + 1) == '/') {
                while (i < n && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                int end = s.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                b.append(' ');
            } else if (s.startsWith("\"\"\"", i)) {
                int end = s.indexOf("\"\"\"", i + 3);
                i = end < 0 ? n : end + 3;
                b.append("\"\"");
            } else if (c == '"' || c == '\'') {
                i++;
                while (i < n && s.charAt(i) != c) {
                    i += s.charAt(i) == '\\' ? 2 : 1;
                }
                i++;
                b.append(c).append(c);
            } else {
                b.append(c);
                i++;
            }
        }
        return b.toString();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path dir, String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }
}
