package dist.it;

import dist.ActorLostException;
import dist.ActorOptions;
import dist.ActorRef;
import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Options;
import dist.TaskFailedException;
import dist.WorkerInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** Actors on worker processes that are SIGKILLed: calls fail naming the actor and the worker, or the actor is built again. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ActorFailureTest {
    static final Duration T = Duration.ofSeconds(30);

    public static final class Counter {
        int n;
        final CountDownLatch never = new CountDownLatch(1);

        public int increment() {
            return ++n;
        }

        /** A call that is still running when its worker dies. */
        public boolean hang() throws InterruptedException {
            return never.await(60, TimeUnit.SECONDS);
        }
    }

    private static long pidOf(Client client, String address) {
        return client.workersInfo().stream().filter(w -> w.address().equals(address)).mapToLong(WorkerInfo::pid)
                .findFirst().orElseThrow(() -> new AssertionError("no worker " + address));
    }

    private static void kill(long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-KILL", String.valueOf(pid)).inheritIO().start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "kill -KILL " + pid);
    }

    static String where(ActorRef<Counter> ref) {
        return ref.worker();
    }

    private static void assertNamesLoss(Throwable t, ActorRef<?> actor, String worker) {
        assertInstanceOf(ActorLostException.class, t, String.valueOf(t));
        String m = t.getMessage();
        assertTrue(m.contains(actor.id()), m);
        assertTrue(m.contains(worker), m);
        assertTrue(m.toLowerCase().contains("lost"), m);
    }

    // dask: test_actor.py::test_failed_worker
    @Test
    void callsOfAnActorWhoseWorkerIsKilledFailNamingTheActorAndTheWorker() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .output(null).start();
             Client client = cluster.client()) {
            String w = client.workersInfo().get(0).address();
            ActorRef<Counter> counter = client.with(Options.defaults().workers(w)).actor(Counter::new);
            assertEquals(1, counter.callSync(Counter::increment));
            Future<Boolean> pending = counter.call(Counter::hang);
            kill(pidOf(client, w));
            assertNamesLoss(pending.exception(T), counter, w);
            // later calls: once the scheduler has seen the worker go, its words name both as well
            AtomicReference<Throwable> last = new AtomicReference<>();
            assertTrue(dist.Wait.until(T, () -> {
                Throwable t = counter.call(Counter::increment).exception(T);
                last.set(t);
                return t != null && t.getMessage().contains("was lost with worker " + w);
            }), "last: " + last.get());
            assertNamesLoss(last.get(), counter, w);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> counter.call(Counter::increment).result(T));
            assertNamesLoss(e.getCause(), counter, w);
        }
    }

    @Test
    void anActorWithRestartsIsBuiltAgainOnAnotherWorkerWithFreshStateUntilRestartsRunOut() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .output(null).start();
             Client client = cluster.client()) {
            ActorRef<Counter> counter = client.actor(Counter::new, ActorOptions.restarts(1));
            String first = counter.worker();
            assertEquals(1, counter.callSync(Counter::increment));
            assertEquals(2, counter.callSync(Counter::increment));
            Future<Boolean> pending = counter.call(Counter::hang);
            kill(pidOf(client, first));
            assertNamesLoss(pending.exception(T), counter, first);
            AtomicReference<Object> got = new AtomicReference<>();
            assertTrue(dist.Wait.until(T, () -> {
                Future<Integer> f = counter.call(Counter::increment);
                Throwable t = f.exception(T);
                got.set(t == null ? f.result(T) : t);
                return t == null;
            }), "a later call reaches the rebuilt actor; last: " + got.get());
            assertEquals(1, got.get(), "the rebuilt actor starts from its constructor: its state was lost");
            String second = counter.worker();
            assertNotEquals(first, second);
            // a ref that last saw the dead worker: its next call finds the rebuilt actor at once
            ActorRef<Counter> stale = client.actor(Counter::new, ActorOptions.restarts(1));
            String staleAt = stale.worker();
            assertEquals(1, stale.callSync(Counter::increment));
            if (!staleAt.equals(second)) {
                kill(pidOf(client, staleAt));
                assertTrue(dist.Wait.until(T, () -> {
                    try { // a task asks the scheduler; it fails while the scheduler still names the dead worker
                        return !staleAt.equals(client.with(dist.Options.defaults().pure(false)).submit(ActorFailureTest::where, stale).result(T));
                    } catch (RuntimeException e) {
                        return false;
                    }
                }), "the scheduler rebuilds it elsewhere");
                assertEquals(1, stale.callSync(Counter::increment), "no call failed: none was under way");
            }
            kill(pidOf(client, second));
            AtomicReference<Throwable> last = new AtomicReference<>();
            assertTrue(dist.Wait.until(T, () -> {
                Throwable t = counter.call(Counter::increment).exception(T);
                last.set(t);
                return t != null && t.getMessage().contains("no restarts left");
            }), "last: " + last.get());
            assertNamesLoss(last.get(), counter, second);
            assertTrue(last.get().getMessage().contains("after 1 restart"), last.get().getMessage());
        }
    }
}
