package dist.comm;

import dist.protocol.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A reader thread lends its connection while it works long inside a handler (a task run where it arrived). */
@Timeout(60)
class ReadingLendTest {

    /** Handler: Ping(0) lends and blocks until released; others are recorded with whether they could lend. */
    private static final class Lender implements Handler {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch lentAndBlocked = new CountDownLatch(1);
        final LinkedBlockingQueue<String> seen = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<Object> closed = new LinkedBlockingQueue<>();
        volatile boolean lendOthers;

        @Override
        public void onMessage(Connection c, Message m, long requestId) {
            long n = ((Message.Ping) m).nonce();
            if (n == 0) {
                assertTrue(c.tryLendReading());
                lentAndBlocked.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                seen.add("0 done");
                return;
            }
            seen.add(n + (lendOthers ? (c.tryLendReading() ? " lent" : " not lent") : ""));
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            closed.add(cause == null ? "clean" : cause);
        }
    }

    @Test
    void messagesAfterALentReaderAreReadWhileItsHandlerStillRunsAndOrderHolds() throws Exception {
        Lender lender = new Lender();
        lender.lendOthers = true;
        try (Server s = Net.server(Net.FAST, conn -> lender); Connection c = Net.connect(s, Net.echo())) {
            c.send(new Message.Ping(0));
            assertTrue(lender.lentAndBlocked.await(10, TimeUnit.SECONDS));
            c.send(new Message.Ping(1));
            c.send(new Message.Ping(2));
            // the standby reads in the lender's place; a second lend is refused while the first is out
            assertEquals("1 not lent", lender.seen.poll(10, TimeUnit.SECONDS));
            assertEquals("2 not lent", lender.seen.poll(10, TimeUnit.SECONDS));
            lender.release.countDown();
            assertEquals("0 done", lender.seen.poll(10, TimeUnit.SECONDS));
            // the lender came back and stands by: lending works again, and each lend returns
            boolean lentAgain = false;
            for (int i = 3; i < 1000 && !lentAgain; i++) {
                c.send(new Message.Ping(i));
                String got = lender.seen.poll(10, TimeUnit.SECONDS);
                assertEquals(i, Integer.parseInt(got.split(" ")[0]), "in order");
                lentAgain = got.endsWith(" lent");
            }
            assertTrue(lentAgain, "a reader could lend again once the first lender returned");
        }
    }

    @Test
    void onlyTheThreadReadingMayLend() throws Exception {
        Net.Recorder r = new Net.Recorder();
        try (Server s = Net.server(Net.FAST, conn -> Net.echo()); Connection c = Net.connect(s, r)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, c::tryLendReading);
            assertTrue(e.getMessage().contains("only the thread reading"), e.getMessage());
            assertEquals(Message.Ping.class, c.call(new Message.Ping(7), Duration.ofSeconds(10)).getClass(),
                    "the connection still works");
        }
    }

    @Test
    void aPeerThatClosesWhileReadingIsLentIsStillNoticed() throws Exception {
        Lender lender = new Lender();
        try (Server s = Net.server(Net.FAST, conn -> lender)) {
            Connection c = Net.connect(s, Net.echo());
            c.send(new Message.Ping(0));
            assertTrue(lender.lentAndBlocked.await(10, TimeUnit.SECONDS));
            c.close();
            assertEquals("clean", lender.closed.poll(10, TimeUnit.SECONDS), "the standby read the end of stream");
            lender.release.countDown();
            assertEquals("0 done", lender.seen.poll(10, TimeUnit.SECONDS));
        }
    }
}
