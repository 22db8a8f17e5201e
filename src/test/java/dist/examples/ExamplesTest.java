package dist.examples;

import dist.Client;
import dist.LocalCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The example programs on small data, on one thread-mode cluster, checked against a plain local computation. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExamplesTest {
    static LocalCluster cluster;
    static Client client;

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).start();
        client = cluster.client();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) cluster.close();
    }

    /** The bag shuffle example on 1 MB of text and 20,000 records a side. */
    @Test
    void bagShuffleMatchesTheLocalComputation() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        BagShuffle.Result r = BagShuffle.run(client, 1, 20_000, new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertTrue(r.ok(), r + "\n" + buf);
        assertEquals(20_000, r.joinedPairs());
        assertTrue(r.distinctWords() > 1000, r.toString());
    }

    @Test
    void wordCountMatchesACountDoneHere(@TempDir Path dir) throws Exception {
        List<Path> files = WordCount.generateCorpus(dir, 6, 5_000);
        assertEquals(files, WordCount.textFiles(dir));
        assertEquals(Files.readString(files.get(0)), Files.readString(
                WordCount.generateCorpus(dir.resolve("again"), 1, 5_000).get(0)), "the corpus is the same every time");

        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        WordCount.Result r = WordCount.run(client, files, new PrintStream(buf, true, StandardCharsets.UTF_8), false);

        Map<String, Long> expected = new HashMap<>();
        long words = 0;
        for (Path f : files) {
            for (String w : Files.readString(f).split("\\s+")) {
                if (!w.isEmpty()) {
                    expected.merge(w, 1L, Long::sum);
                    words++;
                }
            }
        }
        assertEquals(30_000, words);
        assertEquals(expected, r.counts(), "fewer than 10,000 distinct words per file: nothing is cut");
        List<Map.Entry<String, Long>> top = r.top(10);
        assertEquals(10, top.size());
        for (int i = 1; i < top.size(); i++) {
            assertTrue(top.get(i - 1).getValue() >= top.get(i).getValue(), top.toString());
        }
        String log = buf.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("100% Completed"), log);
    }

    @Test
    void topItemsKeepsTheTenThousandMostFrequentInOrder() {
        Map<String, Long> counts = new HashMap<>();
        for (int i = 0; i < 12_000; i++) counts.put("w" + i, (long) i);
        Map<String, Long> top = WordCount.topItems(counts);
        assertEquals(WordCount.TOP_PER_FILE, top.size());
        assertEquals("w11999", top.keySet().iterator().next());
        assertFalse(top.containsKey("w1999"));
        assertTrue(top.containsKey("w2000"));
    }

    @Test
    void wordCountNamesAMissingFolder(@TempDir Path dir) {
        Exception e = assertThrows(java.io.IOException.class, () -> WordCount.textFiles(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("folder"), e.getMessage());
    }

    @Test
    void treeReductionIsExactForEvenAndOddSizes() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(5050, TreeReduction.run(client, 100, quiet, false));
        assertEquals(1, TreeReduction.run(client, 1, quiet, false));
        assertEquals(37L * 38 / 2, TreeReduction.run(client, 37, quiet, false));
        assertThrows(IllegalArgumentException.class, () -> TreeReduction.run(client, 0, quiet, false));
    }

    @Test
    void examplesResolveByLooseName() {
        assertEquals("dist.examples.WordCount", Examples.resolve("wordcount"));
        assertEquals("dist.examples.WordCount", Examples.resolve("word-count"));
        assertEquals("dist.examples.TreeReduction", Examples.resolve("TreeReduction"));
        assertEquals("dist.examples.PreemptibleWorkers", Examples.resolve("preemptible_workers"));
        assertNull(Examples.resolve("nosuch"));
        for (String n : Examples.NAMES) {
            assertDoesNotThrow(() -> Class.forName("dist.examples." + n).getMethod("main", String[].class));
        }
    }
}
