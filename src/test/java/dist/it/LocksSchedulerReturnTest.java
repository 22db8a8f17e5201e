package dist.it;

import dist.Client;
import dist.ClusterSemaphore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

import static org.junit.jupiter.api.Assertions.*;

/** The scheduler process dies by SIGKILL and comes back empty: what clients still hold is registered again. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LocksSchedulerReturnTest {
    static final Duration T = Duration.ofSeconds(60);
    private final Processes procs = new Processes();

    @AfterEach
    void cleanup() {
        procs.close();
    }

    private Processes.Proc scheduler(int port) throws Exception {
        Processes.Proc s = procs.dist("scheduler", "--port", String.valueOf(port));
        s.awaitLine(l -> l.startsWith("scheduler at: "), Duration.ofSeconds(30));
        return s;
    }

    /** True once a second holder of {@code a} finds the lock taken (a request on the new link); false while the link is down. */
    private static boolean takenSeenBy(Client a) {
        Lock probe = a.lock("r");
        boolean got;
        try {
            got = probe.tryLock();
        } catch (RuntimeException e) {
            return false; // the scheduler is not back yet
        }
        if (got) {
            probe.unlock();
            throw new AssertionError("the lock held before the restart was free on the new scheduler");
        }
        return true;
    }

    @Test
    void holdsAreRegisteredAgainOnASchedulerThatCameBack() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String address = "127.0.0.1:" + port;
        Processes.Proc first = scheduler(port);
        try (Client a = Client.connect(address)) {
            Lock held = a.lock("r");
            held.lock();
            ClusterSemaphore sem = a.semaphore("rs", 1);
            sem.acquire();

            first.process.destroyForcibly(); // SIGKILL: the new scheduler starts with no locks at all
            first.awaitExit(Duration.ofSeconds(30));
            scheduler(port);

            // the re-registration goes first on the new link, so this probe's answer comes after it
            assertTrue(Processes.eventually(T, () -> takenSeenBy(a)), "client a reconnected");
            try (Client b = Client.connect(address)) {
                assertFalse(b.lock("r").tryLock(), "held by a across the restart");
                assertFalse(b.semaphore("rs", 1).tryAcquire(), "the permit is a's across the restart");
                held.unlock(); // no IllegalMonitorStateException: the new scheduler knows the hold
                sem.release();
                Lock next = b.lock("r");
                assertTrue(next.tryLock(10, TimeUnit.SECONDS));
                next.unlock();
                ClusterSemaphore s = b.semaphore("rs", 1);
                assertTrue(s.tryAcquire(10, TimeUnit.SECONDS));
                s.release();
            }
        }
    }
}
