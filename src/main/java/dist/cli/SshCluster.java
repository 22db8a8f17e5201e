package dist.cli;

import dist.AbstractClusterManager;
import dist.Client;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The workers of {@code dist ssh --adapt MIN:MAX} as a {@link dist.ClusterManager}: each worker
 * started is one more worker process (under its nanny) on the next worker host in turn, over ssh;
 * a retired one ends by itself, and one that does not is killed on its host by the mark it
 * carries ({@code -Ddist-ssh-worker=CLUSTER.NAME}).
 */
final class SshCluster extends AbstractClusterManager {
    /** The system property that marks one worker of a cluster, so it can be stopped alone. */
    static final String WORKER_MARKER = "dist-ssh-worker";
    /** How long a retired worker's session has to end by itself. */
    private static final long END_WAIT_SECONDS = 10;

    private final SshCommand.Cluster sessions;
    private final List<SshCommand.Target> hosts;
    private final List<String> base;
    private final String scheduler;
    private final List<String> workerOpts;
    private final String marker;
    private final Map<String, SshCommand.Target> hostOf = new ConcurrentHashMap<>();
    private final Map<String, Process> sessionOf = new ConcurrentHashMap<>();
    /** Workers started so far: the round-robin cursor (called under the manager's scaling lock). */
    private int started;

    /**
     * {@code base}: the remote java command up to and including {@code dist.Main}, its second word on
     * the JVM's options; {@code hosts}: where workers go, in turn.
     */
    SshCluster(Client client, SshCommand.Cluster sessions, List<SshCommand.Target> hosts, List<String> base,
               String scheduler, List<String> workerOpts, String marker) {
        super(client);
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("no host to start workers on");
        }
        this.sessions = sessions;
        this.hosts = List.copyOf(hosts);
        this.base = List.copyOf(base);
        this.scheduler = scheduler;
        this.workerOpts = List.copyOf(workerOpts);
        this.marker = marker;
    }

    /** The host the next worker goes to. */
    SshCommand.Target nextHost() {
        return hosts.get(started % hosts.size());
    }

    @Override
    protected void startWorker(String name) throws IOException {
        SshCommand.Target t = nextHost();
        started++;
        List<String> cmd = new ArrayList<>(base);
        cmd.add(1, "-D" + WORKER_MARKER + "=" + marker + "." + name);
        cmd.addAll(List.of("worker", scheduler, "--host", "0.0.0.0", "--contact-address", t.host(), "--name", name));
        cmd.addAll(workerOpts);
        hostOf.put(name, t);
        sessionOf.put(name, sessions.start(t, name, cmd, line -> { }));
    }

    @Override
    protected void stopWorker(String name) throws InterruptedException {
        Process session = sessionOf.remove(name);
        SshCommand.Target t = hostOf.remove(name);
        if (session != null && session.waitFor(END_WAIT_SECONDS, TimeUnit.SECONDS)) {
            return; // retired: the worker, its nanny and the session ended by themselves
        }
        if (t != null) {
            sessions.stopMarked(t, WORKER_MARKER, marker + "." + name);
        }
        if (session != null) {
            session.destroy();
        }
    }
}
