package dist;

import dist.client.BagOps;

import java.util.ArrayList;
import java.util.List;

/**
 * Moves a bag's elements to the output partition their key hashes to, as graph tasks (dask's
 * {@code shuffle="tasks"}): one split task per input partition, one pick per (input, output) pair,
 * which runs where the split is and keeps only its bucket, and one task per output partition that
 * takes its buckets. The picks make the graph n_in * n_out tasks but each output fetches only its
 * own bucket.
 */
final class BagShuffle {
    private BagShuffle() {
    }

    /** For each output partition, the list of its buckets (one per input partition), as a graph argument. */
    static List<List<Delayed<Object>>> buckets(List<? extends Delayed<?>> inputs, Fn1<?, ?> key, int nout) {
        List<List<Delayed<Object>>> byOutput = new ArrayList<>(nout);
        for (int j = 0; j < nout; j++) {
            byOutput.add(new ArrayList<>(inputs.size()));
        }
        for (Delayed<?> in : inputs) {
            Delayed<Object> split = Delayed.ofUnchecked(BagOps::split, key, nout, in);
            for (int j = 0; j < nout; j++) {
                byOutput.get(j).add(Delayed.ofUnchecked(BagOps::bucket, split, j));
            }
        }
        return byOutput;
    }
}
