package dist.conformance;

import dist.Client;
import dist.Future;
import dist.Options;
import dist.Wait;
import dist.comm.CommConfig;
import dist.config.Config;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pausing a worker the way it pauses in use: a result past the pause fraction of its memory limit,
 * with spilling off. dask's tests set {@code worker.status = Status.paused} by hand; here the worker
 * pauses itself and tells the scheduler, as dist workers do.
 */
final class PausedWorkers {
    static final Duration T = Duration.ofSeconds(30);
    /** A worker that may pause: 9 MiB past its pause fraction (0.8 of 10 MiB). */
    static final long LIMIT = 10L << 20;

    private PausedWorkers() {
    }

    /** Spilling off (target above the pause fraction): held memory grows until the worker pauses. */
    static Config.Override noSpill() {
        return Config.set("distributed.worker.memory.target", 5.0);
    }

    static byte[] block9(int seed) {
        byte[] b = new byte[9 << 20];
        b[0] = (byte) seed;
        return b;
    }

    static WorkerServer worker(SchedulerServer s, String name, long limit) throws IOException {
        return WorkerServer.start(new WorkerServer.Options(s.address(), "127.0.0.1", 0, 1, name, limit,
                8 * 1024, CommConfig.DEFAULT));
    }

    static String status(SchedulerServer s, String address) {
        try {
            return s.query(q -> q.view().workerStatus(address), 10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    /** Fills {@code w} (started with {@link #LIMIT}) past its pause fraction and waits until the scheduler lists it paused. */
    static Future<byte[]> pause(Client c, SchedulerServer s, WorkerServer w) throws Exception {
        Future<byte[]> big = c.with(Options.defaults().workers(w.address())).submit(PausedWorkers::block9, w.address().hashCode());
        big.result(T);
        assertTrue(Wait.until(T, () -> "paused".equals(status(s, w.address()))), "the scheduler hears " + w.address() + " paused");
        return big;
    }
}
