package dist.worker;

import dist.protocol.Message;
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
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random events against a simulated shell that keeps a data store and answers every Execute and
 * Fetch. Checks that inputs are in the store when a task starts, that DropData only removes held
 * data, and that once all work is answered nothing is left in flight or queued and the store
 * holds exactly the keys the state says are in memory.
 */
class WorkerMachineRandomTest {

    private static final String[] PEERS = {"p1:1", "p2:1", "p3:1"};
    private static final int REMOTE = 12;

    private final Set<String> store = new HashSet<>();
    private final List<Execute> running = new ArrayList<>();
    private final List<Fetch> fetches = new ArrayList<>();
    private final List<Message> sent = new ArrayList<>();
    private WorkerMachine ws;
    private Random rnd;
    private long now;

    @Test
    void randomEventsKeepTheStoreConsistentAndLeaveNothingHanging() {
        for (long seed = 0; seed < 200; seed++) {
            try {
                runOnce(seed);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
            }
        }
    }

    private void runOnce(long seed) {
        store.clear();
        running.clear();
        fetches.clear();
        sent.clear();
        rnd = new Random(seed);
        ws = new WorkerMachine("self:1", 1 + rnd.nextInt(3), WorkerConfig.defaults()
                .withMaxFetchBytes(1 + rnd.nextInt(30)).withMaxConcurrentFetches(1 + rnd.nextInt(3))
                .withMaxConcurrentFetchesPerPeer(1 + rnd.nextInt(2)).withSeed(seed));
        // which peers really hold each remote key; some are held by nobody
        Map<String, List<String>> holds = new HashMap<>();
        for (int r = 0; r < REMOTE; r++) {
            List<String> h = new ArrayList<>();
            for (String p : PEERS) if (rnd.nextInt(3) > 0) h.add(p);
            holds.put("r" + r, h);
        }
        int nextTask = 0;
        for (int step = 0; step < 300; step++) {
            int action = rnd.nextInt(10);
            if (action < 3) {
                String key = rnd.nextInt(4) == 0 && nextTask > 0 ? "t" + rnd.nextInt(nextTask) : "t" + nextTask++;
                apply(new WorkerEvent.Compute(randomTask(key, holds)));
            } else if (action < 5 && !running.isEmpty()) {
                finishOne();
            } else if (action < 7 && !fetches.isEmpty()) {
                answerOne(holds);
            } else if (action < 8) {
                List<String> keys = new ArrayList<>();
                for (int i = 0; i < 1 + rnd.nextInt(3); i++) {
                    keys.add(rnd.nextBoolean() || nextTask == 0 ? "r" + rnd.nextInt(REMOTE) : "t" + rnd.nextInt(nextTask));
                }
                apply(new WorkerEvent.Free(keys));
            } else if (action < 9) {
                String key = "r" + rnd.nextInt(REMOTE);
                store.add(key);
                apply(new WorkerEvent.DataAdded(Map.of(key, (long) rnd.nextInt(10))));
            } else if (rnd.nextInt(6) == 0) {
                // registered again: what runs stays, the rest the scheduler forgot
                Set<String> alive = new HashSet<>();
                for (Execute e : running) alive.add(e.key());
                apply(new WorkerEvent.Relinked(alive));
            } else {
                apply(new WorkerEvent.Tick());
            }
            checkAccounting();
        }
        // answer everything still outstanding
        for (int guard = 0; guard < 10_000 && (!running.isEmpty() || !fetches.isEmpty()); guard++) {
            if (!running.isEmpty()) finishOne();
            else answerOne(holds);
        }
        assertTrue(running.isEmpty() && fetches.isEmpty(), "work still outstanding");
        assertEquals(0, ws.executingCount());
        assertEquals(0, ws.readyCount());
        assertEquals(0, ws.fetchesInFlight());
        assertEquals(store, ws.keysInMemory(), "store and state disagree");
        for (int t = 0; t < nextTask; t++) assertSettled("t" + t);
        for (int r = 0; r < REMOTE; r++) assertSettled("r" + r);
        checkAccounting();
    }

    private void assertSettled(String key) {
        String s = ws.stateOf(key);
        if (s == null || s.equals("memory") || s.equals("error")) return;
        if (s.equals("waiting")) {
            // waiting is fine only while the scheduler has been told an input is missing
            boolean told = sent.stream().anyMatch(m -> m instanceof Message.MissingData md
                    && (key.startsWith("t") || md.key().equals(key)));
            assertTrue(told, key + " waits but no MissingData was sent for it");
            return;
        }
        fail(key + " left in state " + s);
    }

    private Message.ComputeTask randomTask(String key, Map<String, List<String>> holds) {
        Map<String, List<String>> whoHas = new LinkedHashMap<>();
        Map<String, Long> nbytes = new LinkedHashMap<>();
        for (int i = 0; i < rnd.nextInt(4); i++) {
            String dep = "r" + rnd.nextInt(REMOTE);
            List<String> said = new ArrayList<>(holds.get(dep));
            if (rnd.nextInt(4) == 0) said.add(PEERS[rnd.nextInt(PEERS.length)]);  // stale who-has
            whoHas.put(dep, said);
            nbytes.put(dep, (long) rnd.nextInt(20));
        }
        int self = Integer.parseInt(key.substring(1));
        if (self > 0 && rnd.nextInt(3) == 0) {
            // an earlier task's result, said to be held here or on a peer
            String dep = "t" + rnd.nextInt(self);
            whoHas.put(dep, List.of(rnd.nextBoolean() ? "self:1" : PEERS[0]));
            nbytes.put(dep, 3L);
        }
        return new Message.ComputeTask(key, new byte[]{1}, whoHas, nbytes, rnd.nextInt(5));
    }

    private void finishOne() {
        Execute e = running.remove(rnd.nextInt(running.size()));
        if (rnd.nextInt(5) == 0) {
            apply(new WorkerEvent.ExecuteFailed(e.key(), new byte[]{9}, "boom", 0, 1));
        } else {
            store.add(e.key());
            apply(new WorkerEvent.ExecuteDone(e.key(), rnd.nextInt(50), "T", 0, 1, null));
        }
    }

    private void answerOne(Map<String, List<String>> holds) {
        Fetch f = fetches.remove(rnd.nextInt(fetches.size()));
        if (rnd.nextInt(6) == 0) {
            apply(new WorkerEvent.FetchFailed(f.peer(), f.keys(), "unreachable"));
            return;
        }
        Map<String, Long> got = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String k : f.keys()) {
            if (holds.getOrDefault(k, List.of(PEERS[0])).contains(f.peer())) {
                got.put(k, (long) rnd.nextInt(20));
                store.add(k);
            } else {
                missing.add(k);
            }
        }
        apply(new WorkerEvent.FetchDone(f.peer(), got, missing));
    }

    private void apply(WorkerEvent event) {
        for (WorkerInstruction i : ws.handle(event, now++)) {
            switch (i) {
                case Execute e -> {
                    for (String d : e.dependencies()) {
                        assertTrue(store.contains(d), e.key() + " started without its input " + d);
                    }
                    assertTrue(running.stream().noneMatch(r -> r.key().equals(e.key())), e.key() + " started twice");
                    running.add(e);
                }
                case Fetch f -> {
                    assertTrue(!f.keys().isEmpty(), "empty fetch");
                    fetches.add(f);
                }
                case DropData d -> assertTrue(store.remove(d.key()), "dropped " + d.key() + " which is not held");
                case SendToScheduler s -> sent.add(s.message());
            }
        }
        assertTrue(ws.executingCount() <= ws.nthreads(), "too many executing");
        assertTrue(ws.fetchesInFlight() <= ws.config().maxConcurrentFetches(), "too many fetches");
    }

    private void checkAccounting() {
        long sum = ws.heldKeys().values().stream().mapToLong(Long::longValue).sum();
        assertEquals(sum, ws.memoryBytes(), "memoryBytes is not the sum of held sizes");
        assertEquals(running.size(), ws.executingCount());
        assertEquals(fetches.size(), ws.fetchesInFlight());
    }
}
