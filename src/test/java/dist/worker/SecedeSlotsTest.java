package dist.worker;

import dist.Client;
import dist.LocalCluster;
import dist.Options;
import dist.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A task that secedes several times gives its slot to a new thread once: the worker keeps its thread count. */
@Timeout(120)
class SecedeSlotsTest {
    static final Duration T = Duration.ofSeconds(30);

    static String secedeThreeTimes(int n) {
        TaskContext ctx = TaskContext.current();
        for (int i = 0; i < 3; i++) {
            if (!ctx.secede()) {
                throw new IllegalStateException("task " + n + " could not secede");
            }
            ctx.rejoin();
        }
        return Thread.currentThread().getName();
    }

    static long slotThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("dist-worker-slot-")).count();
    }

    @Test
    void secedingAgainStartsNoFurtherSlotThread() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(2).output(null).start();
             Client client = cluster.client()) {
            long before = slotThreads();
            // two tasks that arrive together start on slot threads (a lone one may run where it was read)
            List<String> ranOn = new java.util.ArrayList<>();
            for (dist.Future<String> f : client.with(Options.defaults().pure(false))
                    .map(SecedeSlotsTest::secedeThreeTimes, List.of(1, 2))) {
                ranOn.add(f.result(T));
            }
            assertTrue(ranOn.stream().anyMatch(n -> n.startsWith("dist-worker-slot-")), "ran on " + ranOn);
            // a seceded thread leaves once its task is done; one thread took its slot, not one per secede
            assertTrue(Wait.until(Duration.ofSeconds(10), () -> slotThreads() == before),
                    "slot threads: " + before + " before, " + slotThreads() + " after; tasks ran on " + ranOn);
        }
    }
}
