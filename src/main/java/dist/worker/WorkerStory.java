package dist.worker;

import dist.protocol.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * What this worker did with each task, in a bounded lock-free ring of small records: one allocation
 * per step and no text until someone asks for a story. {@link WorkerMachine} writes it from its
 * thread; a story may be read from any thread. It reads no clock: times are the values the machine
 * was given.
 */
final class WorkerStory {
    static final byte RECEIVED = 0, FETCHING = 1, FETCHED = 2, FETCH_FAILED = 3, EXECUTING = 4, DONE = 5, ERRED = 6,
            RELEASED = 7, STEAL_ASKED = 8, DATA_ADDED = 9;

    /** One step of a key: what happened ({@code what}, one of the constants above) at time value {@code nanos}. */
    record Step(String key, byte what, long nanos, String peer, long amount, String text) {}

    private final AtomicReferenceArray<Step> ring;
    private final AtomicLong next = new AtomicLong();

    WorkerStory(int capacity) {
        ring = new AtomicReferenceArray<>(capacity);
    }

    void add(String key, byte what, long nanos, String peer, long amount, String text) {
        if (key == null) {
            return;
        }
        long s = next.getAndIncrement();
        ring.lazySet((int) (s % ring.length()), new Step(key, what, nanos, peer, amount, text));
    }

    /** The steps kept for {@code key}, oldest first; safe from any thread. */
    List<Step> steps(String key) {
        long end = next.get();
        List<Step> steps = new ArrayList<>();
        for (long s = Math.max(0, end - ring.length()); s < end; s++) {
            Step st = ring.get((int) (s % ring.length()));
            if (st != null && key.equals(st.key())) {
                steps.add(st);
            }
        }
        steps.sort(java.util.Comparator.comparingLong(Step::nanos));
        return steps;
    }

    /**
     * {@code steps} as a story told by worker {@code where}; {@code epochMicrosAtZero} is the wall
     * clock, in microseconds, when the steps' time values were 0.
     */
    static Message.StoryReply reply(List<Step> steps, String where, long epochMicrosAtZero) {
        List<String> w = new ArrayList<>();
        List<String> events = new ArrayList<>();
        List<Long> times = new ArrayList<>();
        List<String> details = new ArrayList<>();
        for (Step st : steps) {
            w.add(where);
            events.add(describe(st));
            times.add(st.nanos() / 1000 + epochMicrosAtZero);
            details.add(detail(st));
        }
        return new Message.StoryReply(w, events, times, details);
    }

    private static String describe(Step s) {
        return switch (s.what()) {
            case RECEIVED -> "received from the scheduler";
            case FETCHING -> "fetching from " + s.peer();
            case FETCHED -> "fetched from " + s.peer();
            case FETCH_FAILED -> "fetch from " + s.peer() + " failed";
            case EXECUTING -> "executing";
            case DONE -> "memory";
            case ERRED -> "erred";
            case RELEASED -> "released";
            case STEAL_ASKED -> "steal requested";
            case DATA_ADDED -> "stored (scattered or replicated)";
            default -> "step " + s.what();
        };
    }

    private static String detail(Step s) {
        return switch (s.what()) {
            case FETCHED, DONE, DATA_ADDED -> s.amount() + " bytes";
            case ERRED, FETCH_FAILED -> s.text() == null ? "" : s.text();
            default -> "";
        };
    }
}
