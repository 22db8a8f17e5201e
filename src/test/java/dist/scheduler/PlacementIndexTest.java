package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.*;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The placement index against the scan it replaced: random submissions, results, secessions,
 * steals, resources and worker arrivals and departures, and after every event the index must agree
 * with every worker's live load (validate) and each decision must be the one a scan of every worker
 * makes: dask's decide_worker (test_scheduler.py::test_decide_worker_with_restrictions for the
 * restricted cases), least load per thread, filing order on ties.
 */
class PlacementIndexTest {

    private static final String[] PREFIXES = {"a", "b", "c"};
    /** Run times reported per prefix: unknown at first, then short, medium and long, so allowances differ. */
    private static final long[] RUN_NANOS = {1_000_000L, 8_000_000L, 40_000_000L};

    private Harness h;
    private Random r;
    /** Worker address to the keys sent there and not reported back. */
    private final LinkedHashMap<String, LinkedHashSet<String>> sent = new LinkedHashMap<>();
    private final List<String> names = new ArrayList<>();
    private final List<String> stealsAsked = new ArrayList<>();
    private int nextKey;
    private int nextWorker;

    /**
     * dask: test_scheduler.py::test_decide_worker_with_restrictions — among the workers a task may
     * run on, the choice is the one a scan of every allowed worker makes.
     */
    @Test
    void indexAgreesWithAScanOfEveryWorkerUnderRandomEvents() {
        for (int seed = 1; seed <= 60; seed++) {
            try {
                runOnce(seed);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
            }
        }
    }

    /** As dask's decide_worker takes idle workers in turn (its n_tasks % n_workers fast path). */
    @Test
    void tiesGoRoundRobinAndAChosenWorkerMovesBehindItsEquals() {
        Harness h = new Harness();
        h.s.setQueuing(false); // every task is placed at once
        for (int i = 0; i < 4; i++) {
            h.register("10.0.2." + i + ":9000", "w" + i, 1);
        }
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            List<Outgoing> out = h.submit("c", List.of(h.task("t-" + i)), "t-" + i);
            order.add(out.get(0).to());
        }
        // four idle workers, then four with one task each: each round visits all of them in turn
        assertEquals(List.of("10.0.2.0:9000", "10.0.2.1:9000", "10.0.2.2:9000", "10.0.2.3:9000",
                "10.0.2.0:9000", "10.0.2.1:9000", "10.0.2.2:9000", "10.0.2.3:9000"), order);
    }

    private void runOnce(int seed) {
        r = new Random(seed);
        h = new Harness(3);
        h.s.setQueuing(r.nextInt(4) > 0);
        sent.clear();
        names.clear();
        stealsAsked.clear();
        nextKey = 0;
        nextWorker = 0;
        for (int i = 0; i < 3; i++) {
            addWorker();
        }
        for (int step = 0; step < 300; step++) {
            h.now += 50_000_000L;
            int action = r.nextInt(100);
            if (action < 30) {
                submit();
            } else if (action < 55) {
                finishOne();
            } else if (action < 60) {
                secedeOne();
            } else if (action < 66) {
                deliver(h.event(new SchedulerEvent.Tick())); // stealing moves expected work around
            } else if (action < 72) {
                answerSteal();
            } else if (action < 77) {
                addWorker();
            } else if (action < 81 && sent.size() > 1) {
                String w = pick(new ArrayList<>(sent.keySet()));
                sent.remove(w);
                deliver(h.gone(w));
            } else if (action < 85 && !sent.isEmpty()) {
                String w = pick(new ArrayList<>(sent.keySet()));
                deliver(h.worker(w, new WorkerResources(r.nextBoolean() ? Map.of("GPU", 1.0 + r.nextInt(2)) : Map.of())));
            } else if (action < 90) {
                startSome();
            } else {
                for (String w : sent.keySet()) {
                    deliver(h.worker(w, new Heartbeat(0, 0, 0, 0)));
                }
            }
            compareWithScan();
        }
    }

    // ------------------------------------------------------------- the random cluster

    private void addWorker() {
        int n = nextWorker++;
        String host = "10.0.3." + (n % 3); // several workers share a host
        String addr = host + ":" + (9000 + n);
        String name = "w" + n;
        sent.put(addr, new LinkedHashSet<>());
        names.add(name);
        names.add(host);
        deliver(h.register(addr, name, 1 + r.nextInt(4)));
    }

    private void submit() {
        List<TaskSpec> specs = new ArrayList<>();
        List<String> wanted = new ArrayList<>();
        for (int i = 1 + r.nextInt(6); i > 0; i--) {
            String key = PREFIXES[r.nextInt(PREFIXES.length)] + "-" + nextKey++;
            List<String> deps = new ArrayList<>();
            if (r.nextInt(3) == 0) {
                for (String k : inMemory()) {
                    if (deps.size() < 3 && r.nextInt(4) == 0) {
                        deps.add(k);
                    }
                }
            }
            specs.add(new TaskSpec(key, h.run(key), deps, nextKey, options()));
            wanted.add(key);
        }
        deliver(h.submit("c", specs, wanted.toArray(String[]::new)));
    }

    private TaskOptions options() {
        int o = r.nextInt(10);
        if (o == 0 && !names.isEmpty()) {
            return new TaskOptions(List.of(pick(names)), r.nextBoolean(), Map.of(), 0);
        }
        if (o == 1) {
            return new TaskOptions(List.of(), false, Map.of("GPU", 1.0), 0);
        }
        return null;
    }

    private void finishOne() {
        String w = busyWorker();
        if (w == null) {
            return;
        }
        String key = pick(new ArrayList<>(sent.get(w)));
        sent.get(w).remove(key);
        int kind = "abc".indexOf(key.charAt(0));
        long run = RUN_NANOS[kind] / 2 + r.nextLong(RUN_NANOS[kind]);
        deliver(h.worker(w, new TaskFinished(key, 1 + r.nextInt(5000), "Integer", 10, 10 + run, null)));
    }

    private void secedeOne() {
        String w = busyWorker();
        if (w != null) {
            deliver(h.worker(w, new TaskSeceded(pick(new ArrayList<>(sent.get(w))))));
        }
    }

    private void startSome() {
        String w = busyWorker();
        if (w != null) {
            deliver(h.worker(w, new TasksStarted(List.copyOf(sent.get(w)))));
        }
    }

    private void answerSteal() {
        if (stealsAsked.isEmpty()) {
            return;
        }
        String ask = stealsAsked.remove(r.nextInt(stealsAsked.size()));
        String w = ask.substring(0, ask.indexOf(' '));
        String key = ask.substring(ask.indexOf(' ') + 1);
        if (!sent.containsKey(w)) {
            return;
        }
        boolean give = r.nextBoolean() && sent.get(w).remove(key);
        deliver(h.worker(w, new StealResponse(key, give)));
    }

    private String busyWorker() {
        List<String> busy = new ArrayList<>();
        for (Map.Entry<String, LinkedHashSet<String>> e : sent.entrySet()) {
            if (!e.getValue().isEmpty()) {
                busy.add(e.getKey());
            }
        }
        return busy.isEmpty() ? null : pick(busy);
    }

    private List<String> inMemory() {
        List<String> keys = new ArrayList<>();
        for (int k = Math.max(0, nextKey - 40); k < nextKey; k++) {
            for (String p : PREFIXES) {
                if ("memory".equals(h.s.view().stateOf(p + "-" + k))) {
                    keys.add(p + "-" + k);
                }
            }
        }
        return keys;
    }

    private void deliver(List<Outgoing> out) {
        for (Outgoing o : out) {
            Message m = o.message();
            LinkedHashSet<String> mine = sent.get(o.to());
            if (m instanceof ComputeTask c && mine != null) {
                mine.add(c.key());
            } else if (m instanceof FreeKeys f && mine != null) {
                mine.removeAll(f.keys());
            } else if (m instanceof StealRequest s) {
                stealsAsked.add(o.to() + " " + s.key());
            } else if (m instanceof CloseWorker) {
                sent.remove(o.to()); // silent past the time-to-live: the scheduler removed it
            } else if (m instanceof ErrorReply e) {
                fail("unexpected error reply: " + e.message() + "\n" + String.join("\n", h.trace));
            }
        }
    }

    private <T> T pick(List<T> l) {
        return l.get(r.nextInt(l.size()));
    }

    // ------------------------------------------------------------- the scan the index replaced

    private void compareWithScan() {
        Placement p = h.s.placement();
        p.validate();
        List<WorkerState> workers = p.workers();
        assertSame(scanLeastBusy(workers), p.leastBusy(), "least busy of all");
        List<TaskState> probes = new ArrayList<>();
        for (String prefix : PREFIXES) {
            TaskState known = null;
            for (int k = nextKey - 1; k >= 0 && known == null; k--) {
                known = h.s.task(prefix + "-" + k);
            }
            TaskPrefix tp = known != null ? known.prefix : new TaskPrefix(prefix);
            probes.add(new TaskState(prefix + "-probe", null, 0, options(), tp));
            TaskState withInputs = new TaskState(prefix + "-probe-deps", null, 0, options(), tp);
            List<TaskState> deps = new ArrayList<>();
            for (String k : inMemory()) {
                if (deps.size() < 4 && r.nextInt(3) == 0) {
                    deps.add(h.s.task(k));
                }
            }
            withInputs.deps = deps.toArray(TaskState[]::new);
            probes.add(withInputs);
        }
        for (TaskState probe : probes) {
            String what = probe.key + " " + probe.options + " deps " + probe.deps.length;
            assertSame(scanDecide(workers, probe), p.decide(probe), "decide " + what);
            assertSame(scanRoomiest(workers, probe), p.roomiest(probe), "roomiest " + what);
        }
    }

    /** Least load per thread, then filed first: the tie rule of the index, read from live loads. */
    private static boolean before(WorkerState a, WorkerState b) {
        return b == null || a.load() < b.load() || (a.load() == b.load() && a.seqKey < b.seqKey);
    }

    private static WorkerState scanLeastBusy(List<WorkerState> pool) {
        WorkerState best = null;
        for (WorkerState w : pool) {
            if (before(w, best)) {
                best = w;
            }
        }
        return best;
    }

    private static WorkerState scanRoomiest(List<WorkerState> workers, TaskState next) {
        WorkerState best = null;
        for (WorkerState w : workers) {
            if (w.busy() < Placement.saturation(w, next) && before(w, best)) {
                best = w;
            }
        }
        return best;
    }

    private static long bytesToFetch(TaskState ts, WorkerState w) {
        long sum = 0;
        for (TaskState d : ts.deps) {
            if (!d.heldBy(w)) {
                sum += Math.max(0, d.nbytes);
            }
        }
        return sum;
    }

    /** SchedulerState.decideWorker as it was: every worker matched, every holder's bytes counted. */
    private static WorkerState scanDecide(List<WorkerState> workers, TaskState ts) {
        if (workers.isEmpty()) {
            return null;
        }
        List<WorkerState> allowed = null;
        TaskOptions o = ts.options;
        if (o != null && o.workers() != null && !o.workers().isEmpty()) {
            allowed = new ArrayList<>();
            for (WorkerState w : workers) {
                for (String rule : o.workers()) {
                    if (rule != null && w.matches(rule)) {
                        allowed.add(w);
                        break;
                    }
                }
            }
            if (allowed.isEmpty()) {
                if (!o.allowOtherWorkers()) {
                    return null;
                }
                allowed = null;
            }
        }
        Map<String, Double> need = ts.resources();
        if (!need.isEmpty()) {
            List<WorkerState> fit = new ArrayList<>();
            for (WorkerState w : allowed == null ? workers : allowed) {
                if (w.hasFree(need)) {
                    fit.add(w);
                }
            }
            if (fit.isEmpty()) {
                return null;
            }
            allowed = fit;
        }
        if (ts.deps.length > 0) {
            WorkerState best = null;
            long bestBytes = Long.MAX_VALUE;
            List<WorkerState> seen = new ArrayList<>();
            for (TaskState d : ts.deps) {
                if (d.whoHas == null) {
                    continue;
                }
                for (WorkerState w : d.whoHas) {
                    if (seen.contains(w) || (allowed != null && !allowed.contains(w))) {
                        continue;
                    }
                    seen.add(w);
                    long bytes = bytesToFetch(ts, w);
                    if (best == null || bytes < bestBytes || (bytes == bestBytes && w.load() < best.load())) {
                        best = w;
                        bestBytes = bytes;
                    }
                }
            }
            if (best != null) {
                return best;
            }
        }
        return allowed == null ? scanLeastBusy(workers) : scanLeastBusyFewestBytes(allowed);
    }

    /** A restricted pool: least load, then fewest bytes held (dask's worker objective), then filed first. */
    private static WorkerState scanLeastBusyFewestBytes(List<WorkerState> pool) {
        WorkerState best = null;
        for (WorkerState w : pool) {
            if (best == null || w.load() < best.load() || w.load() == best.load() && (w.heldBytes < best.heldBytes
                    || w.heldBytes == best.heldBytes && w.seqKey < best.seqKey)) {
                best = w;
            }
        }
        return best;
    }
}
