package dist.it;

import dist.ActorRef;
import dist.Client;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** The scheduler process dies by SIGKILL while an actor lives on a worker; a new one starts on the same address. */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ActorSchedulerReturnTest {
    static final Duration T = Duration.ofSeconds(60);
    private final Processes procs = new Processes();

    @AfterEach
    void cleanup() {
        procs.close();
    }

    public static final class Counter {
        int n;

        public int increment() {
            return ++n;
        }
    }

    private Processes.Proc scheduler(int port) throws Exception {
        Processes.Proc s = procs.dist("scheduler", "--port", String.valueOf(port));
        s.awaitLine(l -> l.startsWith("scheduler at: "), Duration.ofSeconds(30));
        return s;
    }

    @Test
    void anActorKeepsItsStateAcrossASchedulerRestartAndTheNewSchedulerKnowsIt() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String address = "127.0.0.1:" + port;
        Processes.Proc first = scheduler(port);
        Processes.Proc w1 = procs.dist("worker", address, "--nthreads", "1", "--name", "a", "--no-nanny");
        w1.awaitLine(l -> l.startsWith("registered with scheduler at: "), Duration.ofSeconds(30));
        try (Client client = Client.connect(address)) {
            ActorRef<Counter> counter = client.actor(Counter::new);
            assertEquals(1, counter.callSync(Counter::increment));
            String worker = counter.worker();

            first.process.destroyForcibly(); // SIGKILL: no goodbye to anyone
            first.awaitExit(Duration.ofSeconds(30));
            // calls go to the worker, not through the scheduler: they carry on meanwhile
            assertEquals(2, counter.callSync(Counter::increment));
            scheduler(port);

            // once the client is back, the new scheduler answers where the actor lives
            AtomicReference<Object> seen = new AtomicReference<>();
            assertTrue(dist.Wait.until(T, () -> {
                try {
                    seen.set(client.with(dist.Options.defaults().pure(false)).submit(ActorSchedulerReturnTest::where, counter).result(T));
                    return worker.equals(seen.get());
                } catch (RuntimeException e) {
                    seen.set(e);
                    return false;
                }
            }), "last: " + seen.get());
            assertEquals(3, counter.callSync(Counter::increment), "the same object, its state kept");
        }
    }

    /** From a task: its worker's client has no cached place, so this asks the scheduler. */
    static String where(ActorRef<Counter> counter) {
        return counter.worker();
    }
}
