package dist.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.config.Config;
import dist.serial.EncodeException;
import dist.serial.Registry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Ordinary classes (not records, no codec, not allow-listed) as a task's argument and result, on a
 * real cluster: the task reads the object graph it was given, cycles included, and returns a new one.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PlainObjectTaskTest {

    /** A plain class with a cycle: each line points back to its order. */
    public static class Order implements java.io.Serializable {
        String id;
        final List<Line> lines = new ArrayList<>();

        Order(String id) {
            this.id = id;
        }

        Order add(String sku, int qty, long cents) {
            Line l = new Line();
            l.sku = sku;
            l.qty = qty;
            l.cents = cents;
            l.order = this;
            lines.add(l);
            return this;
        }
    }

    public static class Line {
        String sku;
        int qty;
        long cents;
        Order order;
    }

    /** No no-arg constructor; holds the order it priced. */
    public static final class Invoice {
        private final Order order;
        private final long total;
        private transient String cached = "computed here";

        Invoice(Order order, long total) {
            this.order = order;
            this.total = total;
        }
    }

    static Invoice price(Order o) {
        long total = 0;
        for (Line l : o.lines) {
            if (l.order != o) {
                throw new IllegalStateException("the line's order is not the order itself");
            }
            total += l.qty * l.cents;
        }
        return new Invoice(o, total);
    }

    private static void checkInvoice(Invoice inv) {
        assertEquals(2 * 250 + 3 * 100, inv.total);
        assertEquals("o-1", inv.order.id);
        assertEquals(2, inv.order.lines.size());
        assertSame(inv.order, inv.order.lines.get(1).order, "the cycle came back");
        assertEquals("computed here", inv.cached, "a transient field is not sent: it has what the constructor gave it");
    }

    @Test
    void aTaskTakesAndReturnsPlainObjectsOnThreadWorkers() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            Order order = new Order("o-1").add("a", 2, 250).add("b", 3, 100);
            Future<Invoice> f = client.submit(PlainObjectTaskTest::price, order);
            checkInvoice(f.result(Duration.ofSeconds(30)));
            // a result used as another task's argument travels between workers as it is
            Future<Long> total = client.submit((Invoice i) -> i.total + i.order.lines.size(), f);
            assertEquals(802L, total.result(Duration.ofSeconds(30)));
        }
    }

    @Test
    void aTaskTakesAndReturnsPlainObjectsOnWorkerProcesses() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true).start();
             Client client = cluster.client()) {
            Order order = new Order("o-1").add("a", 2, 250).add("b", 3, 100);
            checkInvoice(client.submit(PlainObjectTaskTest::price, order).result(Duration.ofSeconds(60)));
        }
    }

    @Test
    void inStrictModeThePlainArgumentIsRefusedByNameAndTheClusterCarriesOn() throws Exception {
        try (Config.Override strict = Config.set(Registry.STRICT_KEY, true);
             LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            Order order = new Order("o-1").add("a", 2, 250);
            Exception e = assertThrows(Exception.class, () -> client.submit(PlainObjectTaskTest::price, order)
                    .result(Duration.ofSeconds(30)));
            Throwable t = e;
            while (t != null && !(t instanceof EncodeException)) {
                t = t.getCause();
            }
            assertTrue(t != null && t.getMessage().contains(Order.class.getName())
                    && t.getMessage().contains("Registry.allow("), String.valueOf(e));
            assertEquals(3, client.submit((Integer x) -> x + 1, 2).result(Duration.ofSeconds(30)));
        }
    }
}
