package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.ActorPlaced;
import dist.protocol.Message.CreateActor;
import dist.protocol.Message.ReleaseActor;
import dist.protocol.Message.StartActor;
import dist.protocol.Message.StopActor;
import dist.protocol.Message.WhereActor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The scheduler's side of actors as a pure state machine: placement, who holds what, worker death, release. */
class ActorExtensionTest {
    final Harness h = new Harness();
    long nextRequest = 100;
    static final byte[] CTOR = {1, 2, 3};

    Message ask(String client, Message m, List<Outgoing> into) {
        long id = nextRequest++;
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient(client, m, id));
        into.addAll(out);
        for (Outgoing o : out) {
            if (o.replyTo() == id) {
                return o.message();
            }
        }
        return null;
    }

    Message ask(String client, Message m) {
        return ask(client, m, new java.util.ArrayList<>());
    }

    static CreateActor create(String id, List<String> workers, Map<String, Double> resources, int restarts) {
        return new CreateActor(id, "Counter", CTOR, workers, false, resources, restarts, false, null);
    }

    static StartActor startIn(List<Outgoing> out, String to) {
        for (Outgoing o : out) {
            if (o.to().equals(to) && o.message() instanceof StartActor s) {
                return s;
            }
        }
        return null;
    }

    @Test
    void anActorGoesToTheWorkerWithFewestActorsAndItsConstructorBytesAreForwardedUntouched() {
        h.register("w1", "a", 1);
        h.register("w2", "b", 1);
        List<Outgoing> out = new java.util.ArrayList<>();
        ActorPlaced p1 = (ActorPlaced) ask("c", create("A-1", List.of(), Map.of(), 0), out);
        StartActor s = startIn(out, p1.worker());
        assertNotNull(s, "the worker is told: " + out);
        assertArrayEquals(CTOR, s.constructor());
        assertEquals("A-1", s.actorId());
        ActorPlaced p2 = (ActorPlaced) ask("c", create("A-2", List.of(), Map.of(), 0));
        assertNotEquals(p1.worker(), p2.worker(), "the second goes where there is none yet");
        assertEquals(p1, ask("c", new WhereActor("A-1")));
    }

    @Test
    void placementFollowsRestrictionsAndResources() {
        h.register("w1", "a", 1);
        h.register("w2", "b", 1);
        h.worker("w2", new Message.WorkerResources(Map.of("GPU", 1.0)));
        assertEquals("w2", ((ActorPlaced) ask("c", create("G", List.of(), Map.of("GPU", 1.0), 0))).worker());
        assertEquals("w1", ((ActorPlaced) ask("c", create("R", List.of("w1"), Map.of(), 0))).worker());
        Message refused = ask("c", create("X", List.of(), Map.of("TPU", 1.0), 0));
        assertInstanceOf(Message.ErrorReply.class, refused);
        assertTrue(((Message.ErrorReply) refused).message().contains("no worker can hold"), refused.toString());
        assertInstanceOf(Message.ErrorReply.class, ask("c", new WhereActor("X")), "a refused actor is not kept");
    }

    // dask: test_actor.py::test_failed_worker
    @Test
    void anActorWithoutRestartsIsLostWithItsWorkerAndWhereNamesBoth() {
        h.register("w1", "a", 1);
        h.register("w2", "b", 1);
        ActorPlaced p = (ActorPlaced) ask("c", create("A", List.of(), Map.of(), 0));
        List<Outgoing> out = h.gone(p.worker());
        assertNull(startIn(out, "w1"));
        assertNull(startIn(out, "w2"));
        Message m = ask("c", new WhereActor("A"));
        String why = ((Message.ErrorReply) m).message();
        assertTrue(why.contains("A") && why.contains("lost with worker " + p.worker()), why);
    }

    @Test
    void anActorWithRestartsIsBuiltElsewhereUntilTheyRunOut() {
        h.register("w1", "a", 1);
        h.register("w2", "b", 1);
        ActorPlaced p = (ActorPlaced) ask("c", create("A", List.of(), Map.of(), 1));
        String other = p.worker().equals("w1") ? "w2" : "w1";
        StartActor again = startIn(h.gone(p.worker()), other);
        assertNotNull(again);
        assertEquals(1, again.generation());
        assertArrayEquals(CTOR, again.constructor());
        assertEquals(new ActorPlaced("A", other, 1), ask("c", new WhereActor("A")));
        h.register("w3", "c", 1);
        assertNull(startIn(h.gone(other), "w3"), "no restarts left");
        String why = ((Message.ErrorReply) ask("c", new WhereActor("A"))).message();
        assertTrue(why.contains("lost with worker " + other) && why.contains("after 1 restart"), why);
    }

    @Test
    void aRestartWithNoOtherWorkerLosesTheActorSayingSo() {
        h.register("w1", "a", 1);
        ask("c", create("A", List.of(), Map.of(), 3));
        h.gone("w1");
        String why = ((Message.ErrorReply) ask("c", new WhereActor("A"))).message();
        assertTrue(why.contains("no other worker can hold it"), why);
    }

    // dask: test_actor.py::test_gc
    @Test
    void releaseAndTheOwnersDepartureStopTheActorOnItsWorker() {
        h.register("w1", "a", 1);
        ask("c", create("A", List.of(), Map.of(), 0));
        ask("d", create("B", List.of(), Map.of(), 0));
        List<Outgoing> out = new java.util.ArrayList<>();
        ask("c", new ReleaseActor("A"), out);
        assertTrue(out.contains(new Outgoing("w1", new StopActor("A"), 0)), out.toString());
        assertInstanceOf(Message.ErrorReply.class, ask("c", new WhereActor("A")));
        List<Outgoing> gone = h.event(new SchedulerEvent.ClientGone("d"));
        assertTrue(gone.contains(new Outgoing("w1", new StopActor("B"), 0)), gone.toString());
        assertInstanceOf(Message.ErrorReply.class, ask("c", new WhereActor("B")));
    }

    static CreateActor told(String id, String at, int restarts) {
        return new CreateActor(id, "Counter", CTOR, List.of(), false, Map.of(), restarts, false, at);
    }

    @Test
    void aSchedulerThatCameBackLearnsWhereActorsLiveAndBuildsNothing() {
        Harness back = new Harness(new SchedulerConfig(java.time.Duration.ofSeconds(60), 500, 3, 8192, "t",
                java.time.Duration.ofSeconds(2)));
        back.register("w1", "a", 1);
        back.register("w2", "b", 1);
        List<Outgoing> out = back.event(new SchedulerEvent.FromClient("c", told("A", "w1", 0), 7));
        assertTrue(out.contains(new Outgoing("c", new ActorPlaced("A", "w1", 0), 7)), out.toString());
        assertTrue(out.stream().noneMatch(o -> o.message() instanceof StartActor), "it lives on w1 still: " + out);
        // told twice (a second reconnect): the same answer, nothing new
        out = back.event(new SchedulerEvent.FromClient("c", told("A", "w1", 0), 8));
        assertTrue(out.contains(new Outgoing("c", new ActorPlaced("A", "w1", 0), 8)), out.toString());
        // on workers not back yet: kept while one returns within the grace, lost or rebuilt past it
        back.event(new SchedulerEvent.FromClient("c", told("B", "w3", 0), 9));
        back.event(new SchedulerEvent.FromClient("c", told("C", "w4", 0), 10));
        back.event(new SchedulerEvent.FromClient("c", told("D", "w4", 1), 11));
        back.register("w3", "c", 1);
        back.now += 3_000_000_000L;
        List<Outgoing> ticked = back.event(new SchedulerEvent.Tick());
        assertEquals(3, back.s.extension(ActorExtension.class).actors().size(), "A, B and D (rebuilt) remain");
        assertEquals("w3", back.s.extension(ActorExtension.class).actors().get("B").worker);
        assertTrue(ticked.stream().anyMatch(o -> o.message() instanceof StartActor sa && sa.actorId().equals("D")),
                ticked.toString());
        assertFalse(back.s.extension(ActorExtension.class).actors().containsKey("C"));
    }

    @Test
    void refusedInputChangesNothing() {
        h.register("w1", "a", 1);
        assertInstanceOf(Message.ErrorReply.class, ask("c", create("A", List.of(), Map.of(), -1)));
        assertInstanceOf(Message.ErrorReply.class, ask("c", new CreateActor("B", "B", null, List.of(), false, Map.of(), 0, false, null)));
        ask("c", create("C", List.of(), Map.of(), 0));
        assertInstanceOf(Message.ErrorReply.class, ask("c", create("C", List.of(), Map.of(), 0)), "an id is used once");
        assertEquals(1, h.s.extension(ActorExtension.class).actors().size());
    }
}
