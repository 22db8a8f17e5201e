package dist.comm;

import java.util.concurrent.ScheduledThreadPoolExecutor;

/** One daemon thread for deadlines (handshakes, request timeouts, close linger): tasks only flip state. */
final class Timers {
    static final ScheduledThreadPoolExecutor TIMER;

    static {
        TIMER = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "dist-comm-timer");
            t.setDaemon(true);
            return t;
        });
        TIMER.setRemoveOnCancelPolicy(true);
    }

    private Timers() {
    }
}
