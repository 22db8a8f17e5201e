package dist;

import dist.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The API's unchecked exceptions (result() as CompletableFuture.join) next to get()'s JDK contract.
 * dask: test_client.py::test_exceptions (a task's error re-raised by result) and
 * test_client.py::test_cancel (a cancelled future's result raises CancelledError).
 */
class ErrorsTest {
    static int inc(int x) {
        return x + 1;
    }

    FakeCluster cluster;
    JavaSerialCodec codec;
    Client client;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster();
        codec = new JavaSerialCodec();
        client = new Client(FakeCluster.SCHEDULER, cluster, codec, getClass().getClassLoader(), Duration.ofSeconds(5));
    }

    @AfterEach
    void tearDown() {
        Thread.interrupted();
        client.close();
    }

    @Test
    void aFailedTaskIsTaskFailedExceptionNamingTheKeyAndTheCause() throws Exception {
        Future<Integer> f = client.submit(ErrorsTest::inc, 1);
        ArithmeticException thrown = new ArithmeticException("/ by zero");
        cluster.push(new Message.KeyErred(f.key(), codec.encode(thrown, null), "ArithmeticException: / by zero", f.key()));

        TaskFailedException e = assertThrows(TaskFailedException.class, f::result);
        assertEquals(f.key(), e.key());
        assertInstanceOf(ArithmeticException.class, e.getCause());
        assertTrue(e.getMessage().contains(f.key()) && e.getMessage().contains("/ by zero"), e.getMessage());
        assertInstanceOf(DistException.class, e);

        ExecutionException checked = assertThrows(ExecutionException.class, f::get);
        assertInstanceOf(ArithmeticException.class, checked.getCause());
        assertThrows(TaskFailedException.class, () -> client.gather(List.of(f)));
    }

    @Test
    void aCancelledTaskIsTaskCancelledExceptionFromResultAndCancellationExceptionFromGet() {
        Future<Integer> f = client.submit(ErrorsTest::inc, 1);
        assertTrue(f.cancel(false));
        TaskCancelledException e = assertThrows(TaskCancelledException.class, f::result);
        assertEquals(f.key(), e.key());
        assertTrue(e.getMessage().contains(f.key()), e.getMessage());
        assertThrows(CancellationException.class, f::get);
        assertThrows(CancellationException.class, () -> f.get(1, TimeUnit.SECONDS));
    }

    @Test
    void aTimeoutNamesTheOperationTheDeadlineAndWhatSetsIt() {
        Future<Integer> f = client.submit(ErrorsTest::inc, 1);
        DistTimeoutException e = assertThrows(DistTimeoutException.class, () -> f.result(Duration.ofMillis(20)));
        assertTrue(e.getMessage().contains("result of " + f.key()), e.getMessage());
        assertTrue(e.getMessage().contains("20 ms"), e.getMessage());
        assertTrue(e.getMessage().contains("Future.result(Duration)"), e.getMessage());
        assertEquals(Duration.ofMillis(20), e.deadline());
        assertThrows(TimeoutException.class, () -> f.get(20, TimeUnit.MILLISECONDS));

        DistTimeoutException g = assertThrows(DistTimeoutException.class,
                () -> client.waitForWorkers(3, Duration.ofMillis(30)));
        assertTrue(g.getMessage().contains("Client.waitForWorkers") && g.getMessage().contains("30 ms")
                && g.getMessage().contains("timeout parameter") && g.getMessage().contains("/3 workers"), g.getMessage());
    }

    @Test
    void anInterruptedWaitKeepsTheInterruptFlag() {
        Future<Integer> f = client.submit(ErrorsTest::inc, 1);
        Thread.currentThread().interrupt();
        DistInterruptedException e = assertThrows(DistInterruptedException.class, f::result);
        assertTrue(Thread.currentThread().isInterrupted(), "the flag is set again");
        assertInstanceOf(InterruptedException.class, e.getCause());

        assertThrows(DistInterruptedException.class, () -> Futures.wait(List.of(f), null));
        assertTrue(Thread.interrupted(), "still set after a second wait (and cleared here)");

        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, f::get, "get() keeps the JDK's checked exception");
    }

    @Test
    void aClosedOrLostClientIsSchedulerUnavailableNamingTheAddress() {
        Future<Integer> f = client.submit(ErrorsTest::inc, 1);
        cluster.clientInbox.onClose(new java.io.IOException("reset"));
        SchedulerUnavailableException lost = assertThrows(SchedulerUnavailableException.class, f::result);
        assertEquals(FakeCluster.SCHEDULER, lost.address());
        assertTrue(lost.getMessage().contains(FakeCluster.SCHEDULER), lost.getMessage());
        assertThrows(ExecutionException.class, f::get, "get() reports it as the JDK does: a failed computation");

        SchedulerUnavailableException whoHas = assertThrows(SchedulerUnavailableException.class, client::whoHas);
        assertTrue(whoHas.getMessage().contains(FakeCluster.SCHEDULER), whoHas.getMessage());
        client.close();
        SchedulerUnavailableException closed = assertThrows(SchedulerUnavailableException.class,
                () -> client.submit(ErrorsTest::inc, 2));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }

    @Test
    void aRefusalOnTheRemoteSideIsDistExceptionWithTheRemoteCause() {
        cluster.schedulerAnswers = m -> new Message.ErrorReply("the scheduler is shutting down");
        DistException e = assertThrows(DistException.class, client::hasWhat);
        assertFalse(e instanceof TaskFailedException, e.toString());
        assertTrue(e.getMessage().contains("Client.hasWhat") && e.getMessage().contains("shutting down"), e.getMessage());
        assertInstanceOf(IllegalStateException.class, e.getCause());
    }
}
