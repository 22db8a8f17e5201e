package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.*;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Drives a {@link SchedulerState} with events and keeps the exact run bytes so messages compare equal. */
final class Harness {
    final SchedulerState s;
    final Map<String, byte[]> runs = new HashMap<>();
    /** The client that first submitted each key: tasks sent to workers name it. */
    final Map<String, String> submitters = new HashMap<>();
    long now = 1_000_000_000L;

    Harness() {
        this(3);
    }

    Harness(int allowedFailures) {
        this(new SchedulerConfig(Duration.ofSeconds(3), 500, allowedFailures, 8192, "sched-test"));
    }

    Harness(SchedulerConfig config) {
        s = new SchedulerState(config);
        s.failFast(true); // a missing edge in the transition table fails the test that found it
    }

    byte[] run(String key) {
        return runs.computeIfAbsent(key, k -> ("call " + k).getBytes(StandardCharsets.UTF_8));
    }

    TaskSpec task(String key, String... deps) {
        return new TaskSpec(key, run(key), List.of(deps), 0, null);
    }

    TaskSpec task(String key, TaskOptions o, String... deps) {
        return new TaskSpec(key, run(key), List.of(deps), 0, o);
    }

    /** The last events and what they produced, for failure messages. */
    final java.util.ArrayDeque<String> trace = new java.util.ArrayDeque<>();

    List<Outgoing> event(SchedulerEvent e) {
        List<Outgoing> out = s.handle(e, now);
        trace.add(e + "\n    -> " + out);
        if (trace.size() > 12) {
            trace.poll();
        }
        try {
            s.validate();
        } catch (IllegalStateException x) {
            throw new IllegalStateException(x.getMessage() + "\nlast events:\n" + String.join("\n", trace), x);
        }
        return out;
    }

    List<Outgoing> client(String id, Message m) {
        return event(new SchedulerEvent.FromClient(id, m, 0));
    }

    List<Outgoing> worker(String addr, Message m) {
        return event(new SchedulerEvent.FromWorker(addr, m, 0));
    }

    List<Outgoing> register(String addr, String name, int nthreads) {
        return register(addr, name, nthreads, Map.of());
    }

    List<Outgoing> register(String addr, String name, int nthreads, Map<String, Long> held) {
        return event(new SchedulerEvent.FromWorker(addr,
                new RegisterWorker(addr, name, nthreads, 1L << 30, 100, held), 1));
    }

    List<Outgoing> submit(String client, List<TaskSpec> tasks, String... wanted) {
        for (TaskSpec t : tasks) {
            submitters.putIfAbsent(t.key(), client);
        }
        return client(client, new UpdateGraph(client, tasks, List.of(wanted)));
    }

    List<Outgoing> finish(String worker, String key, long nbytes) {
        return worker(worker, new TaskFinished(key, nbytes, "Integer", 10, 20, null));
    }

    /** The worker says these tasks began executing. */
    List<Outgoing> started(String worker, String... keys) {
        return worker(worker, new TasksStarted(List.of(keys)));
    }

    List<Outgoing> queued(String worker, String... keys) {
        return worker(worker, new TasksQueued(List.of(keys)));
    }

    List<Outgoing> gone(String worker) {
        return event(new SchedulerEvent.WorkerGone(worker, "connection closed"));
    }

    // ------------------------------------------------------------- expected messages

    /** A task sent to start at once: a free thread there, its inputs held there. */
    Outgoing compute(String worker, String key, Object... depHolders) {
        return compute(worker, key, 0, depHolders);
    }

    /** depHolders: key, List of holders, nbytes (Long), repeated. */
    Outgoing compute(String worker, String key, long priority, Object... depHolders) {
        return compute(worker, key, priority, false, depHolders);
    }

    /** A task sent to wait in the worker's queue: the worker announces it before it starts. */
    Outgoing computeQueued(String worker, String key, Object... depHolders) {
        return compute(worker, key, 0, true, depHolders);
    }

    Outgoing compute(String worker, String key, long priority, boolean announceStart, Object... depHolders) {
        LinkedHashMap<String, List<String>> who = new LinkedHashMap<>();
        LinkedHashMap<String, Long> sizes = new LinkedHashMap<>();
        for (int i = 0; i < depHolders.length; i += 3) {
            @SuppressWarnings("unchecked") List<String> h = (List<String>) depHolders[i + 1];
            who.put((String) depHolders[i], h);
            sizes.put((String) depHolders[i], (Long) depHolders[i + 2]);
        }
        return Outgoing.send(worker, new ComputeTask(key, run(key), who, sizes, priority, submitters.get(key),
                announceStart));
    }

    static Outgoing inMemory(String client, String key, List<String> who, long nbytes) {
        return Outgoing.send(client, new KeyInMemory(key, who, nbytes, null));
    }

    static Outgoing free(String worker, String... keys) {
        return Outgoing.send(worker, new FreeKeys(List.of(keys)));
    }

    static Outgoing accepted(String worker) {
        return new Outgoing(worker, new WorkerAccepted("sched-test", 500), 1);
    }

    static void assertOut(List<Outgoing> actual, Outgoing... expected) {
        assertEquals(List.of(expected), new ArrayList<>(actual), "messages sent");
    }
}
