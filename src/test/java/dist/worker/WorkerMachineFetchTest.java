package dist.worker;

import dist.protocol.Message.AddKeys;
import dist.protocol.Message.ComputeTask;
import dist.protocol.Message.MissingData;
import dist.protocol.Message.TaskFinished;
import dist.worker.WorkerEvent.Compute;
import dist.worker.WorkerEvent.ExecuteDone;
import dist.worker.WorkerEvent.FetchDone;
import dist.worker.WorkerEvent.FetchFailed;
import dist.worker.WorkerEvent.Free;
import dist.worker.WorkerInstruction.DropData;
import dist.worker.WorkerInstruction.Execute;
import dist.worker.WorkerInstruction.Fetch;
import dist.worker.WorkerInstruction.SendToScheduler;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerMachineFetchTest {

    private static final String SELF = "10.0.0.1:9000";
    private static final String P1 = "10.0.0.2:9000";
    private static final String P2 = "10.0.0.3:9000";
    private static final String P3 = "10.0.0.4:9000";
    private final Map<String, byte[]> runs = new HashMap<>();
    private long now;

    private byte[] run(String key) {
        return runs.computeIfAbsent(key, String::getBytes);
    }

    private record Dep(String key, long size, String... holders) {}

    private static Dep dep(String key, long size, String... holders) {
        return new Dep(key, size, holders);
    }

    private ComputeTask task(String key, long priority, Dep... deps) {
        Map<String, List<String>> whoHas = new LinkedHashMap<>();
        Map<String, Long> nbytes = new LinkedHashMap<>();
        for (Dep d : deps) {
            whoHas.put(d.key, List.of(d.holders));
            nbytes.put(d.key, d.size);
        }
        return new ComputeTask(key, run(key), whoHas, nbytes, priority);
    }

    private List<WorkerInstruction> compute(WorkerMachine ws, ComputeTask t) {
        return ws.handle(new Compute(t), now++);
    }

    private List<WorkerInstruction> fetched(WorkerMachine ws, String peer, Map<String, Long> nbytes, String... missing) {
        return ws.handle(new FetchDone(peer, nbytes, List.of(missing)), now++);
    }

    private Execute exec(String key, String... deps) {
        return new Execute(key, run(key), List.of(deps));
    }

    private static SendToScheduler addKeys(Map<String, Long> nbytes) {
        return new SendToScheduler(new AddKeys(nbytes));
    }

    private static SendToScheduler missingData(String key, String peer) {
        return new SendToScheduler(new MissingData(key, peer));
    }

    private static WorkerMachine worker(WorkerConfig config) {
        return new WorkerMachine(SELF, 1, config);
    }

    @Test
    void missingInputIsFetchedThenTheTaskRuns() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        assertEquals(List.of(new Fetch(P1, List.of("x"))), compute(ws, task("y", 0, dep("x", 10, P1))));
        assertEquals("waiting", ws.stateOf("y"));
        assertEquals("flight", ws.stateOf("x"));
        assertEquals(1, ws.fetchesInFlight());

        assertEquals(List.of(addKeys(Map.of("x", 10L)), exec("y", "x")), fetched(ws, P1, Map.of("x", 10L)));
        assertEquals("memory", ws.stateOf("x"));
        assertEquals(10, ws.memoryBytes());
        assertEquals(0, ws.fetchesInFlight());
    }

    @Test
    void taskWaitsForEveryInput() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        List<WorkerInstruction> out = compute(ws, task("z", 0, dep("a", 1, P1), dep("b", 1, P2)));
        assertEquals(List.of(new Fetch(P1, List.of("a")), new Fetch(P2, List.of("b"))), out);
        assertEquals(List.of(addKeys(Map.of("a", 1L))), fetched(ws, P1, Map.of("a", 1L)));
        assertEquals("waiting", ws.stateOf("z"));
        assertEquals(List.of(addKeys(Map.of("b", 1L)), exec("z", "a", "b")), fetched(ws, P2, Map.of("b", 1L)));
    }

    @Test
    void smallKeysFromOnePeerGoInOneRequestWithinTheByteLimit() {
        WorkerMachine ws = worker(WorkerConfig.defaults().withMaxFetchBytes(25));
        List<WorkerInstruction> out = compute(ws, task("y", 0,
                dep("a", 10, P1), dep("b", 10, P1), dep("c", 10, P1)));
        // one request per peer at a time; the third key would pass the byte limit
        assertEquals(List.of(new Fetch(P1, List.of("a", "b"))), out);
        assertEquals("fetch", ws.stateOf("c"));
        out = fetched(ws, P1, Map.of("a", 10L, "b", 10L));
        assertEquals(List.of(addKeys(Map.of("a", 10L, "b", 10L)), new Fetch(P1, List.of("c"))), out);
        out = fetched(ws, P1, Map.of("c", 10L));
        assertEquals(List.of(addKeys(Map.of("c", 10L)), exec("y", "a", "b", "c")), out);
    }

    @Test
    void aKeyLargerThanTheByteLimitStillGoesAlone() {
        WorkerMachine ws = worker(WorkerConfig.defaults().withMaxFetchBytes(25));
        assertEquals(List.of(new Fetch(P1, List.of("big"))), compute(ws, task("y", 0, dep("big", 1000, P1))));
    }

    @Test
    void inputsOfSeveralTasksFromOnePeerAreBatchedInPriorityOrder() {
        WorkerMachine ws = worker(WorkerConfig.defaults().withMaxConcurrentFetches(1));
        assertEquals(List.of(new Fetch(P2, List.of("q"))), compute(ws, task("t0", 0, dep("q", 1, P2))));
        compute(ws, task("t1", 5, dep("a", 1, P1)));
        compute(ws, task("t2", 1, dep("b", 1, P1)));
        compute(ws, task("t3", 3, dep("c", 1, P1)));
        List<WorkerInstruction> out = fetched(ws, P2, Map.of("q", 1L));
        assertEquals(new Fetch(P1, List.of("b", "c", "a")), out.get(out.size() - 1));
    }

    @Test
    void maxConcurrentFetchesBoundsRequestsInFlight() {
        WorkerMachine ws = worker(WorkerConfig.defaults().withMaxConcurrentFetches(2));
        List<WorkerInstruction> out = compute(ws, task("y", 0, dep("a", 1, P1), dep("b", 1, P2), dep("c", 1, P3)));
        assertEquals(List.of(new Fetch(P1, List.of("a")), new Fetch(P2, List.of("b"))), out);
        assertEquals(2, ws.fetchesInFlight());
        out = fetched(ws, P2, Map.of("b", 1L));
        assertEquals(List.of(addKeys(Map.of("b", 1L)), new Fetch(P3, List.of("c"))), out);
    }

    @Test
    void holdersAreSpreadSoNoPeerGetsTwoRequests() {
        WorkerMachine ws = worker(WorkerConfig.defaults().withMaxFetchBytes(1));
        List<WorkerInstruction> out = compute(ws, task("y", 0, dep("a", 1, P1, P2), dep("b", 1, P1, P2)));
        assertEquals(2, out.size(), out.toString());
        Set<String> peers = new HashSet<>();
        for (WorkerInstruction i : out) peers.add(((Fetch) i).peer());
        assertEquals(Set.of(P1, P2), peers);
    }

    @Test
    void theSameSeedGivesTheSameChoiceOfPeer() {
        List<List<WorkerInstruction>> runsOut = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            WorkerMachine ws = worker(WorkerConfig.defaults().withSeed(7));
            runsOut.add(compute(ws, task("y", 0, dep("a", 1, P1, P2, P3))));
        }
        assertEquals(runsOut.get(0), runsOut.get(1));
    }

    @Test
    void failedPeerIsReplacedByAnotherHolderThenMissingDataIsSent() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        List<WorkerInstruction> out = compute(ws, task("y", 0, dep("x", 4, P1, P2)));
        String first = ((Fetch) out.get(0)).peer();
        String second = first.equals(P1) ? P2 : P1;

        out = ws.handle(new FetchFailed(first, List.of("x"), "connection refused"), now++);
        assertEquals(List.of(new Fetch(second, List.of("x"))), out);

        out = fetched(ws, second, Map.of(), "x");
        assertEquals(List.of(missingData("x", first), missingData("x", second)), out);
        assertEquals("waiting", ws.stateOf("x"));
        assertEquals("waiting", ws.stateOf("y"));
        assertEquals(0, ws.fetchesInFlight());

        // the scheduler recomputed x elsewhere and sends the task again with fresh who-has
        assertEquals(List.of(new Fetch(P3, List.of("x"))), compute(ws, task("y", 0, dep("x", 4, P3))));
        assertEquals(List.of(addKeys(Map.of("x", 4L)), exec("y", "x")), fetched(ws, P3, Map.of("x", 4L)));
    }

    @Test
    void freshWhoHasFromAnotherTaskAlsoResumesAMissingInput() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        compute(ws, task("y", 0, dep("x", 4, P1)));
        assertEquals(List.of(missingData("x", P1)), fetched(ws, P1, Map.of(), "x"));
        List<WorkerInstruction> out = compute(ws, task("z", 1, dep("x", 4, P2)));
        assertEquals(List.of(new Fetch(P2, List.of("x"))), out);
        out = fetched(ws, P2, Map.of("x", 4L));
        assertEquals(List.of(addKeys(Map.of("x", 4L)), exec("y", "x")), out);
    }

    @Test
    void inputWithNoHolderAtAllIsReportedMissing() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        assertEquals(List.of(missingData("x", "")), compute(ws, task("y", 0, dep("x", 4))));
        assertEquals("waiting", ws.stateOf("x"));
    }

    @Test
    void keysLeftUnansweredCountAsMissing() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        compute(ws, task("y", 0, dep("a", 1, P1), dep("b", 1, P1)));
        List<WorkerInstruction> out = fetched(ws, P1, Map.of("a", 1L));
        assertEquals(List.of(missingData("b", P1), addKeys(Map.of("a", 1L))), out);
        assertEquals(0, ws.fetchesInFlight());
    }

    @Test
    void freeingTheOnlyTaskDropsItsTransferOnArrival() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        compute(ws, task("y", 0, dep("x", 4, P1)));
        assertEquals(List.of(), ws.handle(new Free(List.of("y")), now++));
        assertNull(ws.stateOf("y"));
        assertEquals("flight", ws.stateOf("x"));
        assertEquals(List.of(new DropData("x")), fetched(ws, P1, Map.of("x", 4L)));
        assertNull(ws.stateOf("x"));
        assertEquals(0, ws.memoryBytes());
    }

    @Test
    void freeingTheOnlyTaskForgetsInputsNotYetRequested() {
        WorkerMachine ws = worker(WorkerConfig.defaults().withMaxConcurrentFetches(1));
        compute(ws, task("y", 0, dep("a", 1, P1), dep("b", 1, P2)));
        assertEquals("fetch", ws.stateOf("b"));
        ws.handle(new Free(List.of("y")), now++);
        assertNull(ws.stateOf("b"));
        assertEquals(List.of(new DropData("a")), fetched(ws, P1, Map.of("a", 1L)));
    }

    @Test
    void fetchedReplicasStayUntilFreed() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        compute(ws, task("y", 0, dep("x", 4, P1)));
        fetched(ws, P1, Map.of("x", 4L));
        ws.handle(new ExecuteDone("y", 2, "T", 0, 0, null), now++);
        assertEquals("memory", ws.stateOf("x"));
        assertEquals(List.of(new DropData("x")), ws.handle(new Free(List.of("x")), now++));
    }

    @Test
    void sharedInputIsFetchedOnceForSeveralTasks() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        assertEquals(List.of(new Fetch(P1, List.of("x"))), compute(ws, task("y", 0, dep("x", 4, P1))));
        assertEquals(List.of(), compute(ws, task("z", 1, dep("x", 4, P1))));
        List<WorkerInstruction> out = fetched(ws, P1, Map.of("x", 4L));
        assertEquals(List.of(addKeys(Map.of("x", 4L)), exec("y", "x")), out);
        assertEquals(1, ws.readyCount());
    }

    @Test
    void computeForAKeyInFlightIsAnsweredByTheTransferOrRunsHereIfItFails() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        compute(ws, task("y", 0, dep("x", 4, P1)));
        assertEquals(List.of(), compute(ws, task("x", 0)));
        List<WorkerInstruction> out = fetched(ws, P1, Map.of("x", 4L));
        assertEquals(List.of(new SendToScheduler(new TaskFinished("x", 4, null, 0, 0, null)), exec("y", "x")), out);

        WorkerMachine ws2 = worker(WorkerConfig.defaults());
        compute(ws2, task("y", 0, dep("x", 4, P1)));
        compute(ws2, task("x", 0));
        out = ws2.handle(new FetchFailed(P1, List.of("x"), "gone"), now++);
        assertEquals(List.of(exec("x")), out);
        out = ws2.handle(new ExecuteDone("x", 4, "T", 1, 2, null), now++);
        assertEquals(List.of(new SendToScheduler(new TaskFinished("x", 4, "T", 1, 2, null)), exec("y", "x")), out);
    }

    @Test
    void unrequestedDataArrivingIsDropped() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        assertEquals(List.of(new DropData("stray")), fetched(ws, P1, Map.of("stray", 3L)));
        assertNotEquals("memory", ws.stateOf("stray"));
    }

    @Test
    void failedPeerIsNotAskedAgainForOtherKeysOfTheSameRequest() {
        WorkerMachine ws = worker(WorkerConfig.defaults());
        compute(ws, task("y", 0, dep("a", 1, P1), dep("b", 1, P1, P2)));
        // only P1 holds a, so it is asked for both
        List<WorkerInstruction> out = ws.handle(new FetchFailed(P1, List.of("a", "b"), "reset"), now++);
        assertTrue(out.contains(missingData("a", P1)), out.toString());
        assertTrue(out.contains(new Fetch(P2, List.of("b"))), out.toString());
    }
}
