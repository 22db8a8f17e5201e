package dist.conformance;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every case of the dask test files the suite follows (listed in {@code dask-tests.txt}) is
 * accounted for in the test sources: ported (named after {@code dask:} in the comment of a test),
 * not applicable (in a class's "Not applicable" list, with its reason), later (under "Later:",
 * for capabilities still to come) or a gap (under "Gap:", with what dist does instead). The
 * README's table of counts must match what this test counts.
 */
class ConformanceLedgerTest {
    enum Kind { PORTED, NOT_APPLICABLE, LATER, GAP }

    private static final Pattern NAME = Pattern.compile("(?:(test_[a-z_]+)\\.py::)?(test_[A-Za-z0-9_]+)");
    private static final Path TESTS = Path.of("src/test/java");

    /** file::name of each dask case, in file order. */
    static List<String> daskCases() throws IOException {
        try (InputStream in = ConformanceLedgerTest.class.getResourceAsStream("dask-tests.txt")) {
            assertNotNull(in, "dask-tests.txt is missing from the test resources");
            List<String> out = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    out.add(line.strip());
                }
            }
            return out;
        }
    }

    /** A name as found in a source: the dask file it names (or null), the case, and how it is accounted. */
    record Mention(String file, String name, Kind kind, String where) {}

    static List<Mention> mentions() throws IOException {
        List<Mention> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(TESTS)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                scan(p, Files.readAllLines(p), out);
            }
        }
        return out;
    }

    /**
     * Reads the header lists ("Not applicable", "Later:", "Gap:") and the comments of tests: a
     * comment block that says {@code dask:} and is followed by a test annotation ports the cases
     * it names before its first dash.
     */
    static void scan(Path p, List<String> lines, List<Mention> out) {
        Kind section = null;
        boolean inList = false;
        List<String> block = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            boolean comment = line.startsWith("/**") || line.startsWith("*") || line.startsWith("//")
                    || line.startsWith("/*");
            if (!comment) {
                section = null;
                if (!block.isEmpty() && isTestAnnotation(line, lines, i)) {
                    ported(p, block, out);
                }
                int trailing = line.indexOf("// ");
                if (trailing > 0 && line.contains("void ") && precededByTest(lines, i)) {
                    // void aTest() { // test_client.py::test_replicate
                    Matcher m = NAME.matcher(line.substring(trailing));
                    while (m.find()) {
                        out.add(new Mention(m.group(1), m.group(2), Kind.PORTED, p + ":" + (i + 1)));
                    }
                }
                if (!line.startsWith("@")) {
                    block.clear();
                }
                continue;
            }
            if (line.startsWith("/**") || line.startsWith("/*")) {
                block.clear();
                section = null;
            }
            block.add(line);
            String text = line.replaceFirst("^(/\\*\\*|/\\*|\\*/|\\*|//)\\s?", "").strip();
            String t = text.startsWith("<p>") ? text.substring(3).strip() : text;
            if (t.contains("Not applicable")) {
                section = Kind.NOT_APPLICABLE;
                inList = false;
            } else if (t.startsWith("Later:") || t.contains(" Later:")) {
                section = Kind.LATER;
                inList = false;
            } else if (t.startsWith("Gap:") || t.startsWith("Gaps:") || t.contains(" Gap:") || t.contains(" Gaps:")) {
                section = Kind.GAP;
                inList = false;
            } else if (section != null) {
                if (text.contains("<ul>")) {
                    inList = true;
                }
                if (inList && text.contains("</ul>")) {
                    section = null;
                    inList = false;
                    continue;
                }
                if (!inList && (text.isBlank() || text.startsWith("<p>") || line.startsWith("*/"))) {
                    section = null;
                }
            }
            if (section != null) {
                Matcher m = NAME.matcher(text);
                while (m.find()) {
                    out.add(new Mention(m.group(1), m.group(2), section, p + ":" + (i + 1)));
                }
            }
            if (line.endsWith("*/")) {
                section = null;
            }
        }
    }

    private static boolean isTestAnnotation(String line, List<String> lines, int i) {
        for (int j = i; j < Math.min(lines.size(), i + 4); j++) {
            String l = lines.get(j).strip();
            if (l.startsWith("@Test") || l.startsWith("@RepeatedTest") || l.startsWith("@ParameterizedTest")) {
                return true;
            }
            if (!l.startsWith("@")) {
                return false;
            }
        }
        return false;
    }

    private static boolean precededByTest(List<String> lines, int i) {
        for (int j = i - 1; j >= 0 && j >= i - 4; j--) {
            String l = lines.get(j).strip();
            if (l.startsWith("@Test") || l.startsWith("@RepeatedTest") || l.startsWith("@ParameterizedTest")) {
                return true;
            }
            if (!l.startsWith("@")) {
                return false;
            }
        }
        return false;
    }

    private static void ported(Path p, List<String> block, List<Mention> out) {
        StringBuilder text = new StringBuilder();
        for (String l : block) {
            text.append(l.replaceFirst("^(/\\*\\*|/\\*|\\*/|\\*|//)\\s?", "")).append(' ');
        }
        String s = text.toString();
        int at = s.indexOf("dask:");
        if (at < 0) {
            // "Follows dask's test_nanny.py::test_nanny_process_failure": named with its file
            Matcher q = Pattern.compile("(test_[a-z_]+)\\.py::(test_[A-Za-z0-9_]+)").matcher(s);
            while (q.find()) {
                out.add(new Mention(q.group(1), q.group(2), Kind.PORTED, p.toString()));
            }
            return;
        }
        String named = s.substring(at + 5);
        int dash = named.indexOf('—');
        if (dash >= 0) {
            named = named.substring(0, dash);
        }
        Matcher m = NAME.matcher(named);
        while (m.find()) {
            out.add(new Mention(m.group(1), m.group(2), Kind.PORTED, p.toString()));
        }
    }

    /** How each dask case is accounted: the strongest mention wins (ported over the lists). */
    static Map<String, Kind> ledger() throws IOException {
        List<String> cases = daskCases();
        Map<String, List<String>> filesOf = new LinkedHashMap<>();
        for (String c : cases) {
            String[] fn = c.split("::");
            filesOf.computeIfAbsent(fn[1], n -> new ArrayList<>()).add(fn[0].replace(".py", ""));
        }
        Map<String, Kind> kinds = new LinkedHashMap<>();
        for (Mention m : mentions()) {
            List<String> files = filesOf.get(m.name());
            if (files == null) {
                continue;
            }
            for (String f : files) {
                if (m.file() != null && !m.file().equals(f)) {
                    continue;
                }
                kinds.merge(f + ".py::" + m.name(), m.kind(), (a, b) -> a.ordinal() <= b.ordinal() ? a : b);
            }
        }
        Map<String, Kind> out = new LinkedHashMap<>();
        for (String c : cases) {
            out.put(c, kinds.get(c));
        }
        return out;
    }

    /**
     * The README's table rows, one per dask file and a total: cases, then how many are ported, not
     * applicable, later and gaps (an unaccounted case counts in the file's cases only).
     */
    static List<String> rows(Map<String, Kind> ledger) {
        Map<String, int[]> perFile = new TreeMap<>(); // cases, then one count per kind
        int[] total = new int[Kind.values().length + 1];
        for (Map.Entry<String, Kind> e : ledger.entrySet()) {
            int[] c = perFile.computeIfAbsent(e.getKey().split("::")[0], f -> new int[Kind.values().length + 1]);
            c[0]++;
            total[0]++;
            if (e.getValue() != null) {
                c[e.getValue().ordinal() + 1]++;
                total[e.getValue().ordinal() + 1]++;
            }
        }
        List<String> out = new ArrayList<>();
        perFile.forEach((file, c) -> out.add(row(file, c)));
        out.add(row("all", total));
        return out;
    }

    private static String row(String name, int[] c) {
        StringBuilder sb = new StringBuilder("| ").append(name);
        for (int n : c) {
            sb.append(" | ").append(n);
        }
        return sb.append(" |").toString();
    }

    @Test
    void everyDaskCaseIsAccountedFor() throws IOException {
        Map<String, Kind> ledger = ledger();
        TreeSet<String> missing = new TreeSet<>();
        ledger.forEach((k, v) -> {
            if (v == null) {
                missing.add(k);
            }
        });
        assertTrue(missing.isEmpty(), missing.size() + " dask cases are neither ported nor listed (not applicable,"
                + " later or gap) in a conformance class: " + missing);
    }

    @Test
    void readmeCountsMatchTheLedger() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        for (String row : rows(ledger())) {
            assertTrue(readme.contains(row), "README's conformance table lacks the row " + row);
        }
    }

    /** Prints the table for the README: {@code ./run.sh test -Dtest=ConformanceLedgerTest#table}. */
    @Test
    void table() throws IOException {
        List<String> rows = rows(ledger());
        System.out.print("| dask file | cases | ported | not applicable | later | gap |\n| --- | --- | --- | --- | --- | --- |\n"
                + String.join("\n", rows) + "\n");
        assertEquals(21, rows.size(), "twenty dask files and the total");
    }
}
