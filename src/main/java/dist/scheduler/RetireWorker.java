package dist.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * dask's RetireWorker: empties one closing-gracefully worker by asking for a copy, elsewhere, of
 * every result only it holds (a copy on a paused worker counts; one on another closing worker does
 * not). The manager picks the receivers; when it finds none for a key, {@link #kept} says why and
 * the worker stays.
 */
final class RetireWorker implements MemoryManagerPolicy {
    final String address;
    /** Why the worker cannot be emptied; null while it can. */
    String kept;
    /**
     * The worker asked for itself (its lifetime is over): told to close, it exits as at the end of
     * its lifetime (a nanny then starts a fresh one), and it goes even when it cannot be emptied.
     */
    boolean itsOwn;

    RetireWorker(String address) {
        this.address = address;
    }

    @Override
    public List<Suggestion> suggest(View cluster) {
        List<Suggestion> out = new ArrayList<>();
        for (Key k : alone(cluster)) {
            out.add(Suggestion.replicate(k.key(), null));
        }
        return out;
    }

    /**
     * Whether the worker left or may close now: nothing executes there and each of its results has
     * a copy elsewhere. Tasks only queued there (not started) are placed elsewhere when it closes, as
     * dask hands them on: they never ran, so nothing is computed twice.
     */
    boolean done(View cluster) {
        Worker w = cluster.worker(address);
        return w == null || ((ActiveMemoryManagerExtension.Snapshot) cluster).executingOn(address) == 0
                && alone(cluster).isEmpty();
    }

    /** The keys this worker holds with no copy on a worker that stays. */
    private List<Key> alone(View cluster) {
        List<Key> out = new ArrayList<>();
        for (Key k : ((ActiveMemoryManagerExtension.Snapshot) cluster).keysOn(address)) {
            boolean elsewhere = false;
            for (String h : k.holders()) {
                Worker o = h.equals(address) ? null : cluster.worker(h);
                if (o != null && !"closing_gracefully".equals(o.status())) {
                    elsewhere = true;
                    break;
                }
            }
            if (!elsewhere) {
                out.add(k);
            }
        }
        return out;
    }
}
