package dist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The cluster dump's two file formats read back what they were given. */
class ClusterDumpTest {

    static Map<String, Object> sample() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", "a \"quoted\"\\ line\nand a tab\t, é, \u0001");
        m.put("long", -12_345_678_901L);
        m.put("double", 1.0E10);
        m.put("small", 2.5E-7);
        m.put("yes", true);
        m.put("none", null);
        m.put("list", Arrays.asList(1L, "two", null, List.of()));
        m.put("empty", Map.of());
        m.put("nested", Map.of("k: v, [x]", Map.of("deep", List.of(Map.of("a", 1L)))));
        return m;
    }

    @Test
    void bothFormatsReadBackWhatWasWritten(@TempDir Path dir) throws Exception {
        for (String format : List.of("msgpack", "yaml")) {
            Path f = ClusterDump.fileFor(dir.resolve("s"), format);
            ClusterDump.write(sample(), f, format);
            assertEquals(sample(), ClusterDump.load(f), format);
        }
    }

    @Test
    void aFileOfNeitherFormatIsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("s.yaml");
        Files.writeString(f, "{\"a\": [1, 2}");
        assertThrows(java.io.UncheckedIOException.class, () -> ClusterDump.load(f));
        Path g = dir.resolve("s.json");
        Files.writeString(g, "{}");
        assertThrows(java.io.UncheckedIOException.class, () -> ClusterDump.load(g));
        assertThrows(IllegalArgumentException.class, () -> ClusterDump.fileFor(g, "json"));
    }
}
