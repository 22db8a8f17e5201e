package dist.place;

import dist.Wait;
import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Handler;
import dist.comm.Server;
import dist.protocol.Message;
import dist.protocol.Role;
import dist.serial.Serializer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker told, in one batch, to drop its copy of a key and then to fetch a copy of it (a rebalance
 * moved the key away while another client's replicate wanted it back, as in
 * {@code ConcurrentPlacementTest}, after dask's test_client.py::test_replicate and test_rebalance):
 * it drops, then fetches, and holds the key it reports. The fetch used to start as the message
 * arrived, find the copy not dropped yet, report it, and lose it to the drop a moment later.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReplicaOrderTest {
    static final Duration T = Duration.ofSeconds(20);

    @Test
    void aDropThenAFetchOfOneKeyLeavesTheKeyHeld() throws Exception {
        Map<String, Connection> links = new ConcurrentHashMap<>();
        CompletableFuture<Message.AcquireReply> answered = new CompletableFuture<>();
        Handler scheduler = new Handler() {
            @Override
            public void onMessage(Connection c, Message m, long requestId) {
                if (m instanceof Message.RegisterWorker r) {
                    links.put(r.address(), c);
                    c.reply(requestId, new Message.WorkerAccepted("fake", 500));
                } else if (m instanceof Message.AcquireReply a) {
                    answered.complete(a);
                }
            }
        };
        try (Server s = Server.listen("127.0.0.1", 0, Role.SCHEDULER, CommConfig.DEFAULT, c -> scheduler);
             WorkerServer holder = WorkerServer.start(WorkerServer.Options.of("127.0.0.1:" + s.port(), 1));
             WorkerServer target = WorkerServer.start(WorkerServer.Options.of("127.0.0.1:" + s.port(), 1))) {
            assertTrue(Wait.until(T, () -> links.size() == 2), "both registered");
            for (WorkerServer w : List.of(holder, target)) {
                try (Connection c = Connection.connect(w.address(), Role.CLIENT, CommConfig.DEFAULT, (x, m, id) -> { })) {
                    Message put = c.request(new Message.PutData(Map.of("k", Serializer.defaults().encodeParts(42, null))))
                            .get(T.toMillis(), TimeUnit.MILLISECONDS);
                    assertTrue(!(put instanceof Message.ErrorReply), "stored: " + put);
                }
            }
            assertTrue(Wait.until(T, () -> target.dataStore().keys().contains("k")), "the target holds k");

            links.get(target.address()).send(new Message.Batch(List.of(new Message.FreeKeys(List.of("k")),
                    new Message.AcquireData(Map.of("k", List.of(holder.address()))))));

            Message.AcquireReply reply = answered.get(T.toMillis(), TimeUnit.MILLISECONDS);
            assertEquals(java.util.Set.of("k"), reply.nbytes().keySet(), "reported held: " + reply);
            assertTrue(target.dataStore().keys().contains("k"),
                    "the target reported k held; it holds " + target.dataStore().keys());
        }
    }
}
