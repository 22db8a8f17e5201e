package dist.scheduler;

import dist.protocol.Message.*;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static dist.scheduler.Harness.*;
import static org.junit.jupiter.api.Assertions.*;

class SchedulerStateTest {

    static final String A = "10.0.0.1:9000", B = "10.0.0.2:9000", C = "10.0.0.3:9000";

    Harness twoWorkers() {
        Harness h = new Harness();
        assertOut(h.register(A, "alice", 1), accepted(A));
        assertOut(h.register(B, "bob", 1), accepted(B));
        return h;
    }

    @Test
    void submitComputeFinishTellsTheClient() {
        Harness h = twoWorkers();
        assertOut(h.submit("c1", List.of(h.task("inc-1")), "inc-1"), h.compute(A, "inc-1"));
        assertEquals("processing", h.s.view().stateOf("inc-1"));
        byte[] value = {1, 2, 3};
        List<Outgoing> out = h.worker(A, new TaskFinished("inc-1", 28, "Integer", 100, 300, value));
        assertEquals(1, out.size());
        KeyInMemory m = (KeyInMemory) out.get(0).message();
        assertEquals("c1", out.get(0).to());
        assertEquals("inc-1", m.key());
        assertEquals(List.of(A), m.whoHas());
        assertEquals(28, m.nbytes());
        assertSame(value, m.value(), "small results are forwarded inline");
        assertEquals("memory", h.s.view().stateOf("inc-1"));
        assertEquals(200, h.s.view().averageDurationNanos("inc").orElseThrow());
        assertEquals(Map.of("inc-1", List.of(A)), h.s.view().whoHas(List.of("inc-1")));
    }

    @Test
    void largeInlineResultsAreNotForwarded() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("big")), "big");
        List<Outgoing> out = h.worker(A, new TaskFinished("big", 9000, "byte[]", 1, 2, new byte[9000]));
        assertOut(out, inMemory("c1", "big", List.of(A), 9000));
    }

    @Test
    void independentTasksSpreadRoundRobinAndQueueWhileWorkersAreSaturated() {
        Harness h = twoWorkers();
        List<Outgoing> out = h.submit("c1", List.of(h.task("f-1"), h.task("f-2"), h.task("f-3"), h.task("f-4")),
                "f-1", "f-2", "f-3", "f-4");
        // one thread each and no known duration yet: one task per thread, the rest wait here
        assertOut(out, h.compute(A, "f-1"), h.compute(B, "f-2"));
        assertEquals("queued", h.s.view().stateOf("f-3"));
        assertEquals(2, h.s.view().queuedCount());
        assertOut(h.worker(A, new TaskFinished("f-1", 8, "int", 0, 0, null)),
                inMemory("c1", "f-1", List.of(A), 8), h.compute(A, "f-3"));
        assertOut(h.worker(B, new TaskFinished("f-2", 8, "int", 0, 0, null)),
                inMemory("c1", "f-2", List.of(B), 8), h.compute(B, "f-4"));
        assertEquals(0, h.s.view().queuedCount());
    }

    /**
     * As dask's scheduler does in bulk_schedule_unrunnable_after_adding_worker: tasks submitted before any worker wait in
     * no-worker; the first worker to join takes what its threads run and the rest queue for the next
     * one, instead of all landing on the first (an adaptive cluster's first worker took every task).
     */
    @Test
    void tasksWithoutWorkersQueueWhenTheFirstJoinsInsteadOfAllGoingToIt() {
        Harness h = new Harness();
        List<TaskSpec> specs = new java.util.ArrayList<>();
        String[] keys = new String[6];
        for (int i = 0; i < 6; i++) {
            keys[i] = "f-" + i;
            specs.add(h.task(keys[i]));
        }
        assertOut(h.submit("c1", specs, keys));
        assertEquals(6, h.s.view().noWorkerCount());
        List<Outgoing> out = h.register(A, "alice", 2);
        assertEquals(2, out.stream().filter(o -> o.message() instanceof ComputeTask).count(), out.toString());
        assertEquals(0, h.s.view().noWorkerCount());
        assertEquals(4, h.s.view().queuedCount());
        out = h.register(B, "bob", 1);
        assertEquals(1, out.stream().filter(o -> o.message() instanceof ComputeTask
                && o.to().equals(B)).count(), out.toString());
        assertEquals(3, h.s.view().queuedCount());
    }

    @Test
    void shortTasksArePipelinedDeeperOnceTheirDurationIsKnown() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("f-0")), "f-0");
        h.worker(A, new TaskFinished("f-0", 8, "int", 0, 1_000, null)); // f takes 1 us
        List<TaskSpec> many = new java.util.ArrayList<>();
        List<String> keys = new java.util.ArrayList<>();
        for (int i = 1; i <= 3000; i++) {
            many.add(h.task("f-" + i));
            keys.add("f-" + i);
        }
        h.submit("c1", many, keys.toArray(String[]::new));
        int limit = 1 + Placement.MAX_PIPELINE;
        assertEquals(3000 - 2 * limit, h.s.view().queuedCount(), "each worker holds one per thread plus the pipeline");
    }

    @Test
    void chainRunsInOrderAndFreesIntermediates() {
        Harness h = twoWorkers();
        assertOut(h.submit("c1", List.of(h.task("x"), h.task("y", "x"), h.task("z", "y")), "z"), h.compute(A, "x"));
        assertEquals("waiting", h.s.view().stateOf("y"));
        assertOut(h.finish(A, "x", 10), h.compute(A, "y", "x", List.of(A), 10L));
        // y done: x is needed by nobody, its data goes; z runs next to y
        assertOut(h.finish(A, "y", 20), free(A, "x"), h.compute(A, "z", "y", List.of(A), 20L));
        assertEquals("released", h.s.view().stateOf("x"), "recipe kept while a dependent may need recomputing");
        assertOut(h.finish(A, "z", 30), inMemory("c1", "z", List.of(A), 30), free(A, "y"));
        assertEquals(3, h.s.view().taskCount());
        // the client lets go of z: everything is forgotten
        assertOut(h.client("c1", new ReleaseKeys("c1", List.of("z"))), free(A, "z"));
        assertEquals(0, h.s.view().taskCount());
        assertNull(h.s.view().stateOf("x"));
    }

    @Test
    void fanInIsPlacedWhereMostBytesAlreadyAre() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("a"), h.task("b"), h.task("c", "a", "b")), "c");
        h.finish(A, "a", 1);
        // an input to fetch first: sent as queued, so B announces it before it starts
        assertOut(h.finish(B, "b", 1000), h.computeQueued(B, "c", "a", List.of(A), 1L, "b", List.of(B), 1000L));
    }

    @Test
    void identicalKeysAreComputedOnce() {
        Harness h = twoWorkers();
        assertOut(h.submit("c1", List.of(h.task("inc-5")), "inc-5"), h.compute(A, "inc-5"));
        assertOut(h.submit("c2", List.of(h.task("inc-5")), "inc-5"));
        assertOut(h.submit("c1", List.of(h.task("inc-5")), "inc-5"));
        assertOut(h.finish(A, "inc-5", 8), inMemory("c1", "inc-5", List.of(A), 8), inMemory("c2", "inc-5", List.of(A), 8));
        assertEquals(1, h.s.view().taskCount());
    }

    @Test
    void keyAlreadyInMemoryIsReportedAtOnce() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("x")), "x");
        h.finish(A, "x", 8);
        assertOut(h.submit("c2", List.of(h.task("x")), "x"), inMemory("c2", "x", List.of(A), 8));
        // c1 releases, c2 still holds it: data stays
        assertOut(h.client("c1", new ReleaseKeys("c1", List.of("x"))));
        assertEquals("memory", h.s.view().stateOf("x"));
        assertOut(h.client("c2", new ReleaseKeys("c2", List.of("x"))), free(A, "x"));
        assertNull(h.s.view().stateOf("x"));
    }

    @Test
    void missingDependencyIsRefused() {
        Harness h = twoWorkers();
        List<Outgoing> out = h.submit("c1", List.of(h.task("y", "nowhere")), "y");
        assertEquals(1, out.size());
        KeyErred e = (KeyErred) out.get(0).message();
        assertEquals("y", e.key());
        assertNull(e.exception());
        assertTrue(e.summary().contains("missing dependencies of y: nowhere"), e.summary());
        assertEquals("erred", h.s.view().stateOf("y"));
        h.client("c1", new ReleaseKeys("c1", List.of("y")));
        assertEquals(0, h.s.view().taskCount());
    }

    @Test
    void unknownWantedKeyIsCancelled() {
        Harness h = twoWorkers();
        List<Outgoing> out = h.submit("c1", List.of(), "ghost");
        assertEquals("ghost", ((KeyCancelled) out.get(0).message()).key());
    }

    /**
     * Scattered data dropped while an erred task still names it as input lingers, released; the same
     * value scattered again (the same key) waits for its data instead of failing as lost.
     */
    @Test
    void scatteringAgainADroppedInputOfAnErredTaskWaitsForTheData() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(new TaskSpec("data", null, List.of(), 0, null)), "data");
        h.worker(A, new AddKeys(Map.of("data", 8L)));
        assertEquals("memory", h.s.view().stateOf("data"));
        h.submit("c1", List.of(h.task("bad", "data")), "bad");
        byte[] exc = "boom".getBytes(StandardCharsets.UTF_8);
        h.worker(A, new TaskErred("bad", exc, "RuntimeException: lol", 1, 2));
        h.client("c1", new ReleaseKeys("c1", List.of("data")));
        assertEquals("released", h.s.view().stateOf("data"));

        List<Outgoing> out = h.submit("c1", List.of(new TaskSpec("data", null, List.of(), 0, null)), "data");
        assertTrue(out.stream().noneMatch(o -> o.message() instanceof KeyErred), out.toString());
        assertOut(h.worker(B, new AddKeys(Map.of("data", 8L))), inMemory("c1", "data", List.of(B), 8));
    }

    /** dask: test_client.py::test_retry_dependencies, at the scheduler: a retry runs the erred input again too. */
    @Test
    void retryRunsAnErredKeyAndTheErredInputsItDependsOnAgain() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("x"), h.task("y", "x")), "x", "y");
        byte[] exc = "KeyError".getBytes(StandardCharsets.UTF_8);
        h.worker(A, new TaskErred("x", exc, "KeyError: foo", 1, 2));
        assertEquals("erred", h.s.view().stateOf("y"));

        assertOut(h.client("c1", new RetryKeys("c1", List.of("y"))));
        assertEquals("released", h.s.view().stateOf("x"));
        assertEquals("released", h.s.view().stateOf("y"));
        // the want that follows puts y to waiting, and x, its released input, runs first
        assertOut(h.submit("c1", List.of(), "y"), h.compute(B, "x")); // round-robin goes on to B
        assertEquals("waiting", h.s.view().stateOf("y"));
        // a key that did not err is left as it is
        assertOut(h.client("c1", new RetryKeys("c1", List.of("x", "ghost"))));
        assertEquals("processing", h.s.view().stateOf("x"));
    }

    @Test
    void errorPropagatesToDependentsAndWantingClients() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("div"), h.task("add", "div"), h.task("mul", "add")), "div", "mul");
        h.submit("c2", List.of(), "add");
        byte[] exc = "ZeroDivision".getBytes(StandardCharsets.UTF_8);
        List<Outgoing> out = h.worker(A, new TaskErred("div", exc, "ArithmeticException: / by zero", 1, 2));
        assertOut(out,
                Outgoing.send("c1", new KeyErred("div", exc, "ArithmeticException: / by zero", "div")),
                Outgoing.send("c2", new KeyErred("add", exc, "ArithmeticException: / by zero", "div")),
                Outgoing.send("c1", new KeyErred("mul", exc, "ArithmeticException: / by zero", "div")),
                free(A, "div"));
        assertEquals("erred", h.s.view().stateOf("mul"));
        // a later submission depending on the erred key errs at once
        out = h.submit("c3", List.of(h.task("later", "div")), "later");
        assertOut(out, Outgoing.send("c3", new KeyErred("later", exc, "ArithmeticException: / by zero", "div")));
        // resubmitting an erred key reports the error
        out = h.submit("c3", List.of(h.task("div")), "div");
        assertOut(out, Outgoing.send("c3", new KeyErred("div", exc, "ArithmeticException: / by zero", "div")));
        for (String c : List.of("c1", "c2", "c3")) {
            h.event(new SchedulerEvent.ClientGone(c));
        }
        assertEquals(0, h.s.view().taskCount());
    }

    @Test
    void retriesRunTheTaskAgainBeforeErring() {
        Harness h = twoWorkers();
        TaskOptions twice = new TaskOptions(List.of(), false, Map.of(), 2);
        h.submit("c1", List.of(h.task("flaky", twice)), "flaky");
        byte[] exc = {9};
        // retry 1 and 2: freed on the worker, placed again (least busy, round robin)
        assertOut(h.worker(A, new TaskErred("flaky", exc, "boom", 1, 2)), h.compute(B, "flaky"), free(A, "flaky"));
        assertOut(h.worker(B, new TaskErred("flaky", exc, "boom", 1, 2)), h.compute(A, "flaky"), free(B, "flaky"));
        assertOut(h.worker(A, new TaskErred("flaky", exc, "boom", 1, 2)),
                Outgoing.send("c1", new KeyErred("flaky", exc, "boom", "flaky")), free(A, "flaky"));
    }

    @Test
    void retriedTaskThatSucceedsEndsInMemory() {
        Harness h = twoWorkers();
        TaskOptions once = new TaskOptions(List.of(), false, Map.of(), 1);
        h.submit("c1", List.of(h.task("flaky", once)), "flaky");
        h.worker(A, new TaskErred("flaky", new byte[0], "boom", 1, 2));
        assertOut(h.finish(B, "flaky", 4), inMemory("c1", "flaky", List.of(B), 4));
    }

    @Test
    void releaseKeepsDataWhileADependentStillNeedsIt() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("x"), h.task("y", "x")), "x", "y");
        assertOut(h.finish(A, "x", 5), inMemory("c1", "x", List.of(A), 5), h.compute(A, "y", "x", List.of(A), 5L));
        assertOut(h.client("c1", new ReleaseKeys("c1", List.of("x"))), new Outgoing[0]);
        assertEquals("memory", h.s.view().stateOf("x"), "y still needs x");
        assertOut(h.finish(A, "y", 6), inMemory("c1", "y", List.of(A), 6), free(A, "x"));
        assertEquals("released", h.s.view().stateOf("x"));
    }

    @Test
    void releasingAPendingKeyStopsItsWork() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("x"), h.task("y", "x")), "y");
        assertOut(h.client("c1", new ReleaseKeys("c1", List.of("y"))), free(A, "x"));
        assertEquals(0, h.s.view().taskCount());
        // a late result of the dropped work is refused
        assertOut(h.finish(A, "x", 1), free(A, "x"));
    }

    @Test
    void clientGoneReleasesEverythingItWanted() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("x"), h.task("y")), "x", "y");
        h.finish(A, "x", 1);
        assertOut(h.event(new SchedulerEvent.ClientGone("c1")), free(A, "x"), free(B, "y"));
        assertEquals(0, h.s.view().taskCount());
    }

    @Test
    void cancelStopsKeysAndTheirDependents() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("x"), h.task("y", "x"), h.task("other")), "x", "y", "other");
        h.submit("c2", List.of(), "y");
        h.finish(A, "x", 3);
        List<Outgoing> out = h.client("c1", new CancelKeys("c1", List.of("x"), false));
        assertOut(out,
                Outgoing.send("c1", new KeyCancelled("x", "cancelled by client c1")),
                Outgoing.send("c1", new KeyCancelled("y", "cancelled: it depends on x, cancelled by client c1")),
                Outgoing.send("c2", new KeyCancelled("y", "cancelled: it depends on x, cancelled by client c1")),
                free(A, "y", "x"));
        assertNull(h.s.view().stateOf("x"));
        assertNull(h.s.view().stateOf("y"));
        assertEquals("processing", h.s.view().stateOf("other"));
    }

    @Test
    void cancelWithoutForceLeavesOtherClientsKeys() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("x")), "x");
        h.submit("c2", List.of(h.task("x")), "x");
        assertOut(h.client("c1", new CancelKeys("c1", List.of("x"), false)),
                Outgoing.send("c1", new KeyCancelled("x", "cancelled by client c1")));
        assertEquals("processing", h.s.view().stateOf("x"));
        assertOut(h.client("c1", new CancelKeys("c1", List.of("x"), true)),
                Outgoing.send("c2", new KeyCancelled("x", "cancelled by client c1")), free(A, "x"));
        assertNull(h.s.view().stateOf("x"));
    }

    @Test
    void whoHasAndWorkersReplies() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("x")), "x");
        h.finish(A, "x", 3);
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c1", new WhoHasRequest(List.of("x", "nope")), 42));
        assertOut(out, new Outgoing("c1", new WhoHasReply(Map.of("x", List.of(A), "nope", List.of())), 42));
        out = h.event(new SchedulerEvent.FromClient("c1", new WorkersRequest(), 43));
        assertOut(out, new Outgoing("c1", new WorkersReply(List.of(
                new WorkerInfo(A, "alice", 1, 1L << 30, 100, 0, 0, 1),
                new WorkerInfo(B, "bob", 1, 1L << 30, 100, 0, 0, 0))), 43));
    }

    @Test
    void batchesAreUnwrappedInOrder() {
        Harness h = twoWorkers();
        h.submit("c1", List.of(h.task("x"), h.task("y")), "x", "y");
        List<Outgoing> out = h.worker(A, new Batch(List.of(
                new TaskFinished("x", 1, "t", 0, 0, null), new Heartbeat(5, 0, 0, 1))));
        assertOut(out, inMemory("c1", "x", List.of(A), 1));
        assertEquals(5, h.s.view().workerInfos().get(0).memoryBytes());
    }

    @Test
    void badInputGetsAClearErrorAndTheStateCarriesOn() {
        Harness h = twoWorkers();
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c1",
                new UpdateGraph("c1", java.util.Arrays.asList(new TaskSpec(null, null, List.of(), 0, null)), List.of()), 9));
        assertEquals(9, out.get(0).replyTo());
        assertTrue(((ErrorReply) out.get(0).message()).message().contains("has no key"));
        out = h.event(new SchedulerEvent.FromWorker("1.2.3.4:5", new Heartbeat(0, 0, 0, 0), 0));
        assertTrue(((ErrorReply) out.get(0).message()).message().contains("send RegisterWorker first"));
        assertOut(h.submit("c1", List.of(h.task("x")), "x"), h.compute(A, "x"));
    }

    /** A removed worker's last one-way messages (metrics as it stops) pass quietly; a request still gets an answer. */
    @Test
    void aRemovedWorkersLastMessagesAreDroppedAndItsRequestsAnswered() {
        Harness h = twoWorkers();
        h.event(new SchedulerEvent.WorkerGone(A, "its nanny was stopped"));
        assertEquals(List.of(), h.worker(A, new Heartbeat(0, 0, 0, 0)));
        List<Outgoing> out = h.event(new SchedulerEvent.FromWorker(A, new Heartbeat(0, 0, 0, 0), 7));
        assertEquals(7, out.get(0).replyTo());
        assertTrue(((ErrorReply) out.get(0).message()).message().contains("was removed"), String.valueOf(out));
        h.register(A, "a-again", 1);
        assertEquals(List.of(), h.worker(A, new Heartbeat(5, 0, 0, 1)));
        assertTrue(h.s.view().workerInfos().stream().anyMatch(w -> w.address().equals(A) && w.memoryBytes() == 5));
    }
}
