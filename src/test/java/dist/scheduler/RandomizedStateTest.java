package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.*;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random mixes of submissions, results, errors, releases, cancels and worker deaths, checked
 * against the state's invariants after every event; at the end the workers run everything that is
 * left, and every key a client still wants must be in memory or erred: no future hangs.
 */
class RandomizedStateTest {

    @Test
    void randomEventsKeepInvariantsAndNoWantedKeyHangs() {
        for (int seed = 1; seed <= 300; seed++) {
            try {
                runOnce(seed, false);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
            }
        }
    }

    /** The same, with nannies: a lost worker stays counted until its nanny reports or the deadline passes. */
    @Test
    void withNanniesTheHeldRemovalsKeepInvariantsAndNoWantedKeyHangs() {
        for (int seed = 1; seed <= 150; seed++) {
            try {
                runOnce(seed, true);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + " (nannies): " + e.getMessage(), e);
            }
        }
    }

    /** Workers whose connection ended while a nanny runs them: the state may still send them work. */
    private final Set<String> dying = new java.util.HashSet<>();

    private final Map<String, LinkedHashSet<String>> queued = new LinkedHashMap<>(); // worker -> keys sent
    private final Map<String, Set<String>> wants = new HashMap<>();                   // client -> keys
    private Harness h;

    private void deliver(List<Outgoing> out) {
        for (Outgoing o : out) {
            Message m = o.message();
            if (dying.contains(o.to())) {
                continue; // gone: what is sent to it is lost, as over a closed connection
            }
            if (m instanceof ComputeTask c) {
                assertTrue(queued.containsKey(o.to()), "work sent to unknown worker " + o.to());
                queued.get(o.to()).add(c.key());
            } else if (m instanceof FreeKeys f && queued.containsKey(o.to())) {
                queued.get(o.to()).removeAll(f.keys());
            } else if (m instanceof KeyCancelled k) {
                wants.getOrDefault(o.to(), new LinkedHashSet<>()).remove(k.key());
            } else if (m instanceof ErrorReply e) {
                fail("unexpected error reply: " + e.message());
            }
        }
    }

    private void runOnce(int seed, boolean nannies) {
        Random r = new Random(seed);
        h = new Harness(2);
        queued.clear();
        wants.clear();
        dying.clear();
        int nextWorker = 0;
        int nextKey = 0;
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String w = "10.0.1." + nextWorker++ + ":9000";
            queued.put(w, new LinkedHashSet<>());
            deliver(h.register(w, "w" + i, 1 + r.nextInt(2)));
        }
        for (int step = 0; step < 250; step++) {
            h.now += 100_000_000L;
            int action = r.nextInt(100);
            String client = "c" + r.nextInt(2);
            List<String> workers = new ArrayList<>(queued.keySet());
            if (action < 30) {
                List<TaskSpec> specs = new ArrayList<>();
                List<String> wanted = new ArrayList<>();
                int n = 1 + r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    String key = (r.nextBoolean() ? "f-" : "g-") + nextKey++;
                    List<String> deps = new ArrayList<>();
                    for (int d = r.nextInt(3); d > 0 && !keys.isEmpty(); d--) {
                        String dep = keys.get(r.nextInt(keys.size()));
                        if (h.s.view().stateOf(dep) == null && r.nextInt(10) > 0) {
                            dep = keys.get(keys.size() - 1 - r.nextInt(Math.min(keys.size(), 6)));
                        }
                        if (!deps.contains(dep)) {
                            deps.add(dep);
                        }
                    }
                    TaskOptions o = r.nextInt(5) == 0 ? new TaskOptions(List.of(), false, Map.of(), 1) : null;
                    specs.add(new TaskSpec(key, h.run(key), deps, nextKey, o));
                    keys.add(key);
                    if (r.nextInt(3) > 0 || i == n - 1) {
                        wanted.add(key);
                    }
                }
                if (r.nextInt(6) == 0 && keys.size() > 5) {
                    wanted.add(keys.get(r.nextInt(keys.size() - n))); // also want an older key again
                }
                wants.computeIfAbsent(client, c -> new LinkedHashSet<>()).addAll(wanted);
                deliver(h.submit(client, specs, wanted.toArray(String[]::new)));
            } else if (action < 60) {
                String w = workers.isEmpty() ? null : workers.get(r.nextInt(workers.size()));
                if (w != null && !queued.get(w).isEmpty()) {
                    List<String> q = new ArrayList<>(queued.get(w));
                    String key = q.get(r.nextInt(q.size()));
                    queued.get(w).remove(key);
                    deliver(h.finish(w, key, 1 + r.nextInt(1000)));
                }
            } else if (action < 66) {
                String w = workers.isEmpty() ? null : workers.get(r.nextInt(workers.size()));
                if (w != null && !queued.get(w).isEmpty()) {
                    String key = queued.get(w).iterator().next();
                    queued.get(w).remove(key);
                    deliver(h.worker(w, new TaskErred(key, new byte[]{1}, "boom " + key, 0, 1)));
                }
            } else if (action < 74) {
                Set<String> mine = wants.getOrDefault(client, new LinkedHashSet<>());
                if (!mine.isEmpty()) {
                    String key = new ArrayList<>(mine).get(r.nextInt(mine.size()));
                    mine.remove(key);
                    deliver(h.client(client, new ReleaseKeys(client, List.of(key))));
                }
            } else if (action < 77) {
                if (!keys.isEmpty()) {
                    String key = keys.get(r.nextInt(keys.size()));
                    deliver(h.client(client, new CancelKeys(client, List.of(key), r.nextBoolean())));
                }
            } else if (action < 83) {
                if (!workers.isEmpty()) {
                    String w = workers.get(r.nextInt(workers.size()));
                    queued.remove(w);
                    if (nannies) {
                        dying.add(w);
                    }
                    deliver(h.gone(w));
                    int then = nannies ? r.nextInt(3) : -1;
                    if (then == 0) {
                        deliver(h.client("nanny-" + w, new WorkerDied(w, "exit code 1")));
                    } else if (then == 1) {
                        // no report: the live workers heart-beat while the deadline passes
                        List<String> alive = new ArrayList<>(queued.keySet());
                        for (String a : alive) {
                            deliver(h.worker(a, new Heartbeat(0, 0, 0, 0)));
                        }
                        h.now += 600_000_000L;
                        for (String a : alive) {
                            deliver(h.worker(a, new Heartbeat(0, 0, 0, 0)));
                        }
                        deliver(h.event(new SchedulerEvent.Tick()));
                    } // else the removal stays held for now
                }
            } else if (action < 90) {
                String w = "10.0.1." + nextWorker++ + ":9000";
                queued.put(w, new LinkedHashSet<>());
                deliver(h.register(w, "joined-" + w, 1 + r.nextInt(3))); // a name belongs to one worker
                if (nannies) {
                    deliver(h.client("nanny-" + w, new RegisterNanny("nanny-" + w, w)));
                }
            } else if (action < 94) {
                if (!keys.isEmpty() && !workers.isEmpty()) {
                    String key = keys.get(r.nextInt(keys.size()));
                    List<String> holders = h.s.view().whoHas(List.of(key)).get(key);
                    if (!holders.isEmpty()) {
                        deliver(h.worker(workers.get(0), new MissingData(key, holders.get(0))));
                    }
                }
            } else if (action < 97) {
                // everyone but one worker heart-beats, then time passes: a timeout
                for (int i = 1; i < workers.size(); i++) {
                    deliver(h.worker(workers.get(i), new Heartbeat(0, 0, 0, 0)));
                }
                h.now += 3_100_000_000L;
                for (int i = 1; i < workers.size(); i++) {
                    deliver(h.worker(workers.get(i), new Heartbeat(0, 0, 0, 0)));
                }
                if (!workers.isEmpty()) {
                    queued.remove(workers.get(0));
                    if (nannies) {
                        // a held removal may go first in this tick and place work on it before it goes too
                        dying.add(workers.get(0));
                    }
                }
                deliver(h.event(new SchedulerEvent.Tick()));
            } else {
                deliver(h.event(new SchedulerEvent.ClientGone(client)));
                wants.remove(client);
            }
        }
        // the end: the nannies of lost workers report, one more worker comes, and runs whatever is left
        for (String w : List.copyOf(dying)) {
            deliver(h.client("nanny-" + w, new WorkerDied(w, "exit code 1")));
        }
        String last = "10.0.1." + nextWorker + ":9000";
        queued.put(last, new LinkedHashSet<>());
        deliver(h.register(last, "last", 2));
        for (int guard = 0; guard < 100_000; guard++) {
            String w = null;
            for (Map.Entry<String, LinkedHashSet<String>> e : queued.entrySet()) {
                if (!e.getValue().isEmpty()) {
                    w = e.getKey();
                    break;
                }
            }
            if (w == null) {
                break;
            }
            String key = queued.get(w).iterator().next();
            queued.get(w).remove(key);
            deliver(h.finish(w, key, 10));
        }
        for (Map.Entry<String, Set<String>> e : wants.entrySet()) {
            for (String key : e.getValue()) {
                String st = h.s.view().stateOf(key);
                assertTrue("memory".equals(st) || "erred".equals(st),
                        "client " + e.getKey() + " wants " + key + " which hangs in state " + st);
            }
        }
        assertEquals(0, h.s.view().noWorkerCount());
        // every client lets go: the scheduler forgets everything and frees all data
        for (String c : List.of("c0", "c1")) {
            deliver(h.event(new SchedulerEvent.ClientGone(c)));
        }
        assertEquals(0, h.s.view().taskCount(), "tasks left after every client left");
    }
}
