package dist.config;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConfigTest {
    static final String AF = "distributed.scheduler.allowed-failures";

    @AfterEach
    void clean() {
        System.clearProperty("dist.scheduler.allowed-failures");
        System.clearProperty("dist.config");
        Config.reload();
    }

    @Test
    void defaultsThenPropertyThenCode() {
        assertEquals(3, Config.getInt(AF));
        assertEquals("default", Config.source(AF));
        System.setProperty("dist.scheduler.allowed-failures", "50");
        assertEquals(50, Config.getInt(AF));
        try (Config.Override o = Config.set(AF, 100)) {
            assertEquals(100, Config.getInt(AF));
            assertEquals("Config.set", Config.source(AF));
            assertTrue(Config.childJvmOptions().contains("-Ddist.scheduler.allowed-failures=100"));
        }
        assertEquals(50, Config.getInt(AF));
    }

    @Test
    void namesOfEnvironmentAndProperty() {
        assertEquals("DIST_SCHEDULER__ALLOWED_FAILURES", Config.environmentName(AF));
        assertEquals("dist.scheduler.allowed-failures", Config.propertyName(AF));
        assertEquals("DIST_WORKER__HEARTBEAT_INTERVAL", Config.environmentName("distributed.worker.heartbeat-interval"));
    }

    /**
     * Map keys: entries come from system properties and code, code wins, an unset entry is gone until
     * its override closes, and entries set in code reach child JVMs as properties.
     */
    @Test
    void mapKeysGatherTheirEntriesFromEverySource() {
        String env = Config.NANNY_ENVIRON;
        assertEquals("DIST_NANNY__ENVIRON__OMP_NUM_THREADS", Config.environmentName(env + ".OMP_NUM_THREADS"));
        System.setProperty("dist.nanny.environ.A", "1");
        System.setProperty("dist.nanny.environ.B", "2");
        try {
            assertEquals(java.util.Map.of("A", "1", "B", "2"), Config.getMap(env));
            try (Config.Override o = Config.set(env, java.util.Map.of("B", 3, "C", "x"));
                 Config.Override u = Config.unset(env + ".A")) {
                assertEquals(java.util.Map.of("B", "3", "C", "x"), Config.getMap(env));
                assertTrue(Config.childJvmOptions().contains("-Ddist.nanny.environ.C=x"), Config.childJvmOptions().toString());
            }
            assertEquals(java.util.Map.of("A", "1", "B", "2"), Config.getMap(env));
            assertThrows(IllegalArgumentException.class, () -> Config.getMap(AF));
        } finally {
            System.clearProperty("dist.nanny.environ.A");
            System.clearProperty("dist.nanny.environ.B");
        }
    }

    @Test
    void durations() {
        assertEquals(Duration.ofSeconds(60), Config.getDuration("distributed.scheduler.worker-ttl"));
        assertEquals(Duration.ofMillis(500), Config.parseDuration("k", "500ms", "t"));
        assertEquals(Duration.ofMillis(1500), Config.parseDuration("k", "1.5", "t"));
        assertEquals(Duration.ofMinutes(2), Config.parseDuration("k", "2m", "t"));
    }

    @Test
    void booleans() {
        String ws = "distributed.scheduler.work-stealing";
        assertTrue(Config.getBoolean(ws));
        try (Config.Override o = Config.set(ws, "FALSE")) {
            assertFalse(Config.getBoolean(ws));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Config.set(ws, "no"));
        assertTrue(e.getMessage().contains(ws) && e.getMessage().contains("true or false"), e.getMessage());
    }

    @Test
    void badInputNamesKeyValueAndSource() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Config.set(AF, "many"));
        assertTrue(e.getMessage().contains(AF) && e.getMessage().contains("many"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Config.get("distributed.no.such-key"));
        assertTrue(e.getMessage().contains("known keys"), e.getMessage());
        System.setProperty("dist.scheduler.allowed-failures", "-2");
        e = assertThrows(IllegalArgumentException.class, () -> Config.getInt(AF));
        assertTrue(e.getMessage().contains("system property dist.scheduler.allowed-failures"), e.getMessage());
    }

    @Test
    void fileIsReadAndCheckedButRanksBelowProperties(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("dist.properties");
        Files.writeString(f, "# test\n" + AF + " = 7\ndistributed.scheduler.worker-ttl=10s\n");
        System.setProperty("dist.config", f.toString());
        Config.reload();
        assertEquals(7, Config.getInt(AF));
        assertEquals(Duration.ofSeconds(10), Config.getDuration("distributed.scheduler.worker-ttl"));
        assertTrue(Config.source(AF).startsWith("file "));
        System.setProperty("dist.scheduler.allowed-failures", "8");
        assertEquals(8, Config.getInt(AF));
        System.clearProperty("dist.scheduler.allowed-failures");
        Files.writeString(f, "distributed.scheduler.alowed-failures=7\n");
        Config.reload();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Config.getInt(AF));
        assertTrue(e.getMessage().contains("alowed-failures") && e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void everyKeyHasAValidDefault() {
        for (Config.Key k : Config.KEYS.values()) {
            assertTrue(k.name().startsWith("distributed."), k.name());
            assertFalse(k.doc().isBlank(), k.name());
            assertNotNull(Config.get(k.name()));
        }
        assertDoesNotThrow(() -> Config.getDouble("distributed.nanny.memory-terminate-fraction"));
    }

    /** Prints one key's value: run in a child JVM with a changed environment. */
    public static void main(String[] args) {
        System.out.println(Config.get(args[0]) + " from " + Config.source(args[0]));
    }

    @Test
    void environmentVariableIsRead() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-cp", System.getProperty("java.class.path"), ConfigTest.class.getName(), AF));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DIST_SCHEDULER__ALLOWED_FAILURES", "100");
        Process p = pb.start();
        try {
            String line;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                line = r.readLine();
            }
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals("100 from environment DIST_SCHEDULER__ALLOWED_FAILURES", line);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void theReadmeListsEveryKeyWithItsDefault() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (Config.Key k : Config.KEYS.values()) {
            String d = k.defaultValue().isEmpty() ? "(empty)" : k.defaultValue();
            assertTrue(readme.contains("| `" + k.name() + "` | `" + d + "` |"), "README misses " + k.name());
        }
    }
}
