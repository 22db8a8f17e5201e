package dist.scheduler;

import dist.protocol.Message.*;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients and nannies registered in the state: a nannied worker whose connection ends stays counted
 * until its nanny says how it died, or until a deadline passes on a tick; time is the event's value.
 * The reason a KilledWorker error names is then the nanny's, not "connection closed".
 */
class NannyReportTest {
    static final String A = "10.0.0.1:9000", B = "10.0.0.2:9000";
    static final long MS = 1_000_000L;

    /** Two workers, A run by nanny-a; x executes on A and has already killed one worker (1 allowed failure). */
    private static Harness clusterWithXOnA() {
        Harness h = new Harness(0);
        h.register(A, "alice", 1);
        h.client("nanny-a", new RegisterNanny("nanny-a", A));
        h.submit("c1", List.of(h.task("x")), "x");
        assertEquals(A, h.s.view().processingOn("x"));
        h.started(A, "x");
        h.register(B, "bob", 1);
        return h;
    }

    private static KeyErred erred(List<Outgoing> out) {
        return (KeyErred) out.stream().map(Outgoing::message).filter(m -> m instanceof KeyErred).findFirst()
                .orElseThrow(() -> new AssertionError("no KeyErred in " + out));
    }

    @Test
    void aNanniedWorkersRemovalWaitsForItsNannysReasonAndTakesIt() {
        Harness h = clusterWithXOnA();
        assertEquals(List.of(), h.gone(A), "nothing happens yet: the nanny may say why");
        assertTrue(h.s.view().workers().contains(A));
        assertEquals(1, h.s.extension(ClientRegistry.class).pendingRemovals());
        h.now += 100 * MS;
        h.event(new SchedulerEvent.Tick());
        assertTrue(h.s.view().workers().contains(A), "before the deadline it stays");
        KeyErred e = erred(h.client("nanny-a", new WorkerDied(A, "exit code 42")));
        assertTrue(e.summary().contains(A + " (exit code 42)"), e.summary());
        assertEquals(List.of(B), List.copyOf(h.s.view().workers()));
        assertEquals(0, h.s.extension(ClientRegistry.class).pendingRemovals());
    }

    /**
     * A nannied worker silent past the time-to-live is restarted by its nanny, not told to close: a
     * worker that closes by itself ends its nanny too, which would leave the cluster one worker short.
     */
    @Test
    void aSilentNanniedWorkerIsRestartedByItsNanny() {
        Harness h = clusterWithXOnA();
        h.now += 3_500 * MS;
        h.worker(B, new Heartbeat(0, 0, 0, 0)); // B stays alive
        List<Outgoing> out = h.event(new SchedulerEvent.Tick());
        assertTrue(out.stream().anyMatch(o -> o.to().equals("nanny-a") && o.message() instanceof RestartWorker), out.toString());
        assertTrue(out.stream().noneMatch(o -> o.to().equals(A) && o.message() instanceof CloseWorker), out.toString());
        assertEquals(List.of(B), List.copyOf(h.s.view().workers()));
    }

    @Test
    void withoutAReportTheWorkerGoesOnTheFirstTickPastTheDeadlineWithTheConnectionsReason() {
        Harness h = clusterWithXOnA();
        h.gone(A);
        h.now += 499 * MS;
        h.event(new SchedulerEvent.Tick());
        assertTrue(h.s.view().workers().contains(A));
        h.now += 2 * MS;
        KeyErred e = erred(h.event(new SchedulerEvent.Tick()));
        assertTrue(e.summary().contains(A + " (connection closed)"), e.summary());
        assertEquals(List.of(B), List.copyOf(h.s.view().workers()));
        // a late report changes nothing
        assertEquals(List.of(), h.client("nanny-a", new WorkerDied(A, "exit code 42")));
    }

    @Test
    void aWorkerWithoutANannyOrWithoutAWaitGoesAtOnce() {
        Harness h = new Harness(0);
        h.register(A, "alice", 1);
        h.gone(A);
        assertEquals(0, h.s.view().workers().size());

        SchedulerState s = new SchedulerState(new SchedulerConfig(Duration.ofSeconds(3), 500, 0, 8192, "s",
                Duration.ofSeconds(10), Duration.ZERO));
        s.handle(new SchedulerEvent.FromWorker(A, new RegisterWorker(A, "a", 1, 0, 1, java.util.Map.of()), 0), 0);
        s.handle(new SchedulerEvent.FromClient("nanny-a", new RegisterNanny("nanny-a", A), 0), 0);
        s.handle(new SchedulerEvent.WorkerGone(A, "connection closed"), 0);
        assertEquals(0, s.view().workers().size());
    }

    @Test
    void aNannyThatLeavesNoLongerHoldsItsWorkersRemoval() {
        Harness h = clusterWithXOnA();
        h.event(new SchedulerEvent.ClientGone("nanny-a"));
        h.gone(A);
        assertEquals(List.of(B), List.copyOf(h.s.view().workers()));
    }

    @Test
    void aWorkerThatRegistersAgainWhileAwaitedIsNoLongerAwaited() {
        Harness h = clusterWithXOnA();
        h.gone(A);
        h.register(A, "alice-2", 1);
        assertEquals(0, h.s.extension(ClientRegistry.class).pendingRemovals());
        h.now += 600 * MS;
        h.event(new SchedulerEvent.Tick());
        assertTrue(h.s.view().workers().contains(A), "the new worker at A stays");
    }

    @Test
    void theStateAnswersAClientsRegistration() {
        Harness h = new Harness();
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c1", new RegisterClient("c1"), 4));
        assertEquals(List.of(new Outgoing("c1", new Ack(), 4)), out);
        assertEquals(java.util.Set.of("c1"), h.s.extension(ClientRegistry.class).clients());
        h.event(new SchedulerEvent.ClientGone("c1"));
        assertEquals(java.util.Set.of(), h.s.extension(ClientRegistry.class).clients());
    }

    /**
     * After a restart the old worker process, still alive until its nanny ends it, may not register
     * again at its address (it would count among the new ones); a new process there may.
     */
    @Test
    void aRestartedWorkersOldProcessMayNotRegisterAgain() {
        Harness h = clusterWithXOnA();
        h.client("c1", new RestartCluster("c1"));
        assertTrue(!h.s.view().workers().contains(A), "the old worker is removed at once");
        List<Outgoing> out = h.event(new SchedulerEvent.FromWorker(A, new RegisterWorker(A, "alice", 1, 1L << 30, 100,
                java.util.Map.of()), 1));
        assertTrue(out.stream().anyMatch(o -> o.message() instanceof ErrorReply e && e.message().contains("replaced")),
                out.toString());
        assertTrue(!h.s.view().workers().contains(A));
        h.event(new SchedulerEvent.FromWorker(A, new RegisterWorker(A, "alice", 1, 1L << 30, 101, java.util.Map.of()), 2));
        assertTrue(h.s.view().workers().contains(A), "a new process at the same address joins");
    }
}
