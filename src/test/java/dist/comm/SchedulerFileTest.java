package dist.comm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SchedulerFileTest {

    @Test
    void writtenAddressIsReadBack(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("sub/scheduler.json");
        SchedulerFile.write(f, "127.0.0.1:8786", "scheduler-\"1\"");
        assertEquals("127.0.0.1:8786", SchedulerFile.readAddress(f));
        assertTrue(Files.readString(f).contains("\"id\": \"scheduler-\\\"1\\\"\""), Files.readString(f));
        try (var files = Files.list(f.getParent())) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }

    /** A file dask's scheduler wrote names its address with the tcp:// scheme. */
    @Test
    void readsDasksFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("scheduler.json");
        Files.writeString(f, "{\"type\": \"Scheduler\", \"id\": \"Scheduler-1\", \"address\": \"tcp://10.0.0.5:8786\","
                + " \"services\": {\"dashboard\": 8787}, \"workers\": {}}");
        assertEquals("10.0.0.5:8786", SchedulerFile.readAddress(f));
    }

    @Test
    void awaitGivesUpAfterItsTimeoutNamingTheFile(@TempDir Path dir) {
        Path f = dir.resolve("never.json");
        TimeoutException e = assertThrows(TimeoutException.class,
                () -> SchedulerFile.awaitAddress(f, Duration.ofMillis(100)));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void fileWithoutAddressIsAnError(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{}");
        assertThrows(IOException.class, () -> SchedulerFile.awaitAddress(f, Duration.ofMillis(100)));
    }

    /** Only the scheduler the file names removes it: a newer scheduler's file stays. */
    @Test
    void removedOnlyByTheSchedulerItNames(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("scheduler.json");
        SchedulerFile.write(f, "127.0.0.1:2", null);
        SchedulerFile.removeIfNames(f, "127.0.0.1:1");
        assertTrue(Files.exists(f));
        SchedulerFile.removeIfNames(f, "127.0.0.1:2");
        assertFalse(Files.exists(f));
    }
}
