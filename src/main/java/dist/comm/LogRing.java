package dist.comm;

import dist.config.Config;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * The newest log records of one role of this process (at most {@code distributed.admin.log-length}),
 * kept so a client can ask for them ({@code Client.schedulerLogs}, {@code Client.workerLogs}). One ring per
 * role and process, on the root java.util.logging logger (System.Logger records reach it too), taking
 * the records its filter accepts: roles in one process share their ring, as dask's in one process share
 * their loggers.
 *
 * <pre>{@code
 * LogRing ring = LogRing.of("scheduler", r -> r.getLoggerName().startsWith("dist.scheduler"));
 * ring.recent(5).forEach(e -> System.out.println(e.logger() + " " + e.message()));
 * }</pre>
 */
public final class LogRing extends Handler {
    /** Config key: how many records each ring keeps. */
    public static final String LENGTH = "distributed.admin.log-length";

    /** One kept record: epoch millis, level name (INFO, WARNING, SEVERE...), logger name, formatted message. */
    public record Entry(long millis, String level, String logger, String message) {}

    private static final Map<String, LogRing> RINGS = new ConcurrentHashMap<>();
    private static final Formatter TEXT = new SimpleFormatter();

    private final Predicate<LogRecord> accept;
    private final int capacity;
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();

    private LogRing(Predicate<LogRecord> accept, int capacity) {
        this.accept = accept;
        this.capacity = capacity;
    }

    /** The ring of {@code role} in this process, installed on the first call with that role's filter. */
    public static LogRing of(String role, Predicate<LogRecord> accept) {
        return RINGS.computeIfAbsent(role, r -> {
            LogRing ring = new LogRing(accept, Config.getInt(LENGTH));
            Logger.getLogger("").addHandler(ring);
            return ring;
        });
    }

    /** Records of loggers named {@code prefix} or below it ({@code dist.worker} takes {@code dist.worker.memory}). */
    public static Predicate<LogRecord> under(String prefix) {
        return r -> {
            String n = r.getLoggerName();
            return n != null && (n.equals(prefix) || n.startsWith(prefix + "."));
        };
    }

    @Override
    public void publish(LogRecord r) {
        if (capacity == 0 || r == null || !accept.test(r)) {
            return;
        }
        String text = TEXT.formatMessage(r);
        if (r.getThrown() != null) {
            text = text + ": " + r.getThrown();
        }
        Entry e = new Entry(r.getMillis(), r.getLevel().getName(), String.valueOf(r.getLoggerName()), text);
        lock.lock();
        try {
            if (entries.size() == capacity) {
                entries.removeFirst();
            }
            entries.addLast(e);
        } finally {
            lock.unlock();
        }
    }

    /** The newest {@code n} records (all with n below 1), newest first. */
    public List<Entry> recent(int n) {
        lock.lock();
        try {
            int want = n < 1 ? entries.size() : Math.min(n, entries.size());
            List<Entry> out = new ArrayList<>(want);
            Iterator<Entry> it = entries.descendingIterator();
            while (out.size() < want && it.hasNext()) {
                out.add(it.next());
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** {@link #recent(int)} as the reply to a {@link dist.protocol.Message.LogsRequest}. */
    public dist.protocol.Message.LogsReply reply(int n) {
        List<Entry> es = recent(n);
        List<Long> millis = new ArrayList<>(es.size());
        List<String> levels = new ArrayList<>(es.size());
        List<String> loggers = new ArrayList<>(es.size());
        List<String> messages = new ArrayList<>(es.size());
        for (Entry e : es) {
            millis.add(e.millis());
            levels.add(e.level());
            loggers.add(e.logger());
            messages.add(e.message());
        }
        return new dist.protocol.Message.LogsReply(millis, levels, loggers, messages);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
