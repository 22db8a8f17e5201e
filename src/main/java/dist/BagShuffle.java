package dist;

import dist.client.BagOps;
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

    /** The output partitions, each {@code finish} of its buckets (in input order). */
    static List<Delayed<Object>> shuffle(List<Side> sides, int nout, Fn1<?, ?> finish) {
        String method = Config.get(METHOD_KEY).trim().toLowerCase(Locale.ROOT);
        return switch (method) {
            case "tasks" -> tasks(sides, nout, finish);
            case "p2p" -> p2p(sides, nout, finish);
            default -> throw new IllegalArgumentException(METHOD_KEY + " must be p2p or tasks, got '" + method + "'");
        };
    }

    private static List<Delayed<Object>> tasks(List<Side> sides, int nout, Fn1<?, ?> finish) {
        List<List<Delayed<Object>>> byOutput = new ArrayList<>(nout);
        for (int j = 0; j < nout; j++) {
            byOutput.add(new ArrayList<>());
        }
        for (Side side : sides) {
            for (Bag.Part in : side.partitions()) {
                Delayed<Object> split = Delayed.ofUnchecked(BagOps::split, side.key(), nout, side.tag(), in.steps(), in.input());
                for (int j = 0; j < nout; j++) {
                    byOutput.get(j).add(Delayed.ofUnchecked(BagOps::bucket, split, j));
                }
            }
        }
        List<Delayed<Object>> out = new ArrayList<>(nout);
        for (List<Delayed<Object>> buckets : byOutput) {
            out.add(Delayed.ofUnchecked(BagOps::finish, finish, buckets));
        }
        return out;
    }

    private static List<Delayed<Object>> p2p(List<Side> sides, int nout, Fn1<?, ?> finish) {
        List<Delayed<Object>> inputs = new ArrayList<>();
        for (Side side : sides) {
            for (Bag.Part in : side.partitions()) {
                inputs.add(Delayed.ofUnchecked(BagOps::p2pShuffleTransfer, nout, side.key(), side.tag(), inputs.size(),
                        in.steps(), in.input()));
            }
        }
        Delayed<Object> barrier = Delayed.ofUnchecked(BagOps::p2pShuffleBarrier, inputs);
        List<Delayed<Object>> out = new ArrayList<>(nout);
        for (int j = 0; j < nout; j++) {
            @SuppressWarnings({"unchecked", "rawtypes"})
            Fn1<Object, Object> unpack = (Fn1) new BagOps.P2PShuffleUnpack(j, (Fn1) finish);
            out.add(Delayed.ofUnchecked(unpack, barrier));
        }
        return out;
    }
}
