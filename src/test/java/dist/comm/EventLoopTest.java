package dist.comm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventLoopTest {

    @Test
    @Timeout(60)
    void everyEventIsHandledOnceInOrderAndNeverConcurrently() throws Exception {
        int threads = 8;
        int each = 20_000;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        Map<Integer, Integer> lastSeen = new ConcurrentHashMap<>();
        AtomicInteger outOfOrder = new AtomicInteger();
        CountDownLatch all = new CountDownLatch(threads * each);
        EventLoop<int[]> loop = new EventLoop<>(batch -> {
            if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            for (int[] e : batch) {
                Integer prev = lastSeen.put(e[0], e[1]);
                if (prev != null && prev != e[1] - 1) {
                    outOfOrder.incrementAndGet();
                }
                all.countDown();
            }
            inside.decrementAndGet();
        }, 64);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < each; i++) {
                    loop.submit(new int[]{id, i});
                }
            }));
        }
        for (Thread t : ts) {
            t.join(30_000);
        }
        assertTrue(all.await(30, TimeUnit.SECONDS), "events left unhandled: " + all.getCount());
        assertEquals(0, overlaps.get(), "the handler ran on two threads at once");
        assertEquals(0, outOfOrder.get(), "a submitter's events were handled out of order");
    }

    @Test
    @Timeout(30)
    void aPausedLoopQueuesUntilStarted() throws Exception {
        List<Integer> seen = new ArrayList<>();
        EventLoop<Integer> loop = EventLoop.paused(seen::addAll, 16);
        loop.submit(1);
        loop.submitAll(List.of(2, 3));
        assertEquals(List.of(), seen);
        loop.start();
        assertTrue(waitFor(() -> seen.size() == 3));
        assertEquals(List.of(1, 2, 3), seen);
    }

    private static boolean waitFor(java.util.function.BooleanSupplier c) throws InterruptedException {
        return dist.Wait.until(java.time.Duration.ofSeconds(10), c);
    }
}
