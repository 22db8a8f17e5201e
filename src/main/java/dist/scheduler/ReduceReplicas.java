package dist.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * dask's ReduceReplicas: a key held by more workers than the tasks waiting for it (at least one)
 * loses the extra copies. The manager picks which copies go and keeps the last one, those running
 * tasks read, and those {@code client.replicate} asked for.
 */
final class ReduceReplicas implements MemoryManagerPolicy {
    @Override
    public List<Suggestion> suggest(View cluster) {
        List<Suggestion> out = new ArrayList<>();
        for (Key k : cluster.replicated()) {
            int drop = k.holders().size() - Math.max(1, k.waiters());
            for (int i = 0; i < drop; i++) {
                out.add(Suggestion.drop(k.key(), null));
            }
        }
        return out;
    }
}
