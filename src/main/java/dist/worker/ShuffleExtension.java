package dist.worker;

import dist.protocol.Message;

import java.io.IOException;
import java.util.Set;

/**
 * Keeps the shards a peer's shuffle input pushes to this worker for the output partitions it owns
 * (dask's shuffle worker plugin, the receiving half), answering with this worker's run of the
 * shuffle: a send of an earlier run is refused, so its sender asks for the new owners.
 */
final class ShuffleExtension implements WorkerExtension {
    private WorkerServices worker;

    @Override
    public void start(WorkerServices worker) {
        this.worker = worker;
    }

    @Override
    public Set<Class<? extends Message>> requests() {
        return Set.of(Message.ShufflePush.class);
    }

    @Override
    public Message answer(Message request) throws IOException {
        Message.ShufflePush p = (Message.ShufflePush) request;
        if (p.partitions().size() != p.shards().size()) {
            throw new IOException("a shuffle push of " + p.partitions().size() + " partitions and " + p.shards().size() + " shards");
        }
        return new Message.ShufflePushed(worker.server().shuffleStore().accept(p.shuffle(), p.run(), p.input(),
                p.partitions(), p.shards()));
    }
}
