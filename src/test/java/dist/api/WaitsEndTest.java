package dist.api;

import dist.TaskCancelledException;
import dist.Future;
import dist.Futures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Paths where a future could have stayed pending for good: each must end. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WaitsEndTest {
    static final Duration T = Duration.ofSeconds(20);
    static ClusterFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ClusterFixture.start(1, 2);
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    static int slowInc(int x) throws InterruptedException {
        Thread.sleep(300);
        return x + 1;
    }

    static int sleepy(int ms) throws InterruptedException {
        Thread.sleep(ms);
        return ms;
    }

    @Test
    void theSameCallSubmittedRightAfterItsCancelCompletes() throws Exception {
        for (int i = 0; i < 20; i++) {
            Future<Integer> first = fx.client.submit(WaitsEndTest::slowInc, 1000 + i);
            assertTrue(first.cancel(true));
            // the same pure call: the same key, sent after the cancel; the cancel's notice must not end it
            Future<Integer> again = fx.client.submit(WaitsEndTest::slowInc, 1000 + i);
            assertEquals(first.key(), again.key());
            assertEquals(1001 + i, again.result(T), "round " + i);
            assertTrue(first.isCancelled());
        }
    }

    @Test
    void waitsOnAFutureReleasedBeforeItFinishedEnd() throws Exception {
        Future<Integer> f = fx.client.submit(WaitsEndTest::sleepy, 3_000);
        CompletableFuture<Future<Integer>> called = new CompletableFuture<>();
        f.addDoneCallback(called::complete);
        f.release();
        Futures.DoneAndNotDone<Integer> r = Futures.wait(List.of(f), T);
        assertEquals(1, r.done().size(), "Futures.wait waited the whole bound on a released future");
        assertTrue(f.isDone());
        assertThrows(TaskCancelledException.class, () -> f.exception(T));
        assertSame(f, called.get(T.toSeconds(), TimeUnit.SECONDS));
        assertTrue(ClusterFixture.eventually(T, () -> f.toCompletableFuture().isDone()));
    }
}
