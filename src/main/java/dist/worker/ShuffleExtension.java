package dist.worker;

import dist.protocol.Message;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Hands a peer's shuffle output task the shards this worker keeps for it (dask's shuffle worker
 * plugin, the pull half): each shard once, then it is dropped here.
 */
final class ShuffleExtension implements WorkerExtension {
    private WorkerServices worker;

    @Override
    public void start(WorkerServices worker) {
        this.worker = worker;
    }

    @Override
    public Set<Class<? extends Message>> requests() {
        return Set.of(Message.ShuffleFetch.class);
    }

    @Override
    public Message answer(Message request) throws IOException {
        Message.ShuffleFetch f = (Message.ShuffleFetch) request;
        ShuffleStore store = worker.server().shuffleStore();
        List<byte[]> out = new ArrayList<>(f.stores().size());
        for (String id : f.stores()) {
            byte[] shard = store.take(id, f.partition());
            if (shard == null) {
                throw new IOException("shuffle shard " + id + "/" + f.partition() + " is not on " + worker.address());
            }
            out.add(shard);
        }
        return new Message.ShuffleShards(out);
    }
}
