package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.AcquireData;
import dist.protocol.Message.AcquireReply;
import dist.protocol.Message.Ack;
import dist.protocol.Message.AddKeys;
import dist.protocol.Message.ErrorReply;
import dist.protocol.Message.FreeKeys;
import dist.protocol.Message.RebalanceRequest;
import dist.protocol.Message.ReplicateRequest;
import dist.protocol.Message.ScatterPlan;
import dist.protocol.Message.ScatterRequest;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dist.scheduler.DataPlacementTest.of;
import static dist.scheduler.DataPlacementTest.to;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Scatter, replicate and rebalance as the scheduler decides them, at the state-machine level: what
 * it tells workers, when it answers the client, and what it lists. Time is a value.
 */
class DataPlacementExtensionTest {
    static final String A = "10.0.0.1:9000", B = "10.0.0.2:9000", C = "10.0.0.3:9000", D = "10.0.0.4:9000";
    static final long SECOND = 1_000_000_000L;

    final Harness h = new Harness();
    long nextRequest = 100;

    /** Sends a request; returns its id and what came out. */
    record Sent(long id, List<Outgoing> out) {
        Message reply() {
            for (Outgoing o : out) {
                if (o.replyTo() == id) {
                    return o.message();
                }
            }
            return null;
        }
    }

    Sent ask(String client, Message m) {
        long id = nextRequest++;
        return new Sent(id, h.event(new SchedulerEvent.FromClient(client, m, id)));
    }

    static Message replyIn(List<Outgoing> out, long id) {
        return new Sent(id, out).reply();
    }

    /** Scattered data (no recipe) that client {@code c} holds, at {@code holders}. */
    void scattered(String c, String key, long nbytes, String... holders) {
        h.submit(c, List.of(new TaskSpec(key, null, List.of(), 0, null)), key);
        for (String w : holders) {
            h.worker(w, new AddKeys(Map.of(key, nbytes)));
        }
    }

    Set<String> whoHas(String key) {
        return new HashSet<>(h.s.view().whoHas(List.of(key)).getOrDefault(key, List.of()));
    }

    /** {@code w} copies what it was asked, as a worker does: AddKeys, then its answer, in one batch. */
    List<Outgoing> copies(String w, AcquireData a, long nbytes) {
        Map<String, Long> got = new LinkedHashMap<>();
        a.sources().keySet().forEach(k -> got.put(k, nbytes));
        return h.worker(w, new Message.Batch(List.of(new AddKeys(got), new AcquireReply(got, List.of()))));
    }

    // ---------------------------------------------------------------- scatter

    @Test
    void scatterPlansRoundRobinGroupedByCoresAmongTheMatchingWorkers() { // test_client.py::test_scatter_direct_balanced
        h.register(A, "alice", 2);
        h.register(B, "bob", 1);
        ScatterPlan p = (ScatterPlan) ask("c", new ScatterRequest(List.of("k0", "k1", "k2", "k3", "k4"), List.of(),
                List.of(), 1000)).reply();
        assertEquals(Map.of(A, List.of("k0", "k1", "k3", "k4"), B, List.of("k2")), p.keysByWorker());
        p = (ScatterPlan) ask("c", new ScatterRequest(List.of("k0", "k1"), List.of("bob"), List.of(), 1000)).reply();
        assertEquals(Map.of(B, List.of("k0", "k1")), p.keysByWorker());
        p = (ScatterPlan) ask("c", new ScatterRequest(List.of("k0"), List.of(), List.of(A), 1000)).reply();
        assertEquals(Map.of(B, List.of("k0")), p.keysByWorker(), "a worker that failed to store is avoided");
        ErrorReply e = (ErrorReply) ask("c", new ScatterRequest(List.of("k0"), List.of("nobody"), List.of(), 1000))
                .reply();
        assertTrue(e.message().contains("nobody") && e.message().contains("alice"), e.message());
    }

    @Test
    void aClientsScattersCarryOnItsRoundRobin() { // test_client.py::test_scatter_direct_spread_evenly
        h.register(A, "alice", 1);
        h.register(B, "bob", 1);
        ScatterPlan p = (ScatterPlan) ask("c", new ScatterRequest(List.of("k0"), List.of(), List.of(), 1000)).reply();
        assertEquals(Map.of(A, List.of("k0")), p.keysByWorker());
        p = (ScatterPlan) ask("c", new ScatterRequest(List.of("k1"), List.of(), List.of(), 1000)).reply();
        assertEquals(Map.of(B, List.of("k1")), p.keysByWorker(), "the next single value goes to the next worker");
        p = (ScatterPlan) ask("d", new ScatterRequest(List.of("k2"), List.of(), List.of(), 1000)).reply();
        assertEquals(Map.of(A, List.of("k2")), p.keysByWorker(), "another client starts at the first worker");
    }

    @Test
    void scatterWithNoWorkerWaitsForOneUntilItsDeadline() { // test_scheduler.py::test_scatter_no_workers
        Sent s = ask("c", new ScatterRequest(List.of("x"), List.of(), List.of(), 100));
        assertNull(s.reply(), "it waits for a worker");
        h.now += 100_000_000L;
        assertEquals(new ScatterPlan(Map.of()), replyIn(h.event(new SchedulerEvent.Tick()), s.id()),
                "nothing placed: the client raises a timeout");
        Sent t = ask("c", new ScatterRequest(List.of("y"), List.of(), List.of(), 15_000));
        assertNull(t.reply());
        assertEquals(new ScatterPlan(Map.of(A, List.of("y"))), replyIn(h.register(A, "a", 1), t.id()),
                "a worker joining takes it");
    }

    // ---------------------------------------------------------------- replicate

    @Test
    void replicateIsATreeCopyAnsweredOnceTheSchedulerListsEveryCopy() { // test_client.py::test_replicate_tree_branching
        for (String w : List.of(A, B, C, D)) {
            h.register(w, w, 1);
        }
        scattered("c", "x", 100, A);
        Sent s = ask("c", new ReplicateRequest(List.of("x"), 0, List.of(), 2, 10_000));
        assertNull(s.reply());
        List<String> firstTargets = new ArrayList<>();
        for (String w : List.of(B, C, D)) {
            for (AcquireData a : of(to(s.out(), w), AcquireData.class)) {
                assertEquals(List.of(A), a.sources().get("x"), "the one holder gives");
                firstTargets.add(w);
            }
        }
        assertEquals(2, firstTargets.size(), "one holder gives to two workers in a generation");
        List<Outgoing> out = copies(firstTargets.get(0), new AcquireData(Map.of("x", List.of(A))), 100);
        assertNull(replyIn(out, s.id()), "one copy is still on its way");
        out = copies(firstTargets.get(1), new AcquireData(Map.of("x", List.of(A))), 100);
        assertNull(replyIn(out, s.id()));
        String last = List.of(B, C, D).stream().filter(w -> !firstTargets.contains(w)).findFirst().orElseThrow();
        AcquireData second = of(to(out, last), AcquireData.class).get(0);
        assertEquals(3, second.sources().get("x").size(), "any of the three holders may give");
        out = copies(last, second, 100);
        assertEquals(new Ack(), replyIn(out, s.id()));
        assertEquals(Set.of(A, B, C, D), whoHas("x"));
    }

    @Test
    void replicateDropsCopiesBeyondNButNeverTheLast() { // test_client.py::test_replicate_workers
        for (String w : List.of(A, B, C)) {
            h.register(w, w, 1);
        }
        scattered("c", "x", 100, A, B, C);
        Sent s = ask("c", new ReplicateRequest(List.of("x"), 1, List.of(), 2, 10_000));
        assertEquals(new Ack(), s.reply());
        assertEquals(1, whoHas("x").size());
        int freed = 0;
        for (String w : List.of(A, B, C)) {
            freed += of(to(s.out(), w), FreeKeys.class).size();
        }
        assertEquals(2, freed, "the two dropped holders are told to let it go");
        Sent t = ask("c", new ReplicateRequest(List.of("x"), 1, List.of("10.0.0.9"), 2, 10_000));
        assertInstanceOf(ErrorReply.class, t.reply(), "restrictions naming no worker are refused");
    }

    @Test
    void replicateOfAnUnfinishedTaskWaitsUntilItIsInMemory() { // test_client.py::test_client_replicate
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        h.submit("c", List.of(h.task("t")), "t");
        Sent s = ask("c", new ReplicateRequest(List.of("t"), 2, List.of(), 2, 10_000));
        assertNull(s.reply());
        assertTrue(of(to(s.out(), A), AcquireData.class).isEmpty() && of(to(s.out(), B), AcquireData.class).isEmpty());
        String runner = h.s.view().processingOn("t");
        h.finish(runner, "t", 8);
        String other = runner.equals(A) ? B : A;
        List<Outgoing> out = h.event(new SchedulerEvent.Tick());
        AcquireData a = of(to(out, other), AcquireData.class).get(0);
        assertEquals(List.of(runner), a.sources().get("t"));
        assertEquals(new Ack(), replyIn(copies(other, a, 8), s.id()));
        assertEquals(Set.of(A, B), whoHas("t"));
    }

    @Test
    void replicateOfATaskThatErrsFailsNamingIt() {
        h.register(A, "a", 1);
        h.submit("c", List.of(h.task("bad")), "bad");
        Sent s = ask("c", new ReplicateRequest(List.of("bad"), 2, List.of(), 2, 10_000));
        h.worker(A, new Message.TaskErred("bad", new byte[] {1}, "boom", 1, 2));
        ErrorReply e = (ErrorReply) replyIn(h.event(new SchedulerEvent.Tick()), s.id());
        assertTrue(e.message().contains("bad") && e.message().contains("erred"), e.message());
    }

    @Test
    void aWorkerDyingMidReplicateIsLeftOutAndTheOthersStillGetTheirCopies() {
        for (String w : List.of(A, B, C)) {
            h.register(w, w, 1);
        }
        scattered("c", "x", 100, A);
        Sent s = ask("c", new ReplicateRequest(List.of("x"), 0, List.of(), 2, 10_000));
        AcquireData toB = of(to(s.out(), B), AcquireData.class).get(0);
        assertEquals(1, of(to(s.out(), C), AcquireData.class).size());
        h.gone(C);
        assertEquals(new Ack(), replyIn(copies(B, toB, 100), s.id()), "the next step plans without C: done");
        assertEquals(Set.of(A, B), whoHas("x"));
    }

    @Test
    void aCopyThatNeverAnswersFailsTheRequestAtItsDeadline() {
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        scattered("c", "x", 100, A);
        Sent s = ask("c", new ReplicateRequest(List.of("x"), 2, List.of(), 2, 2_000));
        assertEquals(1, of(to(s.out(), B), AcquireData.class).size());
        h.now += SECOND; // within the workers' time to live: they stay
        assertNull(replyIn(h.event(new SchedulerEvent.Tick()), s.id()));
        h.now += SECOND;
        ErrorReply e = (ErrorReply) replyIn(h.event(new SchedulerEvent.Tick()), s.id());
        assertTrue(e.message().contains("deadline") && e.message().contains(B), e.message());
        // a late answer changes nothing but the listing
        assertTrue(copies(B, new AcquireData(Map.of("x", List.of(A))), 100).stream().noneMatch(o -> o.replyTo() != 0));
        assertEquals(Set.of(A, B), whoHas("x"));
    }

    // ---------------------------------------------------------------- rebalance

    @Test
    void rebalanceDropsAMovedCopyOnlyOnceItsNewHolderIsListed() { // test_scheduler.py::test_rebalance
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        for (String k : List.of("k1", "k2", "k3", "k4")) {
            scattered("c", k, 100, A);
        }
        Sent s = ask("c", new RebalanceRequest(List.of(), List.of(), 10_000));
        AcquireData a = of(to(s.out(), B), AcquireData.class).get(0);
        assertEquals(2, a.sources().size(), "half the memory moves");
        a.sources().values().forEach(src -> assertEquals(List.of(A), src));
        assertTrue(of(to(s.out(), A), FreeKeys.class).isEmpty(), "nothing is dropped before the copy is listed");
        for (String k : a.sources().keySet()) {
            assertEquals(Set.of(A), whoHas(k));
        }
        List<Outgoing> out = copies(B, a, 100);
        assertEquals(new Ack(), replyIn(out, s.id()));
        assertEquals(List.of(new FreeKeys(List.copyOf(a.sources().keySet()))), of(to(out, A), FreeKeys.class));
        for (String k : List.of("k1", "k2", "k3", "k4")) {
            assertEquals(1, whoHas(k).size(), k);
        }
        assertEquals(2, h.s.extension(QueryExtension.class).hasWhat(List.of(B)).get(B).size());
    }

    @Test
    void aRecipientDyingKeepsTheKeyOnItsSenderAndAnExplicitKeyIsReported() { // test_scheduler.py::test_rebalance_dead_recipient
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        scattered("c", "k1", 100, A);
        scattered("c", "k2", 100, A);
        Sent s = ask("c", new RebalanceRequest(List.of("k1", "k2"), List.of(), 10_000));
        assertEquals(1, of(to(s.out(), B), AcquireData.class).size());
        h.gone(B);
        ErrorReply e = (ErrorReply) replyIn(h.event(new SchedulerEvent.Tick()), s.id());
        assertTrue(e.message().contains("could not move"), e.message());
        assertEquals(Set.of(A), whoHas("k1"));
        assertEquals(Set.of(A), whoHas("k2"));
    }

    @Test
    void aTargetWhoseCopyWasOnItsWayOutIsAskedAgain() {
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        scattered("c", "k1", 100, A);
        scattered("c", "k2", 100, A);
        Sent s = ask("c", new RebalanceRequest(List.of("k1", "k2"), List.of(), 10_000));
        AcquireData a = of(to(s.out(), B), AcquireData.class).get(0);
        String k = a.sources().keySet().iterator().next();
        // B still had k (a FreeKeys ahead of this request): it says so, without AddKeys
        List<Outgoing> out = h.worker(B, new AcquireReply(Map.of(k, 100L), List.of()));
        assertNull(replyIn(out, s.id()));
        assertTrue(of(to(out, A), FreeKeys.class).isEmpty(), "A keeps the only listed copy");
        assertEquals(a, of(to(out, B), AcquireData.class).get(0), "asked again");
        out = copies(B, a, 100);
        assertEquals(new Ack(), replyIn(out, s.id()));
        assertEquals(Set.of(B), whoHas(k));
    }

    @Test
    void aReplicaTargetWhoseCopyWasOnItsWayOutIsNoFailure() {
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        scattered("c", "x", 100, A);
        Sent s = ask("c", new ReplicateRequest(List.of("x"), 2, List.of(), 2, 10_000));
        AcquireData a = of(to(s.out(), B), AcquireData.class).get(0);
        List<Outgoing> out = h.worker(B, new AcquireReply(Map.of("x", 100L), List.of()));
        assertNull(replyIn(out, s.id()));
        assertEquals(a, of(to(out, B), AcquireData.class).get(0), "the next generation asks again");
        assertEquals(new Ack(), replyIn(copies(B, a, 100), s.id()));
        // a target that found no copy anywhere is a failure
        scattered("c", "y", 100, A);
        Sent t = ask("c", new ReplicateRequest(List.of("y"), 2, List.of(), 2, 10_000));
        out = h.worker(B, new AcquireReply(Map.of(), List.of("y")));
        ErrorReply e = (ErrorReply) replyIn(out, t.id());
        assertTrue(e.message().contains("no progress"), e.message());
    }

    // ---------------------------------------------------------------- two clients

    @Test
    void replicaChangesOfTwoClientsRunOneAfterTheOther() {
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        h.register(C, "c", 1);
        scattered("c1", "x", 100, A);
        h.client("c2", new Message.UpdateGraph("c2", List.of(), List.of("x")));
        Sent first = ask("c1", new ReplicateRequest(List.of("x"), 3, List.of(), 2, 10_000));
        Sent second = ask("c2", new ReplicateRequest(List.of("x"), 1, List.of(), 2, 10_000));
        assertTrue(of(to(second.out(), A), FreeKeys.class).isEmpty(), "the second waits for the first");
        List<Outgoing> out = List.of();
        for (String w : List.of(B, C)) {
            out = copies(w, of(to(first.out(), w), AcquireData.class).get(0), 100);
        }
        assertEquals(new Ack(), replyIn(out, first.id()));
        assertEquals(new Ack(), replyIn(out, second.id()), "then the second runs, against the copies the first made");
        assertEquals(1, whoHas("x").size());
    }

    @Test
    void unknownKeysAndABadBranchingFactorAreRefused() {
        h.register(A, "a", 1);
        ErrorReply e = (ErrorReply) ask("c", new ReplicateRequest(List.of("nope"), 1, List.of(), 2, 1000)).reply();
        assertTrue(e.message().contains("nope"), e.message());
        scattered("c", "x", 1, A);
        e = (ErrorReply) ask("c", new ReplicateRequest(List.of("x"), 1, List.of(), 0, 1000)).reply();
        assertTrue(e.message().contains("branching"), e.message());
        e = (ErrorReply) ask("c", new RebalanceRequest(List.of("nope"), List.of(), 1000)).reply();
        assertTrue(e.message().contains("nope"), e.message());
    }
}
