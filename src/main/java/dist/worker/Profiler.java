package dist.worker;

import dist.config.Config;
import dist.protocol.Message;
import dist.protocol.Message.ProfileFrame;
import dist.protocol.Message.ProfileKey;
import dist.protocol.Message.ProfileReport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The worker's sampling profiler, as dask's: every {@code distributed.worker.profile.interval} it reads
 * the stack of each thread running a task and adds it to that task key's frame tree; every
 * {@code distributed.worker.profile.cycle} it sends the trees to the scheduler ({@link ProfileReport}),
 * which keeps them per task group. Off with {@code distributed.worker.profile.enabled=false}.
 */
final class Profiler implements WorkerExtension {
    /** Frames one cycle's trees hold at most: past it a sample counts at its deepest frame already kept. */
    static final int MAX_NODES = 10_000;
    /** Frames of one sample kept at most, from the task's entry point inward. */
    static final int MAX_DEPTH = 256;

    private WorkerServices worker;

    @Override
    public void start(WorkerServices worker) {
        this.worker = worker;
        if (!Config.getBoolean("distributed.worker.profile.enabled")) {
            return;
        }
        long interval = Math.max(1, Config.getDuration("distributed.worker.profile.interval").toNanos());
        long cycle = Math.max(interval, Config.getDuration("distributed.worker.profile.cycle").toNanos());
        Thread.ofPlatform().name("dist-worker-profile").daemon(true).start(() -> loop(interval, cycle));
    }

    @Override
    public Set<Class<? extends Message>> requests() {
        return Set.of();
    }

    @Override
    public Message answer(Message request) {
        throw new IllegalArgumentException("the profiler answers no requests");
    }

    /** Samples until the worker closes; the wait on its close is the pause between samples. */
    private void loop(long interval, long cycle) {
        WorkerServer server = worker.server();
        Cycle now = new Cycle(System.currentTimeMillis());
        long due = System.nanoTime() + cycle;
        try {
            while (!server.awaitClose(interval, TimeUnit.NANOSECONDS)) {
                for (Map.Entry<String, Thread> e : worker.executing().entrySet()) {
                    now.add(e.getKey(), frames(e.getValue().getStackTrace()));
                }
                for (Map.Entry<Thread, String> e : worker.actorCalls().entrySet()) {
                    now.add(e.getValue(), frames(e.getKey().getStackTrace())); // as dask's, actors' calls too
                }
                if (System.nanoTime() - due >= 0) {
                    long stop = System.currentTimeMillis();
                    if (!now.keys.isEmpty()) {
                        worker.report(now.report(stop));
                    }
                    now = new Cycle(stop);
                    due = System.nanoTime() + cycle;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The frames of a task thread's stack that are the task's own, outermost first: those above the
     * worker's call into it, without the decoding and reflection it goes through on the way (dask
     * stops at worker.py likewise). Empty when the thread runs no task now.
     */
    static List<String> frames(StackTraceElement[] stack) {
        int entry = -1;
        for (int i = 0; i < stack.length; i++) {
            // a task's entry, or an actor call's (runAs under runForActor)
            if (stack[i].getClassName().equals("dist.worker.WorkerServer")
                    && (stack[i].getMethodName().equals("run") || stack[i].getMethodName().equals("runAs"))) {
                entry = i;
                break;
            }
        }
        List<String> out = new ArrayList<>();
        boolean plumbing = true;
        for (int i = entry - 1; i >= 0 && out.size() < MAX_DEPTH; i--) {
            String cls = stack[i].getClassName();
            if (plumbing && (cls.startsWith("dist.protocol.") || cls.startsWith("dist.serial.") || cls.startsWith("dist.worker.ActorHost")
                    || cls.startsWith("java.lang.invoke.") || cls.startsWith("java.lang.reflect.")
                    || cls.startsWith("jdk.internal.") || isFn(cls))) {
                continue;
            }
            plumbing = false;
            out.add(name(stack[i]));
        }
        return out;
    }

    /** dist.Fn0 to dist.Fn6: the interfaces a submitted function is called through. */
    private static boolean isFn(String cls) {
        return cls.length() == 8 && cls.startsWith("dist.Fn") && Character.isDigit(cls.charAt(7));
    }

    /** "pkg.Cls.method(File.java)": one node per method, whatever line of it was running, as dask's. */
    static String name(StackTraceElement f) {
        String file = f.getFileName();
        return f.getClassName() + "." + f.getMethodName() + "(" + (file == null ? "Unknown Source" : file) + ")";
    }

    /** A frame and what it called, with the samples that passed through it. */
    static final class Node {
        final String frame;
        long count;
        final Map<String, Node> children = new LinkedHashMap<>(4);

        Node(String frame) {
            this.frame = frame;
        }
    }

    /** The samples of one cycle, a tree per task key, bounded by {@link #MAX_NODES}. */
    static final class Cycle {
        final long startMillis;
        final Map<String, Node> keys = new LinkedHashMap<>();
        int nodes;

        Cycle(long startMillis) {
            this.startMillis = startMillis;
        }

        void add(String key, List<String> frames) {
            Node n = keys.get(key);
            if (n == null) {
                if (nodes >= MAX_NODES) {
                    return;
                }
                n = new Node(key);
                keys.put(key, n);
                nodes++;
            }
            n.count++;
            for (String f : frames) {
                Node c = n.children.get(f);
                if (c == null) {
                    if (nodes >= MAX_NODES) {
                        return;
                    }
                    c = new Node(f);
                    n.children.put(f, c);
                    nodes++;
                }
                c.count++;
                n = c;
            }
        }

        ProfileReport report(long stopMillis) {
            List<ProfileKey> out = new ArrayList<>(keys.size());
            for (Node root : keys.values()) {
                List<ProfileFrame> frames = new ArrayList<>();
                preorder(root, -1, frames);
                out.add(new ProfileKey(root.frame, frames));
            }
            return new ProfileReport(startMillis, stopMillis, out);
        }

        /** Index 0 is the key's root (its frame the key); each frame after its parent. */
        private static void preorder(Node n, int parent, List<ProfileFrame> out) {
            int me = out.size();
            out.add(new ProfileFrame(parent, n.frame, n.count));
            for (Node c : n.children.values()) {
                preorder(c, me, out);
            }
        }
    }
}
