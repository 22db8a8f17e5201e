package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.HasWhatRequest;
import dist.protocol.Message.HasWhatReply;
import dist.protocol.Message.NbytesReply;
import dist.protocol.Message.NbytesRequest;
import dist.protocol.Message.TaskStatusReply;
import dist.protocol.Message.TaskStatusRequest;
import dist.protocol.Message.WhoHasReply;
import dist.protocol.Message.WhoHasRequest;
import dist.protocol.Message.WorkerInfo;
import dist.protocol.Message.WorkersReply;
import dist.protocol.Message.WorkersRequest;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Read-only questions about tasks and workers (who holds what, sizes, states and why a task waits),
 * answered from the core's bookkeeping; it changes nothing.
 */
final class QueryExtension implements SchedulerExtension {
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(WhoHasRequest.class, WorkersRequest.class, HasWhatRequest.class, NbytesRequest.class,
                Message.VersionsRequest.class, Message.TaskRunRequest.class,
                TaskStatusRequest.class);
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(WhoHasRequest.class, WorkersRequest.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        core.reply(clientId, answer(message), requestId);
    }

    @Override
    public void onWorker(WorkerState worker, Message message, long requestId) {
        core.reply(worker.address, answer(message), requestId);
    }

    private Message answer(Message message) {
        return switch (message) {
            case WhoHasRequest w -> new WhoHasReply(whoHas(nonNull(w.keys(), "WhoHasRequest.keys")));
            case WorkersRequest w -> new WorkersReply(workerInfos());
            case HasWhatRequest h -> new HasWhatReply(hasWhat(nonNull(h.workers(), "HasWhatRequest.workers")));
            case NbytesRequest n -> new NbytesReply(nbytes(nonNull(n.keys(), "NbytesRequest.keys")));
            case TaskStatusRequest t -> taskStatus(nonNull(t.keys(), "TaskStatusRequest.keys"));
            case Message.VersionsRequest v -> new Message.VersionsReply(dist.protocol.Versions.local());
            case Message.TaskRunRequest r -> taskRun(r.key());
            default -> throw new IllegalStateException("not a query: " + message);
        };
    }

    private static <T> T nonNull(T value, String what) {
        if (value == null) {
            throw new IllegalArgumentException(what + " is null: send an empty collection instead");
        }
        return value;
    }

    /** The recipe of a task, whole, with the keys of its inputs; refused for keys with none (unknown, scattered). */
    private Message taskRun(String key) {
        TaskState ts = key == null ? null : core.task(key);
        if (ts == null || ts.run == null) {
            throw new IllegalArgumentException("the scheduler has no recipe for key " + key
                    + (ts == null ? " (unknown: released, or never submitted)" : " (data placed by scatter)"));
        }
        ArrayList<String> deps = new ArrayList<>(ts.deps.length);
        for (TaskState d : ts.deps) {
            deps.add(d.key);
        }
        return new Message.TaskRunReply(key, FunctionTable.runOf(ts), deps);
    }

    /** For each key, the addresses of the workers holding it (empty when none or unknown); no keys: every task. */
    Map<String, List<String>> whoHas(Collection<String> keys) {
        LinkedHashMap<String, List<String>> m = new LinkedHashMap<>();
        if (keys.isEmpty()) {
            for (TaskState ts : core.tasks()) {
                m.put(ts.key, ts.holderAddresses());
            }
            return m;
        }
        for (String k : keys) {
            TaskState ts = k == null ? null : core.task(k);
            m.put(k, ts == null ? List.of() : ts.holderAddresses());
        }
        return m;
    }

    /** Information on every worker, as {@link WorkersReply} carries it. */
    List<WorkerInfo> workerInfos() {
        List<WorkerState> workers = core.workers();
        ArrayList<WorkerInfo> l = new ArrayList<>(workers.size());
        for (WorkerState w : workers) {
            l.add(new WorkerInfo(w.address, w.name, w.nthreads, w.memoryLimit, w.pid, w.memoryBytes,
                    w.processing.size(), w.hasWhat.size(), w.metrics, w.startup));
        }
        return l;
    }

    /** Keys held per worker; {@code which} names workers (address, host or name), empty for all. */
    Map<String, List<String>> hasWhat(Collection<String> which) {
        LinkedHashMap<String, List<String>> m = new LinkedHashMap<>();
        for (WorkerState w : core.workers()) {
            boolean chosen = which.isEmpty();
            for (String r : which) {
                chosen |= r != null && w.matches(r);
            }
            if (chosen) {
                ArrayList<String> keys = new ArrayList<>(w.hasWhat.size());
                for (TaskState ts : w.hasWhat) {
                    keys.add(ts.key);
                }
                m.put(w.address, keys);
            }
        }
        for (String r : which) {
            // a worker asked for by address that has left holds nothing (dask answers it with [])
            if (r != null && r.indexOf(':') > 0 && !m.containsKey(r) && core.workers().stream().noneMatch(w -> w.matches(r))) {
                m.put(r, List.of());
            }
        }
        return m;
    }

    /** Stored size of each key in memory; {@code keys} empty means every key in memory. */
    Map<String, Long> nbytes(Collection<String> keys) {
        LinkedHashMap<String, Long> m = new LinkedHashMap<>();
        if (keys.isEmpty()) {
            for (TaskState ts : core.tasks()) {
                if (ts.state == TaskState.MEMORY) {
                    m.put(ts.key, Math.max(0, ts.nbytes));
                }
            }
        } else {
            for (String k : keys) {
                TaskState ts = k == null ? null : core.task(k);
                if (ts != null && ts.state == TaskState.MEMORY) {
                    m.put(k, Math.max(0, ts.nbytes));
                }
            }
        }
        return m;
    }

    private TaskStatusReply taskStatus(List<String> keys) {
        LinkedHashMap<String, String> states = new LinkedHashMap<>();
        LinkedHashMap<String, String> reasons = new LinkedHashMap<>();
        for (String k : keys) {
            TaskState ts = k == null ? null : core.task(k);
            if (ts != null) {
                states.put(k, TaskState.name(ts.state));
                if (ts.state == TaskState.NO_WORKER) {
                    reasons.put(k, noWorkerReason(ts));
                }
            }
        }
        return new TaskStatusReply(states, reasons);
    }

    /** Why no worker may run {@code ts} now, in words for a person. */
    private String noWorkerReason(TaskState ts) {
        List<WorkerState> workers = core.workers();
        if (workers.isEmpty()) {
            return "there are no workers; the task waits until one arrives";
        }
        StringBuilder b = new StringBuilder();
        if (ts.restricted()) {
            b.append("no connected worker matches workers=").append(ts.options.workers());
        }
        if (!ts.resources().isEmpty()) {
            boolean anyOffers = false;
            for (WorkerState w : workers) {
                anyOffers |= w.offers(ts.resources());
            }
            if (b.length() > 0) {
                b.append(", or ");
            }
            b.append(anyOffers ? "every worker with resources " + ts.resources() + " has them in use"
                    : "no worker offers resources " + ts.resources());
        }
        if (b.length() == 0) {
            b.append("no worker may run it");
        }
        return b.append("; the task waits until one can").toString();
    }
}
