package dist.it;

import dist.Client;
import dist.ClusterSemaphore;
import dist.Future;
import dist.LocalCluster;
import dist.WorkerClient;
import dist.config.Config;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A failure history for locks and semaphores with real processes: tasks on worker processes (under
 * nannies) take a lock and a semaphore of {@value #PERMITS} over and over, appending every acquire
 * and release with its time and holder to one file, while this test SIGKILLs workers that hold the
 * lock. A checker then verifies that the lock never had two holders at once, that the semaphore
 * never had more holders than permits, that a killed process logged nothing after its death, and
 * that what the killed holders held came back (after the lease) to this client.
 *
 * <p>Follows dask's test_semaphore.py::test_worker_dies and test_locks.py::test_lock with deaths.
 */
class LocksHistoryTest {
    static final int PERMITS = 2;
    static final Duration T = Duration.ofSeconds(60);

    /** One task: {@code rounds} times the lock, then a permit, each held about {@code holdMillis}. */
    static int work(String log, int rounds, int holdMillis, int task) throws Exception {
        Client c = WorkerClient.get();
        String pid = String.valueOf(ProcessHandle.current().pid());
        for (int i = 0; i < rounds; i++) {
            Lock l = c.lock("history-lock");
            l.lock();
            String holder = pid + "/" + UUID.randomUUID().toString().substring(0, 8);
            append(log, "L ACQ " + holder); // after the grant and before the release: within the real hold
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(holdMillis)); // the work done under the lock
            append(log, "L REL " + holder);
            l.unlock();
            ClusterSemaphore s = c.semaphore("history-sem", PERMITS);
            s.acquire();
            holder = pid + "/" + UUID.randomUUID().toString().substring(0, 8);
            append(log, "S ACQ " + holder);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(holdMillis));
            append(log, "S REL " + holder);
            s.release();
        }
        return rounds;
    }

    /** One short line in one append: whole lines even with several processes writing. */
    static void append(String log, String what) throws IOException {
        byte[] line = (what + " " + System.nanoTime() + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(Path.of(log), StandardOpenOption.APPEND, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(line));
        }
    }

    /** dask: test_semaphore.py::test_worker_dies, test_semaphore.py::test_release_semaphore_after_timeout — tasks whose worker dies while holding lose their permits after the lease, and every task still ends; a holder that can no longer renew (its process is gone) gives its permit back to the others. */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void killedHoldersNeverBreakExclusionAndTheirPermitsComeBack(@TempDir Path dir) throws Exception {
        run(dir, 6, 12, 30, 4);
    }

    @Test
    @Tag("slow")
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void aLongerHistoryWithMoreKills(@TempDir Path dir) throws Exception {
        run(dir, 8, 60, 10, 12);
    }

    private void run(Path dir, int tasks, int rounds, int holdMillis, int kills) throws Exception {
        Path log = dir.resolve("history.log");
        Files.createFile(log);
        Map<Long, Long> deaths = new HashMap<>(); // pid -> nanoTime it was seen dead
        try (Config.Override lease = Config.set("distributed.scheduler.locks.lease-timeout", "3s");
             Config.Override failures = Config.set("distributed.scheduler.allowed-failures", 100);
             LocalCluster cluster = LocalCluster.builder().workers(3).threadsPerWorker(2).processes(true)
                     .workerEnv(Map.of("DIST_SCHEDULER__LOCKS__LEASE_TIMEOUT", "3s")).output(null).start();
             Client client = cluster.client()) {
            List<Future<Integer>> fs = new ArrayList<>();
            for (int i = 0; i < tasks; i++) {
                fs.add(client.submit(LocksHistoryTest::work, log.toString(), rounds, holdMillis, i));
            }
            for (int k = 0; k < kills && !fs.stream().allMatch(Future::isDone); k++) {
                // kill the process logged holding the lock now, once the history has moved on since the last kill
                int seen = Files.readAllLines(log).size();
                long[] victim = {-1};
                Processes.eventually(T, () -> {
                    try {
                        List<String> lines = Files.readAllLines(log);
                        victim[0] = lines.size() > seen + 4 ? lockHolderPid(lines, cluster.workerPids()) : -1;
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    return victim[0] >= 0 || fs.stream().allMatch(Future::isDone);
                });
                if (victim[0] < 0) {
                    break;
                }
                long pid = victim[0];
                Process kill = new ProcessBuilder("kill", "-KILL", String.valueOf(pid)).inheritIO().start();
                assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
                assertTrue(Processes.eventually(Duration.ofSeconds(30),
                        () -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)), "pid " + pid + " died");
                deaths.put(pid, System.nanoTime());
                assertTrue(Processes.eventually(T, () -> cluster.workerPids().size() >= 2),
                        "the nannies bring workers back");
            }
            for (Future<Integer> f : fs) {
                assertEquals(rounds, f.result(T));
            }
            // every permit and the lock come back to this client, those of killed holders after their lease
            Lock lock = client.lock("history-lock");
            assertTrue(lock.tryLock(30, TimeUnit.SECONDS), "the lock came back");
            ClusterSemaphore sem = client.semaphore("history-sem", PERMITS);
            for (int i = 0; i < PERMITS; i++) {
                assertTrue(sem.tryAcquire(30, TimeUnit.SECONDS), "permit " + (i + 1) + " came back");
            }
            lock.unlock();
            for (int i = 0; i < PERMITS; i++) {
                sem.release();
            }
            Check lockCheck = check(Files.readAllLines(log), "L", 1, deaths);
            Check semCheck = check(Files.readAllLines(log), "S", PERMITS, deaths);
            System.out.println("locks history: " + (lockCheck.ops + semCheck.ops) + " operations checked ("
                    + lockCheck.ops + " on the lock, " + semCheck.ops + " on the semaphore), " + deaths.size()
                    + " workers SIGKILLed, " + lockCheck.killedHolding + " lock holds and " + semCheck.killedHolding
                    + " permits held by killed processes came back");
            assertFalse(deaths.isEmpty(), "at least one holder was killed");
            assertTrue(lockCheck.killedHolding >= 1, "a killed process held the lock");
        }
    }

    /** The pid of a worker the log shows holding the lock now, or -1. */
    private static long lockHolderPid(List<String> lines, List<Long> workers) {
        Map<String, Boolean> open = new java.util.LinkedHashMap<>();
        for (String line : lines) {
            String[] f = line.split(" ");
            if (f.length == 4 && f[0].equals("L")) {
                if (f[1].equals("ACQ")) {
                    open.put(f[2], true);
                } else {
                    open.remove(f[2]);
                }
            }
        }
        for (String holder : open.keySet()) {
            long pid = Long.parseLong(holder.substring(0, holder.indexOf('/')));
            if (workers.contains(pid)) {
                return pid;
            }
        }
        return -1;
    }

    record Check(int ops, int killedHolding) {}

    /**
     * Checks the history of {@code kind}: at most {@code permits} holds overlap, where a hold lasts from
     * its acquire to its release, or to its process's death when it never released.
     */
    static Check check(List<String> lines, String kind, int permits, Map<Long, Long> deaths) {
        Map<String, long[]> holds = new java.util.LinkedHashMap<>();
        int ops = 0;
        for (String line : lines) {
            String[] f = line.split(" ");
            assertEquals(4, f.length, "a whole line: " + line);
            if (!f[0].equals(kind)) {
                continue;
            }
            ops++;
            long at = Long.parseLong(f[3]);
            long pid = Long.parseLong(f[2].substring(0, f[2].indexOf('/')));
            Long died = deaths.get(pid);
            assertTrue(died == null || at <= died, "pid " + pid + " logged after its death: " + line);
            if (f[1].equals("ACQ")) {
                assertNull(holds.put(f[2], new long[]{at, -1}), "acquired twice: " + line);
            } else {
                long[] h = holds.get(f[2]);
                assertNotNull(h, "released before acquired: " + line);
                h[1] = at;
            }
        }
        int killedHolding = 0;
        List<long[]> intervals = new ArrayList<>();
        for (Map.Entry<String, long[]> e : holds.entrySet()) {
            long[] h = e.getValue();
            if (h[1] < 0) {
                long pid = Long.parseLong(e.getKey().substring(0, e.getKey().indexOf('/')));
                Long died = deaths.get(pid);
                assertNotNull(died, kind + " hold " + e.getKey() + " never released by a process that lived");
                h[1] = died;
                killedHolding++;
            }
            intervals.add(h);
        }
        // sweep: +1 at each start, -1 at each end; an end at the same instant as a start comes first
        List<long[]> points = new ArrayList<>();
        for (long[] h : intervals) {
            points.add(new long[]{h[0], 1});
            points.add(new long[]{h[1], -1});
        }
        points.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        int holding = 0;
        for (long[] p : points) {
            holding += (int) p[1];
            assertTrue(holding <= permits, kind + ": " + holding + " holders at once at " + p[0] + " (permits "
                    + permits + ")");
        }
        return new Check(ops, killedHolding);
    }
}
