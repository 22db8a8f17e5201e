package dist;

import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.serial.Encoded;
import dist.worker.DataStore;
import dist.worker.MemoryPolicy;
import dist.worker.WorkerServer;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Flight Recorder events of a run, read back from the recording file: tasks executed, data
 * fetched from a peer, results spilled and read back, a worker lost.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FlightEventsTest {
    static final Duration T = Duration.ofSeconds(30);

    static int inc(int x) {
        return x + 1;
    }

    static int fail(int x) {
        throw new IllegalStateException("no " + x);
    }

    static Recording recording() {
        Recording r = new Recording();
        for (String e : List.of("dist.TaskExecuted", "dist.Transfer", "dist.Spill", "dist.WorkerLost")) {
            r.enable(e);
        }
        r.start();
        return r;
    }

    static List<RecordedEvent> events(Recording r, Path dir, String type) throws Exception {
        Path file = dir.resolve("run.jfr");
        r.dump(file);
        // a dump holds the chunks the recording overlaps, which may carry events of recordings before it
        return RecordingFile.readAllEvents(file).stream().filter(e -> e.getEventType().getName().equals(type))
                .filter(e -> !e.getStartTime().isBefore(r.getStartTime())).toList();
    }

    @Test
    void tasksTransfersAndALostWorkerAreRecorded(@TempDir Path dir) throws Exception {
        try (Recording r = recording()) {
            SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
            WorkerServer a = WorkerServer.start(new WorkerServer.Options(s.address(), "127.0.0.1", 0, 1, "a", 0,
                    8 * 1024, CommConfig.DEFAULT));
            WorkerServer b = WorkerServer.start(new WorkerServer.Options(s.address(), "127.0.0.1", 0, 1, "b", 0,
                    8 * 1024, CommConfig.DEFAULT));
            try (Client c = Client.connect(s.address())) {
                assertTrue(s.awaitWorkers(2, 30, TimeUnit.SECONDS));
                Future<Integer> x = c.with(Options.defaults().key("inc-1").workers(a.address())).submit(FlightEventsTest::inc, 1);
                Future<Integer> y = c.with(Options.defaults().key("inc-2").workers(b.address())).submit(FlightEventsTest::inc, x);
                assertEquals(3, y.result(T));
                Future<Integer> bad = c.with(Options.defaults().key("fail-3").workers(a.address())).submit(FlightEventsTest::fail, 1);
                assertTrue(Wait.until(T, bad::isDone));
                b.close();
                assertTrue(Wait.until(T, () -> c.workersInfo().size() == 1), "the scheduler removed b");
            } finally {
                a.close();
                b.close();
                s.close();
            }
            r.stop();

            List<RecordedEvent> tasks = events(r, dir, "dist.TaskExecuted");
            RecordedEvent ix = only(tasks, "inc-1");
            assertEquals("inc", ix.getString("group"));
            assertEquals(a.address(), ix.getString("worker"));
            assertTrue(ix.getLong("runTime") > 0);
            assertTrue(ix.getDuration().toNanos() >= ix.getLong("runTime"), "the event begins with the run: "
                    + ix.getDuration() + " against a run of " + ix.getLong("runTime") + " ns");
            assertTrue(ix.getThread() != null && !ix.getThread().getJavaName().isEmpty(), "the thread that ran it");
            assertTrue(ix.getLong("resultBytes") > 0);
            assertFalse(ix.getBoolean("erred"));
            assertEquals(b.address(), only(tasks, "inc-2").getString("worker"));
            RecordedEvent fz = only(tasks, "fail-3");
            assertTrue(fz.getBoolean("erred"));
            assertEquals("fail", fz.getString("group"));

            List<RecordedEvent> transfers = events(r, dir, "dist.Transfer");
            RecordedEvent t = transfers.stream().filter(e -> e.getString("keys").equals("inc-1")).findFirst()
                    .orElseThrow(() -> new AssertionError("no transfer of inc-x in " + transfers));
            assertEquals(a.address(), t.getString("from"));
            assertEquals(b.address(), t.getString("to"));
            assertTrue(t.getLong("bytes") > 0);
            assertTrue(t.getLong("transferTime") >= 0);

            List<RecordedEvent> lost = events(r, dir, "dist.WorkerLost");
            RecordedEvent l = lost.stream().filter(e -> e.getString("address").equals(b.address())).findFirst()
                    .orElseThrow(() -> new AssertionError("no WorkerLost of b in " + lost));
            assertFalse(l.getString("reason").isEmpty());
        }
    }

    static RecordedEvent only(List<RecordedEvent> events, String key) {
        List<RecordedEvent> of = events.stream().filter(e -> key.equals(e.getString("key"))).toList();
        assertEquals(1, of.size(), "one TaskExecuted of " + key + " in " + events);
        return of.get(0);
    }

    @Test
    void spillsToAndFromDiskAreRecorded(@TempDir Path dir) throws Exception {
        try (Recording r = recording()) {
            try (DataStore store = new DataStore(new MemoryPolicy(1000, 0.6, 0.7, 0.8), dir)) {
                store.putEncoded("a", Encoded.of(new byte[200]));
                store.putEncoded("b", Encoded.of(new byte[200]));
                store.putEncoded("c", Encoded.of(new byte[200]));
                store.putEncoded("d", Encoded.of(new byte[200])); // past 600: a goes to disk
                assertEquals(1, store.spillCount());
                store.get("a"); // and back
            }
            r.stop();
            List<RecordedEvent> spills = events(r, dir, "dist.Spill");
            assertTrue(spills.size() >= 2, spills.toString());
            assertEquals("a", spills.get(0).getString("key"));
            assertTrue(spills.get(0).getBoolean("toDisk"));
            assertEquals(200, spills.get(0).getLong("bytes"));
            assertTrue(spills.get(0).getLong("spillTime") > 0, "how long the write took");
            assertEquals("a", spills.get(1).getString("key"));
            assertFalse(spills.get(1).getBoolean("toDisk"), "a read back");
            // reading a back passed the spill fraction: b, now the least recently used, went to disk
            assertTrue(spills.stream().anyMatch(e -> e.getString("key").equals("b") && e.getBoolean("toDisk")));
        }
    }

    /** A recording that turns an event off gets none of it (dist's events are on by default, as JFR's own). */
    @Test
    void disabledEventsAreNotCommitted(@TempDir Path dir) throws Exception {
        try (Recording r = new Recording()) {
            r.disable("dist.Spill");
            r.start();
            try (DataStore store = new DataStore(new MemoryPolicy(1000, 0.6, 0.7, 0.8), dir)) {
                for (String k : List.of("a", "b", "c", "d")) {
                    store.putEncoded(k, Encoded.of(new byte[200]));
                }
                assertEquals(1, store.spillCount());
            }
            r.stop();
            assertTrue(events(r, dir, "dist.Spill").isEmpty(), "dist.Spill was not enabled");
        }
    }
}
