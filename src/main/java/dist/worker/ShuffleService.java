package dist.worker;

import dist.comm.Connection;
import dist.protocol.Message;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The worker's half of the peer-to-peer shuffle, called by shuffle tasks (dask's shuffle worker
 * plugin): an input task asks the scheduler who owns each output partition and pushes its shards
 * to those workers, batched, with a bound on the bytes in flight to each ({@link #send}); an output
 * task reads what its worker received ({@link #collect}). Only bytes pass here; the tasks encode
 * and decode. Internal: public for the client layer's shuffle tasks.
 */
public final class ShuffleService {
    /** Shards per push message, at most (one larger shard goes alone). */
    static final long BATCH_BYTES = 4L << 20;
    /** Bytes sent to one destination and not yet acknowledged, at most, per sending worker. */
    static final long IN_FLIGHT_BYTES = 32L << 20;
    /** Owner answers one input asks for before it gives up (each after a restart or a refused send). */
    static final int MAX_ROUNDS = 20;

    private ShuffleService() {
    }

    /** The value of a shuffle input task: the shuffle it fed and the run its shards went to. */
    public record Sent(String shuffle, int run) implements Serializable {
    }

    /** The value of a shuffle barrier: every input's shards are with their owners in {@code run}. */
    public record Ready(String shuffle, int run, int inputs) implements Serializable {
    }

    /**
     * Sends input {@code input}'s shards (one per output partition) to the partitions' owners and
     * returns once they all acknowledged. A refused send (the shuffle runs again meanwhile) or an
     * owner that cannot be reached makes it ask the scheduler again, which restarts the shuffle if
     * it must, and send everything to the new owners.
     */
    public static Sent send(int input, byte[][] shards) throws Exception {
        TaskContext ctx = running();
        WorkerServer w = ctx.server();
        long timeout = w.requestTimeout().toMillis();
        int run = 0;
        String unreachable = null;
        for (int round = 0; round < MAX_ROUNDS; round++) {
            Message a = w.askScheduler(new Message.ShuffleGetOwners(ctx.key(), run, unreachable, shards.length))
                    .get(timeout, TimeUnit.MILLISECONDS);
            if (!(a instanceof Message.ShuffleOwners o) || o.owners().isEmpty()) {
                throw new IllegalStateException("the scheduler has no owners for the shuffle of " + ctx.key()
                        + " (it failed, or was forgotten): " + a);
            }
            if (o.owners().size() != shards.length) {
                throw new IllegalStateException("the shuffle has " + o.owners().size() + " output partitions, this input cut "
                        + shards.length);
            }
            run = o.run();
            unreachable = null;
            String failed = pushAll(w, o, input, shards);
            if (failed == null) {
                return new Sent(o.shuffle(), run);
            }
            if (!failed.isEmpty()) {
                unreachable = failed;
            }
        }
        throw new IllegalStateException("the shards of " + ctx.key() + " found no owners in " + MAX_ROUNDS + " runs");
    }

    /** Null when every owner kept its shards; "" when one refused them as stale; else an owner not reached. */
    private static String pushAll(WorkerServer w, Message.ShuffleOwners o, int input, byte[][] shards) throws Exception {
        Map<String, List<Integer>> byOwner = new LinkedHashMap<>();
        for (int j = 0; j < shards.length; j++) {
            byOwner.computeIfAbsent(o.owners().get(j), k -> new ArrayList<>()).add(j);
        }
        long timeout = w.requestTimeout().toMillis();
        ShuffleSends sends = w.shuffleSends();
        List<CompletableFuture<Message>> asked = new ArrayList<>();
        List<String> to = new ArrayList<>();
        String stale = null;
        try {
            for (Map.Entry<String, List<Integer>> e : byOwner.entrySet()) {
                String owner = e.getKey();
                List<Integer> parts = new ArrayList<>();
                List<byte[]> batch = new ArrayList<>();
                long size = 0;
                List<Integer> all = e.getValue();
                for (int k = 0; k < all.size(); k++) {
                    int j = all.get(k);
                    parts.add(j);
                    batch.add(shards[j]);
                    size += shards[j].length;
                    if (size < BATCH_BYTES && k < all.size() - 1) {
                        continue;
                    }
                    Message.ShufflePush push = new Message.ShufflePush(o.shuffle(), o.run(), input, parts, batch);
                    if (owner.equals(w.address())) {
                        if (w.shuffleStore().accept(o.shuffle(), o.run(), input, parts, batch) != o.run()) {
                            stale = "";
                        }
                    } else {
                        long bytes = size;
                        if (!sends.acquire(owner, bytes, timeout)) {
                            return owner; // nothing acknowledged within the timeout
                        }
                        CompletableFuture<Message> f;
                        try {
                            Connection c = w.peerConnection(owner);
                            f = c.request(push);
                        } catch (IOException ex) {
                            sends.release(owner, bytes);
                            return owner;
                        }
                        f.whenComplete((m, ex) -> sends.release(owner, bytes));
                        asked.add(f);
                        to.add(owner);
                    }
                    parts = new ArrayList<>();
                    batch = new ArrayList<>();
                    size = 0;
                }
            }
            for (int i = 0; i < asked.size(); i++) {
                Message reply;
                try {
                    reply = asked.get(i).get(timeout, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex) {
                    return to.get(i);
                }
                if (!(reply instanceof Message.ShufflePushed p)) {
                    return to.get(i);
                }
                if (p.run() != o.run()) {
                    stale = "";
                }
            }
            return stale;
        } finally {
            for (CompletableFuture<Message> f : asked) {
                f.cancel(false); // a left one releases its bytes
            }
        }
    }

    /**
     * Waits for every input (the barrier's dependencies): all sent to the same run, that run is
     * ready. Inputs of different runs (one finished just as the shuffle restarted) make the
     * scheduler run it again; then this fails, and the scheduler, which has moved on, ignores that.
     */
    public static Ready barrier(List<Sent> inputs) throws Exception {
        Sent first = inputs.getFirst();
        for (Sent s : inputs) {
            if (s.run() != first.run() || !s.shuffle().equals(first.shuffle())) {
                TaskContext ctx = running();
                throw lost(ctx, ctx.server(), "", "inputs sent to runs " + first.run() + " and " + s.run());
            }
        }
        return new Ready(first.shuffle(), first.run(), inputs.size());
    }

    /**
     * Output partition {@code partition}'s shard of each input, in input order, from what this
     * worker received. Missing shards (a run that is not this worker's any more: dropped by a
     * restart, or because every output was done before this one was asked for again) are reported
     * to the scheduler, which runs the shuffle again; then this fails.
     */
    public static List<byte[]> collect(Ready ready, int partition) throws Exception {
        TaskContext ctx = running();
        WorkerServer w = ctx.server();
        List<byte[]> got = w.shuffleStore().take(ready.shuffle(), ready.run(), partition, ready.inputs());
        if (got == null) {
            throw lost(ctx, w, "", "partition " + partition + " of run " + ready.run() + " is not all here (this worker is at run "
                    + w.shuffleStore().run(ready.shuffle()) + ")");
        }
        return got;
    }

    /** Bytes of shuffle shards this worker wrote to disk since it started: {@code client.run(ShuffleService::spilledBytes)}. */
    public static long spilledBytes() {
        WorkerServer w = WorkerServer.current();
        return w == null ? 0 : w.shuffleStore().spilledBytes();
    }

    /**
     * Output partitions whose shards this worker holds now, over every shuffle: 0 once its shuffles
     * ended or were released. {@code client.run(ShuffleService::heldPartitions)}.
     */
    public static int heldPartitions() {
        WorkerServer w = WorkerServer.current();
        return w == null ? 0 : w.shuffleStore().partitionCount();
    }

    private static IllegalStateException lost(TaskContext ctx, WorkerServer w, String peer, String why) throws Exception {
        Message answer = w.askScheduler(new Message.ShufflePeerLost(ctx.key(), peer))
                .get(w.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        return new IllegalStateException("shuffle data for " + ctx.key() + " is incomplete (" + why + "); the scheduler answered "
                + answer.getClass().getSimpleName() + " and runs the shuffle again");
    }

    private static TaskContext running() {
        TaskContext ctx = TaskContext.current();
        if (ctx == null) {
            throw new IllegalStateException("a shuffle task runs only as a task on a worker");
        }
        return ctx;
    }
}
