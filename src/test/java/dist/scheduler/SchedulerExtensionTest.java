package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.ErrorReply;
import dist.protocol.Message.Ping;
import dist.protocol.Message.Heartbeat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The extension point: routing by message type, notices of workers, clients, ticks and transitions, time as a value. */
class SchedulerExtensionTest {

    /** Records what it is told; answers a client's Ping with the event time. */
    static final class Recorder implements SchedulerExtension {
        SchedulerContext core;
        final List<String> seen = new ArrayList<>();

        @Override
        public void start(SchedulerContext core) {
            this.core = core;
        }

        @Override
        public Set<Class<? extends Message>> clientMessages() {
            return Set.of(Ping.class);
        }

        @Override
        public Set<Class<? extends Message>> workerMessages() {
            return Set.of(Heartbeat.class);
        }

        @Override
        public void onClient(String clientId, Message message, long requestId) {
            seen.add("client " + clientId + " at " + core.now());
            core.reply(clientId, message, requestId);
        }

        @Override
        public void onWorker(WorkerState worker, Message message, long requestId) {
            seen.add("worker " + worker.address);
        }

        @Override
        public boolean observesTransitions() {
            return true;
        }

        @Override
        public void transition(TaskState task, byte from, byte to) {
            seen.add(task.key + " " + TaskState.name(from) + "->" + TaskState.name(to));
        }

        @Override
        public void tick() {
            seen.add("tick at " + core.now());
        }

        @Override
        public void workerAdded(WorkerState worker) {
            seen.add("added " + worker.address);
        }

        @Override
        public void workerRemoved(WorkerState worker) {
            seen.add("removed " + worker.address);
        }

        @Override
        public void clientGone(String clientId) {
            seen.add("gone " + clientId);
        }
    }

    @Test
    void routesItsMessagesAndHearsOfWorkersClientsTicksAndTransitions() {
        Harness h = new Harness();
        Recorder r = new Recorder();
        h.s.register(r);
        h.register("w1", "w1", 1);
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c1", new Ping(1), 5));
        assertEquals(List.of(new Outgoing("c1", new Ping(1), 5)), out);
        h.worker("w1", new Heartbeat(123, 0, 0, 0));
        h.submit("c1", List.of(h.task("a")), "a");
        h.finish("w1", "a", 8);
        h.now += 7;
        h.event(new SchedulerEvent.Tick());
        h.gone("w1");
        h.event(new SchedulerEvent.ClientGone("c1"));
        assertEquals(List.of("added w1", "client c1 at " + (h.now - 7), "worker w1",
                "a released->waiting", "a waiting->processing", "a processing->memory",
                "tick at " + h.now, "removed w1"), r.seen.subList(0, 8));
        assertTrue(r.seen.contains("gone c1"), r.seen.toString());
    }

    @Test
    void twoExtensionsMayNotClaimOneMessageType() {
        Harness h = new Harness();
        h.s.register(new Recorder());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> h.s.register(new Recorder()));
        assertTrue(e.getMessage().contains("Ping"), e.getMessage());
    }

    @Test
    void aRefusalFromAnExtensionReachesTheSenderAndTheSchedulerCarriesOn() {
        Harness h = new Harness();
        h.s.register(new SchedulerExtension() {
            @Override
            public void start(SchedulerContext core) {
            }

            @Override
            public Set<Class<? extends Message>> clientMessages() {
                return Set.of(Ping.class);
            }

            @Override
            public void onClient(String clientId, Message message, long requestId) {
                throw new IllegalArgumentException("no pings today");
            }
        });
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c1", new Ping(1), 9));
        assertEquals(1, out.size());
        assertInstanceOf(ErrorReply.class, out.get(0).message());
        assertEquals(9, out.get(0).replyTo());
        h.register("w1", "w1", 1);
        assertEquals(1, h.s.view().workers().size());
    }

    @Test
    void perTaskNoticesReachTheExtensionsThatListen() {
        Harness h = new Harness();
        List<String> seen = new ArrayList<>();
        h.s.register(new SchedulerExtension() {
            @Override
            public void start(SchedulerContext core) {
            }

            @Override
            public void leavingWorker(TaskState task) {
                seen.add("leaving " + task.key + " " + task.processingOn.address);
            }

            @Override
            public void computed(WorkerState worker, String key, long runNanos, long nbytes, boolean erred) {
                seen.add("computed " + key + " on " + worker.address + " in " + runNanos + " ns, " + nbytes + " bytes"
                        + (erred ? ", erred" : ""));
            }

            @Override
            public void graphUpdated(String clientId, List<dist.protocol.TaskSpec> tasks) {
                seen.add("update from " + clientId + " of " + tasks.size());
            }

            @Override
            public void clusterRestarted(String clientId, String reason) {
                seen.add("restart by " + clientId);
            }
        });
        h.register("w1", "w1", 1);
        h.submit("c1", List.of(h.task("a"), h.task("b")), "a", "b");
        h.worker("w1", new dist.protocol.Message.TaskFinished("a", 8, "int", 10, 30, null));
        h.worker("w1", new dist.protocol.Message.TaskErred("b", new byte[]{1}, "boom", 0, 5));
        h.event(new SchedulerEvent.FromClient("c1", new dist.protocol.Message.RestartCluster("c1"), 0));
        assertEquals(List.of("update from c1 of 2", "computed a on w1 in 20 ns, 8 bytes", "leaving a w1",
                "computed b on w1 in 5 ns, 0 bytes, erred", "leaving b w1", "restart by c1"), seen);
    }
}
