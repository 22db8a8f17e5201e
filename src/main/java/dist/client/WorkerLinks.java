package dist.client;

import dist.protocol.Message;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

/** A client's connections to workers, for fetching results and placing data: one per worker, opened on first use. */
final class WorkerLinks {
    private final Transport.Connector connector;
    /** Whether the client closed: a connection that opens after is closed at once. */
    private final BooleanSupplier closed;
    private final ConcurrentHashMap<String, CompletableFuture<Transport>> links = new ConcurrentHashMap<>();

    WorkerLinks(Transport.Connector connector, BooleanSupplier closed) {
        this.connector = connector;
        this.closed = closed;
    }

    /** A request to a worker, made on a virtual thread (connecting may block); never on the caller. */
    CompletableFuture<Message> request(String worker, Message m, Duration timeout) {
        CompletableFuture<Transport> open = links.get(worker);
        if (open != null && open.isDone() && !open.isCompletedExceptionally()) {
            return open.join().request(m, timeout); // open already: no thread needed to send
        }
        CompletableFuture<Message> out = new CompletableFuture<>();
        Thread.ofVirtual().name("dist-request-" + worker).start(() -> {
            try {
                link(worker).request(m, timeout).whenComplete((r, e) -> {
                    if (e != null) {
                        out.completeExceptionally(e);
                    } else {
                        out.complete(r);
                    }
                });
            } catch (Throwable e) {
                out.completeExceptionally(e);
            }
        });
        return out;
    }

    /** One connection per worker, opened on first use and reused. */
    private Transport link(String worker) throws IOException, InterruptedException {
        CompletableFuture<Transport> mine = new CompletableFuture<>();
        CompletableFuture<Transport> existing = links.putIfAbsent(worker, mine);
        if (existing != null) {
            try {
                return existing.get();
            } catch (ExecutionException e) {
                throw new IOException("cannot reach worker " + worker + ": " + e.getCause().getMessage(), e.getCause());
            }
        }
        try {
            Transport t = connector.connect(worker, new Transport.Inbox() {
                @Override
                public void onMessage(Message message) {
                }

                @Override
                public void onClose(Throwable cause) {
                    links.remove(worker, mine);
                }
            });
            mine.complete(t);
            if (closed.getAsBoolean()) {
                t.close();
            }
            return t;
        } catch (IOException | RuntimeException e) {
            links.remove(worker, mine);
            mine.completeExceptionally(e);
            throw e;
        }
    }

    /** Closes the connection to a worker that failed a request: the next request opens a fresh one. */
    void drop(String worker) {
        CompletableFuture<Transport> cf = links.remove(worker);
        if (cf != null && cf.isDone() && !cf.isCompletedExceptionally()) {
            cf.join().close();
        }
    }

    /** Closes every connection, those still opening too once they open. */
    void closeAll() {
        for (CompletableFuture<Transport> cf : links.values()) {
            cf.thenAccept(Transport::close);
        }
        links.clear();
    }
}
