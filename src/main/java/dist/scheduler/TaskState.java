package dist.scheduler;

import dist.protocol.TaskOptions;


/**
 * One task as the scheduler tracks it. Plain fields, and collections only when non-empty, so a
 * waiting task costs little memory (the scheduler may hold hundreds of thousands).
 */
final class TaskState {
    static final byte RELEASED = 0, WAITING = 1, NO_WORKER = 2, PROCESSING = 3, MEMORY = 4, ERRED = 5, FORGOTTEN = 6,
            QUEUED = 7;
    private static final String[] NAMES = {"released", "waiting", "no-worker", "processing", "memory", "erred", "forgotten",
            "queued"};
    static final TaskState[] NO_DEPS = new TaskState[0];

    final String key;
    /** The key's spread hash, fixed at creation: sets of tasks probe with it instead of an identity hash. */
    final int hash;
    /**
     * The serialized call, without its function when {@link #fn} holds that (see FunctionTable);
     * null for data that has no recipe (scattered). Kept for recomputation.
     */
    byte[] run;
    /** The function's bytes, shared with the other tasks of its map; null when {@link #run} is whole. */
    byte[] fn;
    final long priority;
    /** Null means {@link TaskOptions#DEFAULT}. Not final: a p2p shuffle pins its outputs to their owners. */
    TaskOptions options;
    final TaskPrefix prefix;
    /** The client whose update created this task: workers ask it for classes they lack. */
    String submitter;

    /** Read-only: arrays may be shared between tasks (see {@link #asSoleDependency}); replace, never write. */
    TaskState[] deps = NO_DEPS;
    /** {@code {this}}, shared as the deps of every task whose one dependency this is; made on first use. */
    private TaskState[] sole;
    /** Tasks that depend on this one; null when none. May be shared and read-only (see {@link TaskSet#sole}). */
    TaskSet dependents;
    /** {@code {this}} as a read-only dependents set, shared by inputs with no other dependent; made on first use. */
    private TaskSet soleDependent;

    byte state = RELEASED;
    /** While waiting: how many dependencies are not in memory. */
    int waitingOn;
    /** How many dependents are waiting, no-worker or processing (they need this task's data). */
    int waiters;
    /**
     * Where this task went in the {@link TaskSet} it joined last: that set removes it there without a
     * probe while no other set took it since (a hint, checked before use: any set may read it).
     */
    int setPos;

    /** Workers holding the result; null when none. Read-only, as {@link #deps}: replace, never write. */
    WorkerState[] whoHas;
    WorkerState processingOn;
    /** Copies client.replicate asked for: the active memory manager keeps at least these (0: none asked). */
    int replicasWanted;
    /** Counted as executing on its worker (not merely queued): see SchedulerState's counting rule. */
    boolean executing;
    /** Expected run time counted in {@code processingOn}'s occupancy. */
    long expectedNanos;
    /** While a steal request is out: the worker that would take this task over; its occupancy already counts it. */
    WorkerState stealTo;
    long nbytes = -1;
    /** Names and values worker plugins set on it (dask's TaskState.metadata); null: none. */
    java.util.Map<String, String> metadata;
    /** Clients holding a future for this key; null when none. */
    /** Read-only, as {@link #deps}: one client's tasks share its {@link ClientState#alone} array. */
    ClientState[] wantedBy;
    /** Failure bookkeeping (errors, retries, worker deaths); null for the common case. */
    Trouble trouble;

    TaskState(String key, byte[] run, long priority, TaskOptions options, TaskPrefix prefix) {
        this.key = key;
        this.hash = hashOf(key);
        this.run = run;
        this.priority = priority;
        this.options = options == null || options == TaskOptions.DEFAULT || options.equals(TaskOptions.DEFAULT)
                ? null : options;
        this.prefix = prefix;
    }

    /** The spread hash of a key, as {@link #hash} holds it: neighbouring keys ("x-1", "x-2") land apart. */
    static int hashOf(String key) {
        int h = key.hashCode() * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    static String name(byte state) {
        return NAMES[state];
    }

    static boolean active(byte state) {
        return state == WAITING || state == NO_WORKER || state == PROCESSING || state == QUEUED;
    }

    /** Resources the task holds while it runs; empty when none. */
    java.util.Map<String, Double> resources() {
        return options == null || options.resources() == null ? java.util.Map.of() : options.resources();
    }

    /** Whether the task must run on the workers it names (a rule, not a preference). */
    boolean restricted() {
        return options != null && options.workers() != null && !options.workers().isEmpty();
    }

    boolean wanted() {
        return wantedBy != null;
    }

    /** Someone still needs this task's result: a client, or a dependent that has not finished. */
    boolean needed() {
        return wantedBy != null || waiters > 0;
    }

    boolean hasDependents() {
        return dependents != null && !dependents.isEmpty();
    }

    Trouble trouble() {
        if (trouble == null) {
            trouble = new Trouble();
        }
        return trouble;
    }

    boolean heldBy(WorkerState ws) {
        if (whoHas != null) {
            for (WorkerState w : whoHas) {
                if (w == ws) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Adds a holder; returns false when it already held the key. */
    boolean addHolder(WorkerState ws) {
        if (heldBy(ws)) {
            return false;
        }
        if (whoHas == null) {
            whoHas = ws.alone; // shared by every result held only there: never written in place
        } else {
            WorkerState[] n = java.util.Arrays.copyOf(whoHas, whoHas.length + 1);
            n[whoHas.length] = ws;
            whoHas = n;
            if (n.length == 2) {
                ws.replicated.add(this);
            }
        }
        return true;
    }

    /** Removes a holder; returns false when it did not hold the key. */
    boolean removeHolder(WorkerState ws) {
        if (whoHas == null) {
            return false;
        }
        int i = 0;
        while (i < whoHas.length && whoHas[i] != ws) {
            i++;
        }
        if (i == whoHas.length) {
            return false;
        }
        if (whoHas.length == 1) {
            whoHas = null;
        } else {
            WorkerState[] n = new WorkerState[whoHas.length - 1];
            System.arraycopy(whoHas, 0, n, 0, i);
            System.arraycopy(whoHas, i + 1, n, i, whoHas.length - i - 1);
            whoHas = n;
            if (n.length == 1) {
                ws.replicated.remove(this);
            }
        }
        return true;
    }

    /** The addresses of the workers holding the result, in the order they got it; empty when none. */
    java.util.List<String> holderAddresses() {
        if (whoHas == null) {
            return java.util.List.of();
        }
        if (whoHas.length == 1) {
            return whoHas[0].addressAlone;
        }
        String[] a = new String[whoHas.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = whoHas[i].address;
        }
        return java.util.List.of(a);
    }

    /** {@code {this}} as a dependency array, the same array each time. */
    TaskState[] asSoleDependency() {
        TaskState[] s = sole;
        if (s == null) {
            s = new TaskState[]{this};
            sole = s;
        }
        return s;
    }

    /** {@code {this}} as a read-only set of dependents, the same set each time. */
    TaskSet asSoleDependent() {
        TaskSet s = soleDependent;
        if (s == null) {
            s = TaskSet.sole(this);
            soleDependent = s;
        }
        return s;
    }

    void addWanter(ClientState c) {
        if (wantedBy == null) {
            wantedBy = c.alone;
            return;
        }
        for (ClientState x : wantedBy) {
            if (x == c) {
                return;
            }
        }
        ClientState[] n = java.util.Arrays.copyOf(wantedBy, wantedBy.length + 1);
        n[wantedBy.length] = c;
        wantedBy = n;
    }

    void removeWanter(ClientState c) {
        if (wantedBy == null) {
            return;
        }
        int i = 0;
        while (i < wantedBy.length && wantedBy[i] != c) {
            i++;
        }
        if (i == wantedBy.length) {
            return;
        }
        if (wantedBy.length == 1) {
            wantedBy = null;
        } else {
            ClientState[] n = new ClientState[wantedBy.length - 1];
            System.arraycopy(wantedBy, 0, n, 0, i);
            System.arraycopy(wantedBy, i + 1, n, i, wantedBy.length - i - 1);
            wantedBy = n;
        }
    }

    @Override
    public String toString() {
        return key + "(" + name(state) + ")";
    }

    /** Errors, retries and worker deaths of one task. */
    static final class Trouble {
        byte[] exception;
        String summary;
        String causeKey;
        int failures;
        int suspicious;
        java.util.List<String> killedOn;
        String lastReason;
    }
}
