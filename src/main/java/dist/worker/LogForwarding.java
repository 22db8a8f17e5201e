package dist.worker;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.ForwardLogging;
import dist.protocol.Message.TaskLog;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Forwards the records tasks log to a java.util.logging logger to the clients that asked
 * ({@code Client.forwardLogging}): one handler per logger, sending each record a task logs at a
 * client's level or above to that client, by way of the scheduler.
 */
final class LogForwarding implements WorkerExtension {
    private WorkerServices worker;
    /** By logger name: the handler installed there. */
    private final Map<String, Forwarder> forwarders = new ConcurrentHashMap<>();

    @Override
    public void start(WorkerServices worker) {
        this.worker = worker;
    }

    @Override
    public Set<Class<? extends Message>> requests() {
        return Set.of(ForwardLogging.class);
    }

    @Override
    public Message answer(Message request) {
        ForwardLogging f = (ForwardLogging) request;
        if (f.clientId() == null || f.logger() == null) {
            throw new IllegalArgumentException("ForwardLogging needs a client id and a logger name");
        }
        if (f.on()) {
            forwarders.computeIfAbsent(f.logger(), name -> {
                Forwarder h = new Forwarder(name);
                h.target.addHandler(h);
                return h;
            }).clients.put(f.clientId(), f.level());
        } else {
            forwarders.computeIfPresent(f.logger(), (name, h) -> {
                h.clients.remove(f.clientId());
                if (!h.clients.isEmpty()) {
                    return h;
                }
                h.target.removeHandler(h);
                return null;
            });
        }
        return new Ack();
    }

    /** The handler on one logger: client id to the least level it wants. */
    private final class Forwarder extends Handler {
        final String logger;
        /**
         * Held here: the LogManager keeps named loggers only weakly, and a logger collected with this
         * handler on it would come back, at the task's next getLogger, without it.
         */
        final Logger target;
        final Map<String, Integer> clients = new ConcurrentHashMap<>();

        Forwarder(String logger) {
            this.logger = logger;
            this.target = Logger.getLogger(logger);
        }

        @Override
        public void publish(LogRecord r) {
            if (TaskContext.current() == null) {
                return; // the worker's own records, and other roles' in this process, stay here
            }
            String text = null;
            for (Map.Entry<String, Integer> c : clients.entrySet()) {
                if (r.getLevel().intValue() >= c.getValue()) {
                    text = text != null ? text : text(r);
                    // under the record's own logger name, so the client's handlers of that logger see it
                    String name = r.getLoggerName() == null ? logger : r.getLoggerName();
                    worker.report(new TaskLog(c.getKey(), name, r.getLevel().intValue(), text));
                }
            }
        }

        private static String text(LogRecord r) {
            String message = new java.util.logging.SimpleFormatter().formatMessage(r);
            if (r.getThrown() == null) {
                return message;
            }
            StringWriter w = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(w));
            return message + System.lineSeparator() + w;
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
