package dist.worker;

import dist.protocol.Message;
import dist.protocol.Message.AddKeys;
import dist.protocol.Message.ComputeTask;
import dist.protocol.Message.Heartbeat;
import dist.protocol.Message.MissingData;
import dist.protocol.Message.TaskErred;
import dist.protocol.Message.TaskFinished;
import dist.worker.WorkerEvent.Compute;
import dist.worker.WorkerEvent.DataAdded;
import dist.worker.WorkerEvent.ExecuteDone;
import dist.worker.WorkerEvent.ExecuteFailed;
import dist.worker.WorkerEvent.FetchDone;
import dist.worker.WorkerEvent.FetchFailed;
import dist.worker.WorkerEvent.Free;
import dist.worker.WorkerEvent.Tick;
import dist.worker.WorkerInstruction.DropData;
import dist.worker.WorkerInstruction.Execute;
import dist.worker.WorkerInstruction.Fetch;
import dist.worker.WorkerInstruction.SendToScheduler;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerMachineTest {

    private static final String SELF = "10.0.0.1:9000";
    private final Map<String, byte[]> runs = new HashMap<>();
    private final byte[] error = {1, 2, 3};
    private long now;

    // ------------------------------------------------------------------ helpers

    private byte[] run(String key) {
        return runs.computeIfAbsent(key, k -> k.getBytes());
    }

    private ComputeTask task(String key, long priority) {
        return new ComputeTask(key, run(key), Map.of(), Map.of(), priority);
    }

    /** deps: key, size, holders... per entry. */
    private ComputeTask task(String key, long priority, Dep... deps) {
        Map<String, List<String>> whoHas = new LinkedHashMap<>();
        Map<String, Long> nbytes = new LinkedHashMap<>();
        for (Dep d : deps) {
            whoHas.put(d.key, List.of(d.holders));
            nbytes.put(d.key, d.size);
        }
        return new ComputeTask(key, run(key), whoHas, nbytes, priority);
    }

    private record Dep(String key, long size, String... holders) {}

    private static Dep dep(String key, long size, String... holders) {
        return new Dep(key, size, holders);
    }

    private List<WorkerInstruction> compute(WorkerMachine ws, ComputeTask t) {
        return ws.handle(new Compute(t), now++);
    }

    private List<WorkerInstruction> done(WorkerMachine ws, String key, long nbytes) {
        return ws.handle(new ExecuteDone(key, nbytes, "Integer", 10, 20, null), now++);
    }

    private Execute exec(String key, String... deps) {
        return new Execute(key, run(key), List.of(deps));
    }

    private static SendToScheduler finished(String key, long nbytes) {
        return new SendToScheduler(new TaskFinished(key, nbytes, "Integer", 10, 20, null));
    }

    private static SendToScheduler msg(Message m) {
        return new SendToScheduler(m);
    }

    private static WorkerMachine worker(int nthreads) {
        return new WorkerMachine(SELF, nthreads, WorkerConfig.defaults());
    }

    // ------------------------------------------------------------------ execution

    @Test
    void taskWithoutDependenciesExecutesAtOnce() {
        WorkerMachine ws = worker(1);
        assertEquals(List.of(exec("a")), compute(ws, task("a", 0)));
        assertEquals("executing", ws.stateOf("a"));
        assertEquals(1, ws.executingCount());
    }

    @Test
    void nthreadsLimitsTasksExecutingAtOnce() {
        WorkerMachine ws = worker(2);
        assertEquals(List.of(exec("a")), compute(ws, task("a", 0)));
        assertEquals(List.of(exec("b")), compute(ws, task("b", 0)));
        assertEquals(List.of(), compute(ws, task("c", 0)));
        assertEquals("ready", ws.stateOf("c"));
        assertEquals(2, ws.executingCount());
        assertEquals(1, ws.readyCount());

        assertEquals(List.of(finished("a", 8), exec("c")), done(ws, "a", 8));
        assertEquals("memory", ws.stateOf("a"));
        assertEquals(2, ws.executingCount());
        assertEquals(0, ws.readyCount());
    }

    @Test
    void readyTasksRunLowestPriorityFirstThenInArrivalOrder() {
        WorkerMachine ws = worker(1);
        compute(ws, task("a", 5));
        compute(ws, task("b", 3));
        compute(ws, task("c", 1));
        compute(ws, task("d", 3));
        assertEquals(List.of(finished("a", 1), exec("c")), done(ws, "a", 1));
        assertEquals(List.of(finished("c", 1), exec("b")), done(ws, "c", 1));
        assertEquals(List.of(finished("b", 1), exec("d")), done(ws, "b", 1));
        assertEquals(List.of(finished("d", 1)), done(ws, "d", 1));
    }

    @Test
    void resentComputeTakesTheNewPriority() {
        WorkerMachine ws = worker(1);
        compute(ws, task("a", 0));
        compute(ws, task("b", 1));
        compute(ws, task("c", 2));
        assertEquals(List.of(), compute(ws, task("c", -1)));
        assertEquals(List.of(finished("a", 1), exec("c")), done(ws, "a", 1));
    }

    @Test
    void executeFailedReportsTaskErredAndFreesTheSlot() {
        WorkerMachine ws = worker(1);
        compute(ws, task("a", 0));
        compute(ws, task("b", 0));
        List<WorkerInstruction> out = ws.handle(new ExecuteFailed("a", error, "boom", 3, 4), now++);
        assertEquals(List.of(msg(new TaskErred("a", error, "boom", 3, 4)), exec("b")), out);
        assertEquals("error", ws.stateOf("a"));
        assertEquals(1, ws.executingCount());
    }

    @Test
    void errorKeyIsRetriedWhenComputedAgain() {
        WorkerMachine ws = worker(1);
        compute(ws, task("a", 0));
        ws.handle(new ExecuteFailed("a", error, "boom", 3, 4), now++);
        assertEquals(List.of(exec("a")), compute(ws, task("a", 0)));
    }

    @Test
    void resultAndInlineValueArePassedThrough() {
        WorkerMachine ws = worker(1);
        compute(ws, task("a", 0));
        byte[] inline = {42};
        List<WorkerInstruction> out = ws.handle(new ExecuteDone("a", 16, "String", 5, 9, inline), now++);
        assertEquals(List.of(msg(new TaskFinished("a", 16, "String", 5, 9, inline))), out);
        assertEquals(16, ws.memoryBytes());
        assertEquals(java.util.Set.of("a"), ws.keysInMemory());
        assertEquals(Map.of("a", 16L), ws.heldKeys());
    }

    @Test
    void computeForKeyInMemoryReportsTaskFinishedAgain() {
        WorkerMachine ws = worker(1);
        compute(ws, task("a", 0));
        done(ws, "a", 8);
        assertEquals(List.of(msg(new TaskFinished("a", 8, "Integer", 0, 0, null))), compute(ws, task("a", 0)));
        assertEquals(0, ws.executingCount());
    }

    @Test
    void dependencyInMemoryLetsTaskRunAtOnce() {
        WorkerMachine ws = worker(1);
        compute(ws, task("x", 0));
        done(ws, "x", 8);
        // the scheduler lists this worker itself as the holder
        assertEquals(List.of(exec("y", "x")), compute(ws, task("y", 0, dep("x", 8, SELF))));
    }

    @Test
    void aResultNoTaskHereAsksForIsReportedForTheSchedulerToDecide() {
        // only an execution reset on re-registration that ran after all reports a key unknown here
        WorkerMachine ws = worker(1);
        assertEquals(List.of(finished("zz", 1)), done(ws, "zz", 1));
        assertEquals("memory", ws.stateOf("zz"));
        assertEquals(List.of(new DropData("zz")), ws.handle(new Free(List.of("zz")), now++));
        assertEquals(List.of(), ws.handle(new ExecuteFailed("yy", error, "x", 0, 0), now++));
    }

    // ------------------------------------------------------------------ free

    @Test
    void freeingAQueuedTaskDropsIt() {
        WorkerMachine ws = worker(1);
        compute(ws, task("a", 0));
        compute(ws, task("b", 0));
        assertEquals(List.of(), ws.handle(new Free(List.of("b")), now++));
        assertNull(ws.stateOf("b"));
        assertEquals(0, ws.readyCount());
        assertEquals(List.of(finished("a", 1)), done(ws, "a", 1));
    }

    @Test
    void freeingAnExecutingTaskStillReportsItThenFreeDropsIt() {
        WorkerMachine ws = worker(1);
        compute(ws, task("a", 0));
        assertEquals(List.of(), ws.handle(new Free(List.of("a")), now++));
        assertEquals("executing", ws.stateOf("a"));
        assertEquals(List.of(finished("a", 4)), done(ws, "a", 4));
        assertEquals(List.of(new DropData("a")), ws.handle(new Free(List.of("a")), now++));
        assertNull(ws.stateOf("a"));
        assertEquals(0, ws.memoryBytes());
    }

    @Test
    void freeingDataInMemoryDropsIt() {
        WorkerMachine ws = worker(1);
        compute(ws, task("a", 0));
        done(ws, "a", 100);
        assertEquals(100, ws.memoryBytes());
        assertEquals(List.of(new DropData("a")), ws.handle(new Free(List.of("a", "unknown")), now++));
        assertEquals(0, ws.memoryBytes());
        assertTrue(ws.keysInMemory().isEmpty());
    }

    @Test
    void freedDataStaysUntilTheQueuedTaskNeedingItFinishes() {
        WorkerMachine ws = worker(1);
        compute(ws, task("x", 0));
        done(ws, "x", 8);
        compute(ws, task("busy", 0));
        assertEquals(List.of(), compute(ws, task("y", 1, dep("x", 8, SELF))));
        assertEquals(List.of(), ws.handle(new Free(List.of("x")), now++));
        assertEquals("memory", ws.stateOf("x"));
        assertEquals(List.of(finished("busy", 1), exec("y", "x")), done(ws, "busy", 1));
        assertEquals(List.of(finished("y", 2), new DropData("x")), done(ws, "y", 2));
        assertNull(ws.stateOf("x"));
        assertEquals(java.util.Set.of("busy", "y"), ws.keysInMemory());
    }

    @Test
    void freeingAnErroredKeyForgetsIt() {
        WorkerMachine ws = worker(1);
        compute(ws, task("a", 0));
        ws.handle(new ExecuteFailed("a", error, "boom", 0, 0), now++);
        assertEquals(List.of(), ws.handle(new Free(List.of("a")), now++));
        assertNull(ws.stateOf("a"));
    }

    // ------------------------------------------------------------------ heartbeat, data added, input checks

    @Test
    void tickSendsHeartbeatWhenTheIntervalHasPassed() {
        WorkerMachine ws = new WorkerMachine(SELF, 1, WorkerConfig.defaults().withHeartbeatIntervalNanos(1000));
        compute(ws, task("a", 0));
        compute(ws, task("b", 0));
        assertEquals(List.of(msg(new Heartbeat(0, 1, 1, 0))), ws.handle(new Tick(), 5000));
        assertEquals(List.of(), ws.handle(new Tick(), 5999));
        ws.handle(new ExecuteDone("a", 30, "T", 0, 0, null), 6000);
        assertEquals(List.of(msg(new Heartbeat(30, 1, 0, 1))), ws.handle(new Tick(), 6000));
    }

    @Test
    void dataAddedIsReportedAndUnblocksWaitingTasks() {
        WorkerMachine ws = worker(1);
        List<WorkerInstruction> first = compute(ws, task("y", 0, dep("x", 5, "p1:1")));
        assertEquals(List.of(new Fetch("p1:1", List.of("x"))), first);
        List<WorkerInstruction> out = ws.handle(new DataAdded(Map.of("x", 5L, "s", 7L)), now++);
        assertTrue(out.contains(exec("y", "x")), out.toString());
        SendToScheduler add = (SendToScheduler) out.get(0);
        assertEquals(Map.of("x", 5L, "s", 7L), ((AddKeys) add.message()).nbytes());
        assertEquals(12, ws.memoryBytes());
        // the late transfer changes nothing
        assertEquals(List.of(), ws.handle(new FetchDone("p1:1", Map.of("x", 5L), List.of()), now++));
        assertEquals(0, ws.fetchesInFlight());
    }

    @Test
    void malformedEventsAreRejectedWithoutChangingState() {
        WorkerMachine ws = worker(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ws.handle(new Compute(new ComputeTask("a", null, Map.of(), Map.of(), 0)), 0));
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ws.handle(new Compute(new ComputeTask("a", run("a"), Map.of("a", List.of()), Map.of(), 0)), 0));
        assertThrows(IllegalArgumentException.class, () -> ws.handle(new Free(null), 0));
        assertThrows(IllegalArgumentException.class, () -> ws.handle(null, 0));
        assertNull(ws.stateOf("a"));
        assertEquals(List.of(exec("a")), compute(ws, task("a", 0)));
        assertThrows(IllegalArgumentException.class, () -> new WorkerMachine(SELF, 0, WorkerConfig.defaults()));
        assertThrows(IllegalArgumentException.class, () -> WorkerConfig.defaults().withMaxFetchBytes(0));
    }

    // ------------------------------------------------------------------ start notices

    private ComputeTask startingAtOnce(String key, Dep... deps) {
        ComputeTask t = task(key, 0, deps);
        return new ComputeTask(t.key(), t.run(), t.whoHas(), t.nbytes(), t.priority(), null, false);
    }

    @Test
    void aTaskSentAsStartingAtOnceRunsWithoutANotice() {
        WorkerMachine ws = new WorkerMachine(SELF, 1, WorkerConfig.defaults());
        List<WorkerInstruction> out = compute(ws, startingAtOnce("x"));
        assertEquals(List.of(new Execute("x", run("x"), List.of(), null, false)), out);
    }

    @Test
    void tasksOfOneClientKeepOneCopyOfItsId() {
        // each decoded message brings its own copy of the id; a worker holding a million results kept a million
        WorkerMachine ws = new WorkerMachine(SELF, 2, WorkerConfig.defaults());
        String first = new String("client-1"), second = new String("client-1"), other = new String("client-2");
        List<Execute> runs = new java.util.ArrayList<>();
        for (Object[] t : new Object[][] {{"x", first}, {"y", second}, {"z", other}}) {
            ComputeTask c = task((String) t[0], 0);
            for (WorkerInstruction i : compute(ws, new ComputeTask(c.key(), c.run(), c.whoHas(), c.nbytes(),
                    c.priority(), (String) t[1], false))) {
                if (i instanceof Execute e) runs.add(e);
            }
            done(ws, (String) t[0], 8);
        }
        assertEquals(List.of("x", "y", "z"), runs.stream().map(Execute::key).toList());
        assertSame(first, runs.get(1).clientId(), "an equal id is the instance kept before");
        assertEquals("client-2", runs.get(2).clientId());
    }

    @Test
    void aTaskSentAsQueuedIsAnnouncedWhenItStarts() {
        WorkerMachine ws = new WorkerMachine(SELF, 1, WorkerConfig.defaults());
        assertEquals(List.of(new Execute("x", run("x"), List.of(), null, true)), compute(ws, task("x", 0)));
        assertEquals(List.of(), compute(ws, task("y", 0)), "y waits for the thread, as the scheduler assumed");
        List<WorkerInstruction> out = done(ws, "x", 8);
        assertEquals(List.of(finished("x", 8), new Execute("y", run("y"), List.of(), null, true)), out);
    }

    @Test
    void aTaskSentAsStartingAtOnceThatMustWaitIsReportedQueuedThenAnnounced() {
        WorkerMachine ws = new WorkerMachine(SELF, 1, WorkerConfig.defaults());
        compute(ws, startingAtOnce("x"));
        // the scheduler thought the thread free (x's result crossed this request): y waits
        assertEquals(List.of(new SendToScheduler(new Message.TasksQueued(List.of("y")))),
                compute(ws, startingAtOnce("y")));
        assertEquals(List.of(finished("x", 8), new Execute("y", run("y"), List.of(), null, true)), done(ws, "x", 8));
    }

    @Test
    void aTaskWithAnInputToFetchIsReportedQueued() {
        WorkerMachine ws = new WorkerMachine(SELF, 1, WorkerConfig.defaults());
        List<WorkerInstruction> out = compute(ws, startingAtOnce("y", dep("x", 10, "10.0.0.2:9000")));
        assertEquals(List.of(new Fetch("10.0.0.2:9000", List.of("x")),
                new SendToScheduler(new Message.TasksQueued(List.of("y")))), out);
    }

    @Test
    void aRepeatedRequestForARunningTaskSentAsQueuedIsAnsweredWithAStartNotice() {
        WorkerMachine ws = new WorkerMachine(SELF, 1, WorkerConfig.defaults());
        compute(ws, startingAtOnce("x"));
        assertEquals(List.of(new SendToScheduler(new Message.TasksStarted(List.of("x")))), compute(ws, task("x", 0)));
        assertEquals(List.of(), compute(ws, startingAtOnce("x")), "already counted as executing");
    }

    // ------------------------------------------------------------------ story

    private static List<Byte> steps(WorkerMachine ws, String key) {
        return ws.story(key).stream().map(WorkerStory.Step::what).toList();
    }

    @Test
    void theMachineKeepsTheStoryOfEachKeyWithTheTimesItWasGiven() {
        WorkerMachine ws = worker(1);
        ws.handle(new Compute(task("b", 0, dep("a", 8, "peer:1"))), 100);
        ws.handle(new FetchDone("peer:1", Map.of("a", 8L), List.of()), 200);
        ws.handle(new ExecuteDone("b", 4, "Integer", 10, 20, null), 300);
        ws.handle(new Free(List.of("b")), 400);
        assertEquals(List.of(WorkerStory.FETCHING, WorkerStory.FETCHED), steps(ws, "a"));
        assertEquals(List.of(100L, 200L), ws.story("a").stream().map(WorkerStory.Step::nanos).toList());
        assertEquals("peer:1", ws.story("a").get(0).peer());
        assertEquals(List.of(WorkerStory.RECEIVED, WorkerStory.EXECUTING, WorkerStory.DONE, WorkerStory.RELEASED),
                steps(ws, "b"));
        assertEquals(List.of(100L, 200L, 300L, 400L), ws.story("b").stream().map(WorkerStory.Step::nanos).toList());
        assertTrue(ws.story("unknown").isEmpty());
    }

    @Test
    void theStoryTellsFailuresWithTheirReasons() {
        WorkerMachine ws = worker(1);
        ws.handle(new Compute(task("b", 0, dep("a", 8, "peer:1"))), 1);
        ws.handle(new FetchFailed("peer:1", List.of("a"), "connection refused"), 2);
        ws.handle(new ExecuteFailed("c", error, "boom", 0, 0), 3);
        assertEquals(List.of(WorkerStory.FETCHING, WorkerStory.FETCH_FAILED), steps(ws, "a"));
        assertEquals("connection refused", ws.story("a").get(1).text());
        Message.StoryReply r = WorkerStory.reply(ws.story("a"), SELF, 1_000);
        assertEquals(List.of("fetching from peer:1", "fetch from peer:1 failed"), r.events());
        assertEquals(List.of(1_000L, 1_000L), r.epochMicros(), "1 and 2 ns after an epoch of 1000 us");
    }
}
