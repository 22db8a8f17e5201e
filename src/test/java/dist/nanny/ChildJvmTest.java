package dist.nanny;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which JVM options and ahead-of-time cache options a child JVM starts with. */
class ChildJvmTest {

    @Test
    void compactObjectHeadersFromJdk25Only() {
        assertEquals(List.of("-XX:CompileThresholdScaling=0.2", "-XX:FreqInlineSize=100", "-XX:InlineSmallCode=500"),
                ChildJvm.roleJvmOptions(24), "an experimental option before 25: a JVM would refuse it");
        assertEquals(List.of("-XX:CompileThresholdScaling=0.2", "-XX:FreqInlineSize=100", "-XX:InlineSmallCode=500",
                "-XX:+UseCompactObjectHeaders"), ChildJvm.roleJvmOptions(25));
    }

    @Test
    void aWorkerRunsTheParallelCollectorUnlessItsOptionsNameOne() {
        assertEquals(List.of("-XX:+UseParallelGC"), ChildJvm.gcOptions("worker", List.of("-Xmx1g")));
        assertEquals(List.of(), ChildJvm.gcOptions("worker", List.of("-Xmx1g", "-XX:+UseG1GC")));
        assertEquals(List.of(), ChildJvm.gcOptions("worker", List.of(" -XX:+UseZGC")));
        assertEquals(List.of(), ChildJvm.gcOptions("worker", List.of("-XX:-UseParallelGC")));
        assertEquals(List.of("-XX:+UseParallelGC"), ChildJvm.gcOptions("worker", List.of("-XX:+UseGCOverheadLimit")),
                "a GC tuning option is no choice of collector");
        assertEquals(List.of(), ChildJvm.gcOptions("nanny", List.of()));
        assertEquals(List.of(), ChildJvm.gcOptions("scheduler", List.of()));
    }

    @Test
    void aWorkersHeapLeavesTheJvmItsOwnMemoryBelowTheNannysLine() {
        long mib = 1 << 20;
        // 256 MiB: 0.95 x 256 = 243 MiB, less 112 for the JVM itself; 60% (153) would leave it a few MiB
        assertEquals(131, ChildJvm.workerHeapMb(256 * mib, 0.95));
        assertEquals(614, ChildJvm.workerHeapMb(1024 * mib, 0.95), "a large limit: 60% of it");
        assertEquals(2457, ChildJvm.workerHeapMb(4096 * mib, 0.95));
        assertEquals(32, ChildJvm.workerHeapMb(100 * mib, 0.95), "too small a limit: the smallest heap");
        for (long limit = 128; limit <= 8192; limit += 8) {
            long heap = ChildJvm.workerHeapMb(limit * mib, 0.95);
            assertTrue(heap <= limit * 0.6, limit + " MiB: heap " + heap);
            assertTrue(heap == 32 || heap + 112 <= limit * 0.95, limit + " MiB: heap " + heap);
        }
    }

    @Test
    void aRoleStartsFromItsOwnCacheWhenTheFileIsThere(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("worker.aot"), "x");
        assertEquals(List.of("-XX:AOTCache=" + dir.resolve("worker.aot"), "-Xlog:aot=off", "-Xlog:cds=off"),
                ChildJvm.aotOptions("worker", 25, dir.toString(), ""));
        assertEquals(List.of(), ChildJvm.aotOptions("nanny", 25, dir.toString(), ""), "no nanny.aot: no option");
    }

    @Test
    void nothingBeforeJdk25OrWithoutADirectory(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("worker.aot"), "x");
        assertEquals(List.of(), ChildJvm.aotOptions("worker", 21, dir.toString(), ""));
        assertEquals(List.of(), ChildJvm.aotOptions("worker", 24, dir.toString(), dir.toString()));
        assertEquals(List.of(), ChildJvm.aotOptions("worker", 25, "", ""));
        assertEquals(List.of(), ChildJvm.aotOptions("worker", 25, "  ", " "));
    }

    @Test
    void aTrainingRunRecordsEachProcessUnderItsRoleAndPid(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("worker.aot"), "x"); // recording wins over using a cache
        assertEquals(List.of("-XX:AOTMode=record", "-XX:AOTConfiguration=" + dir.resolve("worker-%p.aotconf")),
                ChildJvm.aotOptions("worker", 25, dir.toString(), dir.toString()));
    }

    @Test
    void anArgumentThatIsNoRoleNameGetsNoCache(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("worker.aot"), "x");
        assertEquals(List.of(), ChildJvm.aotOptions("../worker", 25, dir.toString(), ""));
        assertEquals(List.of(), ChildJvm.aotOptions("", 25, dir.toString(), ""));
    }
}
