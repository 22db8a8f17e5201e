package dist.code;

import dist.TaskFailedException;
import dist.Client;
import dist.Fn1;
import dist.Future;
import dist.Options;
import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.protocol.Message;
import dist.protocol.Role;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.TaskContext;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Code per client, bound to the connection that sent it: jars and classes of one client are not
 * another's, a failed fetch is tried again later, loaders go when their client does, and a token
 * holder cannot pose as a worker to read a client's classes or take a client's id.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CodeIsolationTest {
    private static final Duration T = Duration.ofSeconds(30);
    /** Loaders the tasks of {@link #noteLoader} ran in, held weakly. */
    static final List<WeakReference<ClassLoader>> LOADERS = new CopyOnWriteArrayList<>();

    @TempDir
    Path tmp;
    private SchedulerServer scheduler;
    private WorkerServer worker;

    @BeforeEach
    void start() throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        worker = WorkerServer.start(WorkerServer.Options.of(scheduler.address(), 2));
        assertTrue(scheduler.awaitWorkers(1, 10, TimeUnit.SECONDS));
    }

    @AfterEach
    void stop() {
        if (worker != null) {
            worker.close();
        }
        scheduler.close();
    }

    private Client clientWith(ClassLoader loader) throws IOException {
        Thread t = Thread.currentThread();
        ClassLoader before = t.getContextClassLoader();
        t.setContextClassLoader(loader);
        try {
            return Client.connect(scheduler.address());
        } finally {
            t.setContextClassLoader(before);
        }
    }

    @SuppressWarnings("unchecked")
    private static <A, R> Fn1<A, R> fn(ClassLoader l, String cls) throws Exception {
        return (Fn1<A, R>) Class.forName(cls, true, l).getMethod("fn").invoke(null);
    }

    private static String version(String v) {
        return """
                package jarred;
                public class Version {
                    public static dist.Fn1<Integer, String> fn() { return x -> "%s:" + x; }
                }
                """.formatted(v);
    }

    private static String greeter() {
        return """
                package shipped;
                public class Greeter {
                    public static dist.Fn1<String, String> fn() { return name -> "hello " + name; }
                }
                """;
    }

    @Test
    void twoClientsUploadingJarsWithTheSameClassNameEachSeeTheirOwn() throws Exception {
        Path jar1 = Javac.jar(Javac.compile(tmp, "one", Map.of("jarred.Version", version("one"))), tmp.resolve("one.jar"));
        Path jar2 = Javac.jar(Javac.compile(tmp, "two", Map.of("jarred.Version", version("two"))), tmp.resolve("two.jar"));
        Path local = Javac.compile(tmp, "local", Map.of("jarred.Version", version("local")));
        Options impure = Options.defaults().pure(false);
        try (URLClassLoader l1 = Javac.loader(local); URLClassLoader l2 = Javac.loader(local);
             Client c1 = clientWith(l1); Client c2 = clientWith(l2)) {
            c1.uploadJar(jar1);
            c2.uploadJar(jar2);
            Future<String> a = c1.with(impure).submit(fn(l1, "jarred.Version"), 1);
            Future<String> b = c2.with(impure).submit(fn(l2, "jarred.Version"), 1);
            assertEquals("one:1", a.result(T));
            assertEquals("two:1", b.result(T));
            // a client without a jar gets its own class shipped, not someone's jar
            try (URLClassLoader l3 = Javac.loader(local); Client c3 = clientWith(l3)) {
                assertEquals("local:1", c3.with(impure).submit(fn(l3, "jarred.Version"), 1).result(T));
            }
        }
    }

    @Test
    void aClassFetchThatFailedOnceSucceedsLater() throws Exception {
        Path dir = Javac.compile(tmp, "later", Map.of("shipped.Greeter", greeter()));
        try (URLClassLoader l = Javac.loader(dir); Client c = clientWith(l)) {
            Fn1<String, String> f = fn(l, "shipped.Greeter");
            Path saved = Files.createDirectories(tmp.resolve("saved"));
            Path classFile = dir.resolve("shipped/Greeter.class");
            Files.move(classFile, saved.resolve("Greeter.class")); // the client cannot read it for now
            Options impure = Options.defaults().pure(false);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> c.with(impure).submit(f, "x").result(T));
            assertTrue(String.valueOf(e.getCause()).contains("shipped.Greeter"), String.valueOf(e.getCause()));
            Files.move(saved.resolve("Greeter.class"), classFile);
            // the worker asks again once its memory of the failure expires
            String[] last = {null};
            assertTrue(dist.Wait.until(T, () -> {
                try {
                    last[0] = c.with(impure).submit(f, "again").result(T);
                    return true;
                } catch (TaskFailedException | dist.DistTimeoutException x) {
                    last[0] = String.valueOf(x);
                    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300));
                    return false;
                }
            }), "still failing: " + last[0]);
            assertEquals("hello again", last[0]);
        }
    }

    static int noteLoader(int x) {
        LOADERS.add(new WeakReference<>(TaskContext.current().classLoader()));
        return x + 1;
    }

    @Test
    void aClientsLoaderIsFreedWhenItLeaves() throws Exception {
        LOADERS.clear();
        try (Client c = Client.connect(scheduler.address())) {
            assertEquals(2, c.submit(CodeIsolationTest::noteLoader, 1).result(T));
        }
        assertEquals(1, LOADERS.size());
        assertTrue(dist.Wait.until(T, () -> {
            System.gc();
            return LOADERS.get(0).get() == null;
        }), "the worker still holds the loader of a client that left");
        // a new client gets a loader of its own and runs as before
        try (Client c = Client.connect(scheduler.address())) {
            assertEquals(3, c.submit(CodeIsolationTest::noteLoader, 2).result(T));
        }
    }

    @Test
    void aConnectionPosingAsAWorkerCannotReadAClientsClasses() throws Exception {
        Path dir = Javac.compile(tmp, "secret", Map.of("shipped.Greeter", greeter()));
        try (URLClassLoader l = Javac.loader(dir); Client c = clientWith(l);
             Connection rogue = Connection.connect(scheduler.address(), Role.WORKER, CommConfig.DEFAULT,
                     (x, m, id) -> { })) {
            Message unregistered = rogue.request(new Message.ClassRequest(c.id(), "shipped.Greeter"))
                    .get(10, TimeUnit.SECONDS);
            assertInstanceOf(Message.ErrorReply.class, unregistered, String.valueOf(unregistered));
            Message accepted = rogue.request(new Message.RegisterWorker("127.0.0.1:1", "rogue", 1, 0, 1, Map.of()))
                    .get(10, TimeUnit.SECONDS);
            assertInstanceOf(Message.WorkerAccepted.class, accepted, String.valueOf(accepted));
            Message registered = rogue.request(new Message.ClassRequest(c.id(), "shipped.Greeter"))
                    .get(10, TimeUnit.SECONDS);
            assertInstanceOf(Message.ErrorReply.class, registered, String.valueOf(registered));
            assertTrue(((Message.ErrorReply) registered).message().contains("no task of client " + c.id()),
                    registered.toString());
        }
    }

    static int inc(int x) {
        return x + 1;
    }

    @Test
    void nobodyTakesTheIdOfALiveClient() throws Exception {
        String taken;
        try (Client c = Client.connect(scheduler.address());
             Connection rogue = Connection.connect(scheduler.address(), Role.CLIENT, CommConfig.DEFAULT,
                     (x, m, id) -> { });
             Connection rogueWorker = Connection.connect(scheduler.address(), Role.WORKER, CommConfig.DEFAULT,
                     (x, m, id) -> { })) {
            Message r = rogue.request(new Message.RegisterClient(c.id())).get(10, TimeUnit.SECONDS);
            assertInstanceOf(Message.ErrorReply.class, r, String.valueOf(r));
            assertTrue(((Message.ErrorReply) r).message().contains("another live connection"), r.toString());
            Message w = rogueWorker.request(new Message.RegisterWorker(c.id(), "w", 1, 0, 1, Map.of()))
                    .get(10, TimeUnit.SECONDS);
            assertInstanceOf(Message.ErrorReply.class, w, String.valueOf(w));
            // the client's results still reach it
            assertEquals(8, c.submit(CodeIsolationTest::inc, 7).result(T));
            taken = c.id();
        }
        // once it is gone, its id is free again (a client that lost its link registers anew)
        try (Connection later = Connection.connect(scheduler.address(), Role.CLIENT, CommConfig.DEFAULT,
                (x, m, rid) -> { })) {
            assertTrue(dist.Wait.until(T, () -> {
                try {
                    return later.request(new Message.RegisterClient(taken)).get(10, TimeUnit.SECONDS)
                            instanceof Message.Ack;
                } catch (Exception e) {
                    return false;
                }
            }), "the id of a client that left stays taken");
        }
    }
}
