package dist.worker;

import dist.Wait;
import dist.protocol.Message;
import dist.serial.Serializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The worker's plugin host on its own: each plugin on a thread of its own, so offering transitions
 * never waits on a plugin; the same plugin sent again as the worker registers again is not set up
 * twice; teardown on close.
 */
class WorkerPluginsTest {
    static final Duration T = Duration.ofSeconds(30);
    static final Serializer S = Serializer.defaults();

    /** Counts its setups and teardowns; its transitions block until {@link #GATE} opens. */
    public static class Gated implements WorkerHooks {
        static final AtomicInteger SETUPS = new AtomicInteger(), TEARDOWNS = new AtomicInteger(), SEEN = new AtomicInteger();
        static volatile CountDownLatch GATE = new CountDownLatch(1);

        @Override
        public void setup(WorkerContext worker) {
            SETUPS.incrementAndGet();
        }

        @Override
        public void teardown(WorkerContext worker) {
            TEARDOWNS.incrementAndGet();
        }

        @Override
        public void transition(String key, String from, String to) {
            try {
                GATE.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            SEEN.incrementAndGet();
        }
    }

    @Test
    void aBlockedPluginNeverHoldsUpTheCallerAndIsSetUpOnce() throws Exception {
        Gated.SETUPS.set(0);
        Gated.TEARDOWNS.set(0);
        Gated.SEEN.set(0);
        Gated.GATE = new CountDownLatch(1);
        List<Message> sent = new CopyOnWriteArrayList<>();
        WorkerPlugins plugins = new WorkerPlugins(S, id -> getClass().getClassLoader(), id -> null, sent::add);
        byte[] bytes = S.encode(new Gated());
        plugins.setup(new Message.SetupPlugin("g", bytes, "c1", 5));
        assertTrue(Wait.until(T, () -> sent.contains(new Message.PluginDone("g", 5, null, null))), sent.toString());
        assertTrue(plugins.watching());

        // the plugin blocks on its first transition; offering thousands more returns at once
        for (int i = 0; i < 1000; i++) {
            plugins.transitions(List.<String[]>of(new String[]{"k" + i, "ready", "executing"}));
        }
        assertEquals(0, Gated.SEEN.get());

        // sent again (the worker registered again): the running plugin stays, no second setup
        plugins.setup(new Message.SetupPlugin("g", bytes, "c1", 0));
        assertEquals(List.of("g"), plugins.names());
        Gated.GATE.countDown();
        assertTrue(Wait.until(T, () -> Gated.SEEN.get() == 1000));
        assertEquals(1, Gated.SETUPS.get());

        plugins.close();
        assertEquals(1, Gated.TEARDOWNS.get(), "torn down once the worker closes");
        assertFalse(plugins.watching());
        plugins.setup(new Message.SetupPlugin("late", bytes, "c1", 6));
        assertEquals(List.of(), plugins.names(), "nothing is set up after close");
    }
}
