package dist.worker;

import dist.Client;
import dist.Fn0;
import dist.Future;
import dist.Wait;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import static org.junit.jupiter.api.Assertions.*;

/** A worker that loses its scheduler link and registers again loses no result on the way. */
@Timeout(120)
class RelinkTest {
    static final Duration T = Duration.ofSeconds(30);
    static final CountDownLatch STARTED = new CountDownLatch(1);
    static final CountDownLatch RELEASE = new CountDownLatch(1);

    static String blockUntilReleased() throws InterruptedException {
        STARTED.countDown();
        return RELEASE.await(60, TimeUnit.SECONDS) ? "done" : "not released";
    }

    @Test
    void aTaskThatFinishesWhileItsWorkerRegistersAgainIsReportedOnTheNewLink() throws Exception {
        try (SchedulerServer scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(),
                CommConfig.DEFAULT);
             LinkProxy proxy = new LinkProxy(scheduler.address());
             WorkerServer worker = WorkerServer.start(new WorkerServer.Options(proxy.address(), "127.0.0.1", 0, 1,
                     "relinked", 0, 8 * 1024, CommConfig.DEFAULT));
             Client client = Client.connect(scheduler.address())) {
            assertTrue(scheduler.awaitWorkers(1, 10, TimeUnit.SECONDS));
            Future<String> f = client.submit((Fn0<String>) RelinkTest::blockUntilReleased);
            assertTrue(STARTED.await(30, TimeUnit.SECONDS));

            // the link drops; the scheduler's answer to the new registration is held back, and the
            // task finishes meanwhile: its result must reach the scheduler over the new link
            proxy.cutAndHoldNewReplies();
            assertTrue(Wait.until(T, proxy::holdsReply), "the scheduler never answered the new registration");
            RELEASE.countDown();
            assertTrue(Wait.until(T, () -> worker.dataStore().contains(f.key())), "the task never finished");
            proxy.passReplies();

            assertEquals("done", f.result(T));
        }
    }

    /** A TCP relay between a worker and its scheduler that can drop its links and hold back replies. */
    static final class LinkProxy implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final String upstreamHost;
        private final int upstreamPort;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private final ReentrantLock lock = new ReentrantLock();
        private final ByteArrayOutputStream held = new ByteArrayOutputStream();
        private OutputStream heldFor;
        private boolean holding;
        private int generation;

        LinkProxy(String upstream) throws IOException {
            int colon = upstream.lastIndexOf(':');
            upstreamHost = upstream.substring(0, colon);
            upstreamPort = Integer.parseInt(upstream.substring(colon + 1));
            Thread.ofVirtual().start(this::acceptLoop);
        }

        String address() {
            return "127.0.0.1:" + listener.getLocalPort();
        }

        private void acceptLoop() {
            try {
                while (true) {
                    Socket down = listener.accept();
                    Socket up = new Socket(upstreamHost, upstreamPort);
                    sockets.add(down);
                    sockets.add(up);
                    int gen = generation();
                    Thread.ofVirtual().start(() -> pump(down, up, -1));
                    Thread.ofVirtual().start(() -> pump(up, down, gen));
                }
            } catch (IOException e) {
                // closed
            }
        }

        private int generation() {
            lock.lock();
            try {
                return generation;
            } finally {
                lock.unlock();
            }
        }

        /** {@code replyGeneration}: -1 for the worker's direction, else the cut count when the link opened. */
        private void pump(Socket from, Socket to, int replyGeneration) {
            byte[] buf = new byte[8192];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    lock.lock();
                    try {
                        if (holding && replyGeneration == generation) {
                            held.write(buf, 0, n);
                            heldFor = out;
                            continue;
                        }
                    } finally {
                        lock.unlock();
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed: close the other
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }

        /** Drops every link open now, as a network failure would; holds back replies on links opened after. */
        void cutAndHoldNewReplies() {
            lock.lock();
            try {
                generation++;
                holding = true;
            } finally {
                lock.unlock();
            }
            cut();
        }

        boolean holdsReply() {
            lock.lock();
            try {
                return held.size() > 0;
            } finally {
                lock.unlock();
            }
        }

        void passReplies() throws IOException {
            lock.lock();
            try {
                holding = false;
                if (heldFor != null) {
                    heldFor.write(held.toByteArray());
                    heldFor.flush();
                }
                held.reset();
            } finally {
                lock.unlock();
            }
        }

        private void cut() {
            for (Socket s : sockets) {
                closeQuietly(s);
            }
            sockets.clear();
        }

        private static void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            cut();
        }
    }
}
