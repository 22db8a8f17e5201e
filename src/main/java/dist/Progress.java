package dist;

import java.io.Console;
import java.io.PrintStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A console progress bar over futures, as dask's {@code progress}:
 * {@code [####################                    ] | 50% Completed | 1.7s}.
 * On a terminal it redraws in place; otherwise (a log, a pipe) it prints a line at every 10% step.
 * It returns once every future is done (finished, failed, cancelled or lost).
 *
 * <pre>{@code
 * List<Future<Integer>> fs = client.map(Demo::slow, inputs);
 * Progress.progress(fs);
 * }</pre>
 */
public final class Progress {
    /** Characters between the brackets. */
    public static final int WIDTH = 40;
    private static final long REDRAW_MILLIS = 100;

    private Progress() {
    }

    /** Shows progress on standard output until every future is done. */
    public static void progress(Collection<? extends Future<?>> futures) {
        progress(futures, System.out, isTerminal());
    }

    /** Shows progress on {@code out}; {@code redraw}: in place with '\r' (a terminal), else a line per 10%. */
    public static void progress(Collection<? extends Future<?>> futures, PrintStream out, boolean redraw) {
        List<Future<?>> fs = new ArrayList<>(futures);
        int total = fs.size();
        AtomicInteger done = new AtomicInteger();
        for (Future<?> f : fs) {
            f.state.done.thenRun(done::incrementAndGet);
        }
        long start = System.nanoTime();
        int lastStep = -1;
        while (true) {
            int n = Math.min(total, done.get() + released(fs));
            double fraction = total == 0 ? 1.0 : (double) n / total;
            double seconds = (System.nanoTime() - start) / 1e9;
            boolean finished = n >= total;
            if (redraw) {
                out.print("\r" + bar(fraction, seconds));
                if (finished) {
                    out.println();
                }
                out.flush();
            } else {
                int step = (int) Math.floor(fraction * 10);
                if (step > lastStep) {
                    out.println(bar(fraction, seconds));
                    lastStep = step;
                }
            }
            if (finished) {
                return;
            }
            try {
                Thread.sleep(REDRAW_MILLIS);
            } catch (InterruptedException e) {
                throw Calls.interrupted("the progress of " + total + " futures", e);
            }
        }
    }

    /** Released futures will never finish here: count them as done so progress always returns. */
    private static int released(List<Future<?>> fs) {
        int r = 0;
        for (Future<?> f : fs) {
            if (f.isReleased() && !f.isDone()) {
                r++;
            }
        }
        return r;
    }

    /** One rendering of the bar, e.g. {@code [#####     ...] | 50% Completed | 1.7s}. */
    public static String bar(double fraction, double seconds) {
        double f = Math.max(0, Math.min(1, fraction));
        int filled = (int) Math.floor(f * WIDTH);
        return "[" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] | "
                + String.format(Locale.ROOT, "%d%% Completed | %.1fs", (int) Math.floor(f * 100), seconds);
    }

    /**
     * Whether standard output is a terminal: a console exists and, on JDK 22 and later where a console
     * may exist without one, {@code Console.isTerminal()} says so (looked up at run time, as this
     * library compiles for JDK 21).
     */
    static boolean isTerminal() {
        Console c = System.console();
        if (c == null) {
            return false;
        }
        try {
            MethodHandle h = MethodHandles.publicLookup().findVirtual(Console.class, "isTerminal",
                    MethodType.methodType(boolean.class));
            return (boolean) h.invoke(c);
        } catch (NoSuchMethodException | IllegalAccessException e) {
            return true; // JDK 21: a console is only there for a terminal
        } catch (Throwable t) {
            return false;
        }
    }
}
