package dist.worker;

import dist.Wait;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shuffle sender has a bounded number of unacknowledged bytes per destination: past it a send
 * waits for an acknowledgement, up to a deadline. dask: distributed/shuffle/tests/test_comm_buffer.py::
 * test_memory_limit (sends beyond the limit wait for earlier ones).
 */
class ShuffleSendsTest {
    @Test
    void pastTheLimitASendWaitsForAnAcknowledgementOrItsDeadline() throws Exception {
        ShuffleSends sends = new ShuffleSends(100);
        assertTrue(sends.acquire("b", 60, 0));
        assertTrue(sends.acquire("b", 40, 0));
        assertFalse(sends.acquire("b", 1, 0), "no room and no time left");
        assertTrue(sends.acquire("c", 100, 0), "each destination has its own room");
        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return sends.acquire("b", 50, 60_000);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertFalse(waiting.isDone());
        sends.release("b", 60);
        assertTrue(Wait.until(Duration.ofSeconds(30), waiting::isDone));
        assertTrue(waiting.join());
        assertEquals(90, sends.inFlight("b"));
        sends.release("b", 90);
        assertTrue(sends.acquire("b", 500, 0), "one send larger than the limit goes alone");
    }
}
