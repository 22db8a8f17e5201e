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
 * The worker's half of the peer-to-peer shuffle, called by shuffle tasks: an input task keeps its
 * shards on its own worker ({@link #keep}); an output task pulls its partition's shard of every
 * input from the workers that keep them, one request per worker ({@link #collect}). Only bytes pass
 * here; the tasks encode and decode. Internal: public for the client layer's shuffle tasks.
 */
public final class ShuffleService {
    private ShuffleService() {
    }

    /** Where one input task's shards are kept: the value of a shuffle input task. */
    public record Shards(String worker, String store) implements Serializable {
    }

    /** Keeps one shard per output partition on this worker, in memory up to its memory target, else on disk. */
    public static Shards keep(byte[][] shards) throws IOException {
        TaskContext ctx = running();
        WorkerServer w = ctx.server();
        return new Shards(w.address(), w.shuffleStore().put(ctx.key(), shards));
    }

    /**
     * Output partition {@code partition}'s shard of each input, in the order of {@code inputs}. A
     * worker that cannot hand over its shards (lost, or they were taken by an earlier run of this
     * task) is reported to the scheduler, which runs the shuffle again; then this fails, and the
     * scheduler, which has moved on, ignores that failure.
     */
    public static List<byte[]> collect(List<Shards> inputs, int partition) throws Exception {
        TaskContext ctx = running();
        WorkerServer w = ctx.server();
        Map<String, List<Integer>> byWorker = new LinkedHashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            byWorker.computeIfAbsent(inputs.get(i).worker(), k -> new ArrayList<>()).add(i);
        }
        byte[][] out = new byte[inputs.size()][];
        Map<String, CompletableFuture<Message>> asked = new LinkedHashMap<>();
        for (Map.Entry<String, List<Integer>> e : byWorker.entrySet()) {
            List<String> ids = new ArrayList<>(e.getValue().size());
            for (int i : e.getValue()) {
                ids.add(inputs.get(i).store());
            }
            if (e.getKey().equals(w.address())) {
                continue;
            }
            try {
                Connection c = w.peerConnection(e.getKey());
                asked.put(e.getKey(), c.request(new Message.ShuffleFetch(ids, partition)));
            } catch (IOException ex) {
                throw lost(ctx, w, e.getKey(), ex.toString());
            }
        }
        List<Integer> local = byWorker.get(w.address());
        if (local != null) {
            for (int i : local) {
                out[i] = w.shuffleStore().take(inputs.get(i).store(), partition);
                if (out[i] == null) {
                    throw lost(ctx, w, w.address(), "shard " + inputs.get(i).store() + "/" + partition + " is gone");
                }
            }
        }
        long timeout = w.requestTimeout().toMillis();
        for (Map.Entry<String, CompletableFuture<Message>> e : asked.entrySet()) {
            Message reply;
            try {
                reply = e.getValue().get(timeout, TimeUnit.MILLISECONDS);
            } catch (Exception ex) {
                throw lost(ctx, w, e.getKey(), ex.toString());
            }
            if (!(reply instanceof Message.ShuffleShards shards)) {
                throw lost(ctx, w, e.getKey(), String.valueOf(reply));
            }
            List<Integer> idx = byWorker.get(e.getKey());
            for (int k = 0; k < idx.size(); k++) {
                out[idx.get(k)] = shards.shards().get(k);
            }
        }
        return List.of(out);
    }

    /** Bytes of shuffle shards this worker wrote to disk since it started: {@code client.run(ShuffleService::spilledBytes)}. */
    public static long spilledBytes() {
        WorkerServer w = WorkerServer.current();
        return w == null ? 0 : w.shuffleStore().spilledBytes();
    }

    private static IllegalStateException lost(TaskContext ctx, WorkerServer w, String peer, String why) throws Exception {
        Message answer = w.askScheduler(new Message.ShufflePeerLost(ctx.key(), peer))
                .get(w.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        return new IllegalStateException("shuffle data on " + peer + " cannot be read (" + why + "); the scheduler answered "
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
