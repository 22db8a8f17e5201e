package dist.comm;

import java.util.concurrent.ScheduledThreadPoolExecutor;

/** One daemon thread for deadlines (handshakes, request timeouts, close linger, keepalive): tasks only flip state. */
final class Timers {
    static final ScheduledThreadPoolExecutor TIMER;
    private static volatile Thread thread;

    static {
        TIMER = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "dist-comm-timer");
            t.setDaemon(true);
            thread = t;
            return t;
        });
        TIMER.setRemoveOnCancelPolicy(true);
    }

    private Timers() {
    }

    /** Whether the caller is the timer thread, which must never wait: every deadline waits behind it. */
    static boolean onTimerThread() {
        return Thread.currentThread() == thread;
    }
}
