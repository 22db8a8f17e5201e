package dist.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;

/**
 * One line per log record for the command line, e.g.
 * {@code 2026-12-07 02:05:39.123 INFO    scheduler: worker joined: 127.0.0.1:40321 (alice, 1 thread, pid 4711)},
 * with a throwable's stack below it, instead of the JDK's two lines per record.
 *
 * <p>Only the command line installs it ({@link #install()} from {@code dist.Main.main}), and only when
 * java.util.logging was not configured by a system property: as a library (a LocalCluster in an
 * application) dist leaves the application's logging alone.
 */
public final class LogFormat extends java.util.logging.Formatter {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
            .withZone(ZoneId.systemDefault());

    /**
     * Puts this format on the root logger's console handlers, unless {@code java.util.logging.config.file}
     * or {@code java.util.logging.config.class} is set; returns whether it did.
     */
    public static boolean install() {
        if (System.getProperty("java.util.logging.config.file") != null
                || System.getProperty("java.util.logging.config.class") != null) {
            return false;
        }
        boolean any = false;
        for (Handler h : LogManager.getLogManager().getLogger("").getHandlers()) {
            if (h instanceof ConsoleHandler) {
                h.setFormatter(new LogFormat());
                any = true;
            }
        }
        return any;
    }

    @Override
    public String format(LogRecord r) {
        StringBuilder b = new StringBuilder(128);
        b.append(TIME.format(r.getInstant())).append(' ');
        String level = level(r.getLevel());
        b.append(level).append(" ".repeat(Math.max(1, 8 - level.length())));
        b.append(shortName(r.getLoggerName())).append(": ").append(formatMessage(r)).append(System.lineSeparator());
        if (r.getThrown() != null) {
            StringWriter w = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(w));
            b.append(w);
        }
        return b.toString();
    }

    /** System.Logger's names (ERROR, DEBUG), which dist logs with, rather than JUL's (SEVERE, FINE). */
    static String level(Level l) {
        int v = l.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return "ERROR";
        }
        if (v >= Level.WARNING.intValue()) {
            return "WARNING";
        }
        if (v >= Level.INFO.intValue()) {
            return "INFO";
        }
        if (v >= Level.FINE.intValue()) {
            return "DEBUG";
        }
        return "TRACE";
    }

    /** "dist.scheduler" → "scheduler"; another library's "org.example.Thing" → "Thing". */
    static String shortName(String logger) {
        if (logger == null || logger.isEmpty()) {
            return "root";
        }
        if (logger.startsWith("dist.")) {
            return logger.substring(5);
        }
        return logger.substring(logger.lastIndexOf('.') + 1);
    }
}
