package dist.worker;

import dist.comm.LogRing;
import dist.protocol.Message;

import java.util.Set;

/**
 * Answers a client's {@link Message.LogsRequest} with this process's newest worker log records
 * ({@code Client.workerLogs}): those of the dist.worker loggers and those tasks logged, to any logger.
 */
final class LogsExtension implements WorkerExtension {
    private LogRing ring;

    @Override
    public void start(WorkerServices worker) {
        ring = ring();
    }

    /** The worker ring of this process, installed on first use. */
    static LogRing ring() {
        return LogRing.of("worker", LogRing.under("dist.worker").or(r -> TaskContext.current() != null));
    }

    @Override
    public Set<Class<? extends Message>> requests() {
        return Set.of(Message.LogsRequest.class);
    }

    @Override
    public Message answer(Message request) {
        return ring.reply(((Message.LogsRequest) request).n());
    }
}
