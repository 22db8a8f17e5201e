package dist.it;

import dist.Client;
import dist.DistException;
import dist.SchedulerUnavailableException;
import dist.Wait;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The scheduler dies by SIGKILL and a new one starts on the same address: a client's topic
 * subscriptions are made again on the new scheduler (the client still holds their handlers), while
 * queues, events and variables, which live on the scheduler only, start empty. While the scheduler
 * is gone, calls fail with SchedulerUnavailableException.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class SharedStateSchedulerReturnTest {
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

    @Test
    void subscriptionsComeBackAndSchedulerStateStartsEmpty() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String address = "127.0.0.1:" + port;
        Processes.Proc first = scheduler(port);
        try (Client client = Client.connect(address)) {
            List<Object> seen = new CopyOnWriteArrayList<>();
            client.subscribeTopic("alerts", e -> seen.add(e.message()));
            client.logEvent("alerts", "before");
            assertTrue(Wait.until(T, () -> seen.contains("before")));
            client.<Integer>variable("v").set(1);
            client.event("e").set();
            client.<Integer>queue("q").put(1);

            first.process.destroyForcibly(); // SIGKILL
            first.awaitExit(Duration.ofSeconds(30));
            DistException during = assertThrows(DistException.class, () -> client.event("e").isSet());
            assertInstanceOf(SchedulerUnavailableException.class, during, during.toString());
            scheduler(port);

            int[] n = {0};
            assertTrue(Wait.until(T, () -> {
                try {
                    client.logEvent("alerts", "after-" + n[0]++);
                } catch (DistException e) {
                    // not reconnected yet
                }
                return seen.stream().anyMatch(m -> String.valueOf(m).startsWith("after-"));
            }), "the subscription was made again: " + seen);
            assertFalse(client.<Integer>variable("v").isSet(), "variables live on the scheduler only");
            assertFalse(client.event("e").isSet(), "events too");
            assertEquals(0, client.queue("q").size(), "and queues");
        }
    }
}
