package dist;

import dist.serial.Encoded;

import dist.client.Transport;
import dist.protocol.Message;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * In-memory scheduler and workers for client unit tests: records what the client sends and answers
 * requests from tables the test fills.
 */
final class FakeCluster implements Transport.Connector {
    static final String SCHEDULER = "sched:1";

    final List<Message> sent = new CopyOnWriteArrayList<>();
    /** Requests each worker got, in order. */
    final Map<String, List<Message>> workerRequests = new ConcurrentHashMap<>();
    /** Data each worker holds. */
    final Map<String, Map<String, byte[]>> workerData = new ConcurrentHashMap<>();
    /** Workers that refuse connections. */
    final List<String> unreachable = new CopyOnWriteArrayList<>();
    /** The scheduler's answer to WhoHasRequest. */
    volatile Function<List<String>, Map<String, List<String>>> whoHas = keys -> Map.of();
    /** The scheduler's workers. */
    volatile List<Message.WorkerInfo> workers = List.of(new Message.WorkerInfo("w:1", "a", 4, 0, 1, 0, 0, 0));
    /** The scheduler's answer to requests the table above does not cover. */
    volatile Function<Message, Message> schedulerAnswers = m -> new Message.ErrorReply("unexpected " + m);
    /** A worker's answer to requests other than GetData, by worker address. */
    volatile java.util.function.BiFunction<String, Message, Message> workerAnswers =
            (w, m) -> new Message.ErrorReply("unexpected " + m);
    volatile Transport.Inbox clientInbox;
    final List<String> connects = new CopyOnWriteArrayList<>();

    @Override
    public Transport connect(String address, Transport.Inbox inbox) throws IOException {
        connects.add(address);
        if (address.equals(SCHEDULER)) {
            clientInbox = inbox;
            return new Transport() {
                @Override
                public void send(Message message) {
                    sent.add(message);
                }

                @Override
                public CompletableFuture<Message> request(Message message, Duration timeout) {
                    sent.add(message);
                    return CompletableFuture.completedFuture(switch (message) {
                        case Message.RegisterClient r -> new Message.Ack();
                        case Message.WhoHasRequest r -> new Message.WhoHasReply(whoHas.apply(r.keys()));
                        case Message.WorkersRequest r -> new Message.WorkersReply(workers);
                        default -> schedulerAnswers.apply(message);
                    });
                }

                @Override
                public void close() {
                }
            };
        }
        if (unreachable.contains(address)) {
            throw new IOException("connection refused: " + address);
        }
        return new Transport() {
            @Override
            public void send(Message message) {
                workerRequests.computeIfAbsent(address, a -> new CopyOnWriteArrayList<>()).add(message);
            }

            @Override
            public CompletableFuture<Message> request(Message message, Duration timeout) {
                send(message);
                if (!(message instanceof Message.GetData)) {
                    return CompletableFuture.completedFuture(workerAnswers.apply(address, message));
                }
                Map<String, byte[]> held = workerData.getOrDefault(address, Map.of());
                Map<String, Encoded> out = new ConcurrentHashMap<>();
                for (String k : ((Message.GetData) message).keys()) {
                    if (held.containsKey(k)) {
                        out.put(k, Encoded.of(held.get(k)));
                    }
                }
                return CompletableFuture.completedFuture(new Message.DataReply(out));
            }

            @Override
            public void close() {
            }
        };
    }

    /** Delivers a message from the scheduler to the client. */
    void push(Message m) {
        clientInbox.onMessage(m);
    }

    <M extends Message> List<M> sentOf(Class<M> type) {
        List<M> out = new ArrayList<>();
        for (Message m : sent) {
            if (type.isInstance(m)) {
                out.add(type.cast(m));
            }
        }
        return out;
    }

    /** Waits (bounded) until a message of {@code type} was sent; returns all sent of that type. */
    <M extends Message> List<M> awaitSent(Class<M> type, int count) throws InterruptedException {
        Wait.until(Duration.ofSeconds(10), () -> sentOf(type).size() >= count);
        return sentOf(type);
    }
}
