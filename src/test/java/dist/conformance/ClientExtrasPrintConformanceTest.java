package dist.conformance;

import dist.Client;
import dist.Future;
import dist.Options;
import dist.Wait;
import dist.WorkerClient;
import dist.WorkerClient.Stream;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A task's prints shown on its client (dask's {@code distributed.print}), ported from dask's
 * test_client.py. The client's standard output and error are captured around each test, as pytest's
 * capsys does; the workers run in this JVM but write nothing themselves.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientExtrasPrintConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static SchedulerServer scheduler;
    static WorkerServer a;
    static Client client;

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stdout, stderr;

    @BeforeAll
    static void start() throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        a = WorkerServer.start(WorkerServer.Options.of(scheduler.address(), 2));
        client = Client.connect(scheduler.address());
        assertTrue(scheduler.awaitWorkers(1, 30, TimeUnit.SECONDS));
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (a != null) a.close();
        if (scheduler != null) scheduler.close();
    }

    @BeforeEach
    void capture() {
        stdout = System.out;
        stderr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(stdout);
        System.setErr(stderr);
    }

    /** capsys.readouterr(): what was written to the captured stream since the last read. */
    static String read(ByteArrayOutputStream s) {
        String text = s.toString(StandardCharsets.UTF_8);
        s.reset();
        return text;
    }

    /** Runs {@code task} and reads what reached stdout and stderr, waiting (bounded) for {@code expected} chars. */
    String[] run(dist.Fn0<Integer> task, int expected) throws Exception {
        Future<Integer> f = client.with(Options.defaults().pure(false)).submit(task);
        assertEquals(0, f.result(T));
        assertTrue(Wait.until(T, () -> out.size() + err.size() >= expected), "printed text arrives");
        return new String[]{read(out), read(err)};
    }

    static int foo() {
        WorkerClient.print("Hello!", 123);
        return 0;
    }

    static int bar() {
        WorkerClient.print(Stream.STDOUT, ":", null, "Hello!", 123);
        return 0;
    }

    static int baz() {
        WorkerClient.print(Stream.STDOUT, ":", "", "Hello!", 123);
        return 0;
    }

    static int frotz() {
        WorkerClient.print(Stream.STDOUT, null, null, "Hello!", 123);
        return 0;
    }

    static int plugh() {
        WorkerClient.print(Stream.STDOUT, ":", ".");
        return 0;
    }

    static int printStdout() {
        WorkerClient.print(Stream.STDOUT, null, null, "meow");
        return 0;
    }

    static int printStderr() {
        WorkerClient.print(Stream.STDERR, null, null, "meow");
        return 0;
    }

    /**
     * dask: test_client.py::test_print_remote — a task's print reaches the client's output: "Hello! 123\n";
     * with sep ":" "Hello!:123\n"; with end "" no line end; null sep and end are the defaults; no
     * arguments with end "." print "."; file=stdout and file=stderr go to each. (dask's file of the wrong
     * type is a TypeError; {@code Stream} makes it a compile error.)
     */
    @Test
    void printRemote() throws Exception {
        assertArrayEquals(new String[]{"Hello! 123\n", ""}, run(ClientExtrasPrintConformanceTest::foo, 11));
        assertArrayEquals(new String[]{"Hello!:123\n", ""}, run(ClientExtrasPrintConformanceTest::bar, 11));
        assertArrayEquals(new String[]{"Hello!:123", ""}, run(ClientExtrasPrintConformanceTest::baz, 10));
        assertArrayEquals(new String[]{"Hello! 123\n", ""}, run(ClientExtrasPrintConformanceTest::frotz, 11));
        assertArrayEquals(new String[]{".", ""}, run(ClientExtrasPrintConformanceTest::plugh, 1));
        assertArrayEquals(new String[]{"meow\n", ""}, run(ClientExtrasPrintConformanceTest::printStdout, 5));
        assertArrayEquals(new String[]{"", "meow\n"}, run(ClientExtrasPrintConformanceTest::printStderr, 5));
    }

    static int printObject() {
        WorkerClient.print(new Object());
        return 0;
    }

    /**
     * dask: test_client.py::test_print_non_msgpack_serializable — printing an object with no special
     * form shows its default text ("java.lang.Object@..." for Python's "&lt;object object at").
     */
    @Test
    void printNonSerializable() throws Exception {
        String[] printed = run(ClientExtrasPrintConformanceTest::printObject, 17);
        assertTrue(printed[0].startsWith("java.lang.Object@"), printed[0]);
    }

    /** dask: test_client.py::test_print_local — outside a task, print writes here: "Hello!:123\n". */
    @Test
    void printLocal() {
        WorkerClient.print(Stream.STDOUT, ":", null, "Hello!", 123);
        assertEquals("Hello!:123\n", read(out));
    }
}
