package dist.code;

import dist.DistException;
import dist.TaskFailedException;
import dist.Client;
import dist.Fn1;
import dist.Future;
import dist.Options;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Classes the worker does not have, in one JVM: the worker's loader is this test's, which lacks
 * the classes compiled here at run time, so every one of them must come over the wire.
 */
class ClassShippingTest {
    private static final Duration T = Duration.ofSeconds(30);

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

    private static String greeter(String version) {
        return """
                package shipped;
                public class Greeter {
                    public record Answer(String text) {}
                    static class Helper { String tag() { return "%s-helper"; } }
                    public static dist.Fn1<String, Answer> fn() {
                        return name -> new Answer("%s " + name + " " + new Helper().tag());
                    }
                }
                """.formatted(version, version);
    }

    /** A client whose context class loader (and so its class source) is {@code loader}. */
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

    @Test
    void twoClientsWithDifferentVersionsOfAClassEachGetTheirOwn() throws Exception {
        try (URLClassLoader l1 = Javac.loader(Javac.compile(tmp, "v1", Map.of("shipped.Greeter", greeter("v1"))));
             URLClassLoader l2 = Javac.loader(Javac.compile(tmp, "v2", Map.of("shipped.Greeter", greeter("v2"))));
             Client c1 = clientWith(l1);
             Client c2 = clientWith(l2)) {
            // the two calls encode to the same bytes, so only distinct keys keep them apart
            Options impure = Options.defaults().pure(false);
            Future<Object> a = c1.with(impure).submit(fn(l1, "shipped.Greeter"), "ann");
            Future<Object> b = c2.with(impure).submit(fn(l2, "shipped.Greeter"), "bob");
            Future<Object> a2 = c1.with(impure).submit(fn(l1, "shipped.Greeter"), "cid");
            Object ra = a.result(T);
            Object rb = b.result(T);
            assertEquals("Answer[text=v1 ann v1-helper]", ra.toString());
            assertEquals("Answer[text=v2 bob v2-helper]", rb.toString());
            assertEquals("Answer[text=v1 cid v1-helper]", a2.result(T).toString());
            // results decode in each client's own loader
            assertEquals(l1, ra.getClass().getClassLoader());
            assertEquals(l2, rb.getClass().getClassLoader());
        }
    }

    @Test
    void aClassNoClientHasFailsTheTaskWithAClearError() throws Exception {
        Path dir = Javac.compile(tmp, "gone", Map.of("shipped.Greeter", greeter("gone")));
        try (URLClassLoader l = Javac.loader(dir); Client c = clientWith(l)) {
            Fn1<String, Object> f = fn(l, "shipped.Greeter");
            // the client can no longer read its class files: the worker's request gets null back
            try (var files = Files.walk(dir)) {
                files.filter(Files::isRegularFile).forEach(p -> p.toFile().delete());
            }
            Future<Object> r = c.submit(f, "x");
            var e = assertThrows(TaskFailedException.class, () -> r.result(T));
            assertTrue(String.valueOf(e.getCause()).contains("shipped.Greeter"), String.valueOf(e.getCause()));
        }
    }

    private static String version(String v) {
        return """
                package jarred;
                public class Version {
                    public static dist.Fn1<Integer, String> fn() { return x -> "%s:" + x; }
                }
                """.formatted(v);
    }

    @Test
    void anUploadedJarServesCurrentAndLaterWorkersAndWinsOverShipping() throws Exception {
        Path jarClasses = Javac.compile(tmp, "jar", Map.of("jarred.Version", version("jar")));
        Path jar = Javac.jar(jarClasses, tmp.resolve("version.jar"));
        Path clientClasses = Javac.compile(tmp, "client", Map.of("jarred.Version", version("client")));
        try (URLClassLoader l = Javac.loader(clientClasses); Client c = clientWith(l)) {
            c.uploadJar(jar);
            Future<String> now = c.submit(fn(l, "jarred.Version"), 1);
            assertEquals("jar:1", now.result(T));
            try (WorkerServer later = WorkerServer.start(WorkerServer.Options.of(scheduler.address(), 1))) {
                Future<String> there = c.with(Options.defaults().workers(later.address())).submit(fn(l, "jarred.Version"), 2);
                assertEquals("jar:2", there.result(T));
            }
            Path notAJar = Files.writeString(tmp.resolve("plain.jar"), "not a jar");
            DistException e = assertThrows(DistException.class, () -> c.uploadJar(notAJar));
            assertTrue(e.getMessage().contains("plain.jar"), e.getMessage());
        }
    }
}
