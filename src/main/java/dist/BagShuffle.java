package dist;

import dist.client.BagOps;
import dist.client.BagPipeline;
import dist.config.Config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Moves a bag's elements to the output partition their key hashes to, in one of two ways, chosen
 * by {@value #METHOD_KEY} when the bag operation is called (dask's {@code shuffle.method}):
 * <ul>
 *   <li>{@code tasks}: graph tasks only. A split per input, a pick per (input, output) pair, which
 *   runs beside its split and keeps only its bucket, and one task per output that takes its
 *   buckets: n_in * n_out tasks for the scheduler.</li>
 *   <li>{@code p2p}: the scheduler gives each output partition an owner among the workers and
 *   runs its output task there; each input task pushes its encoded shards to the owners, a barrier
 *   task waits for them all, and each output task reads what its worker received: n_in + 1 + n_out
 *   tasks, and the scheduler never sees a shard. A worker lost meanwhile makes the scheduler run
 *   the shuffle again on the others.</li>
 * </ul>
 */
final class BagShuffle {
    static final String METHOD_KEY = "distributed.shuffle.method";

    private BagShuffle() {
    }

    /** One side of a shuffle: partitions (their pending steps run in the input tasks), the key of their elements, and a tag (-1: untagged). */
    record Side(List<Bag.Part> partitions, Fn1<?, ?> key, int tag) {
    }

    /**
     * The output partitions, each {@code finish} of its buckets (in input order). A p2p output is
     * read by the task that consumes it, on its owner: it is never stored as a value of its own
     * unless it is asked for as one.
     */
    static List<Bag.Part> shuffle(List<Side> sides, int nout, Fn1<?, ?> finish) {
        String method = Config.get(METHOD_KEY).trim().toLowerCase(Locale.ROOT);
        return switch (method) {
            case "tasks" -> tasks(sides, nout, finish);
            case "p2p" -> p2p(sides, nout, finish);
            default -> throw new IllegalArgumentException(METHOD_KEY + " must be p2p or tasks, got '" + method + "'");
        };
    }

    private static List<Bag.Part> tasks(List<Side> sides, int nout, Fn1<?, ?> finish) {
        List<List<Delayed<Object>>> byOutput = new ArrayList<>(nout);
        for (int j = 0; j < nout; j++) {
            byOutput.add(new ArrayList<>());
        }
        for (Side side : sides) {
            for (Bag.Part part : side.partitions()) {
                Bag.Part in = part.plain();
                Delayed<Object> split = Delayed.ofUnchecked(BagOps::split, side.key(), nout, side.tag(), in.steps(), in.input());
                for (int j = 0; j < nout; j++) {
                    byOutput.get(j).add(Delayed.ofUnchecked(BagOps::bucket, split, j));
                }
            }
        }
        List<Bag.Part> out = new ArrayList<>(nout);
        for (List<Delayed<Object>> buckets : byOutput) {
            out.add(new Bag.Part(Delayed.ofUnchecked(BagOps::finish, finish, buckets), BagPipeline.NONE));
        }
        return out;
    }

    private static List<Bag.Part> p2p(List<Side> sides, int nout, Fn1<?, ?> finish) {
        List<Delayed<Object>> inputs = new ArrayList<>();
        for (Side side : sides) {
            for (Bag.Part part : side.partitions()) {
                Bag.Part in = part.plain();
                inputs.add(Delayed.ofUnchecked(BagOps::p2pShuffleTransfer, nout, side.key(), side.tag(), inputs.size(),
                        in.steps(), in.input()));
            }
        }
        Delayed<Object> barrier = Delayed.ofUnchecked(BagOps::p2pShuffleBarrier, inputs);
        List<Bag.Part> out = new ArrayList<>(nout);
        for (int j = 0; j < nout; j++) {
            @SuppressWarnings({"unchecked", "rawtypes"})
            Fn1<Object, List<Object>> unpack = (Fn1) new BagOps.P2PShuffleUnpack(j, (Fn1) finish);
            out.add(new Bag.Part(barrier, BagPipeline.from(unpack)));
        }
        return out;
    }
}
