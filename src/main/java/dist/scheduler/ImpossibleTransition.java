package dist.scheduler;

/**
 * A task was asked to move along an edge the scheduler's transition table does not have: a bug in
 * the scheduler, never a peer's mistake. The message names the key, both states and the event that
 * asked, e.g. {@code impossible transition of x: processing -> no-worker (no such edge), asked by
 * TaskFinished from 10.0.0.1:9000}.
 */
final class ImpossibleTransition extends IllegalStateException {
    final String key;
    final String from;
    final String to;
    final String event;

    ImpossibleTransition(String key, byte from, byte to, String event) {
        super("impossible transition of " + key + ": " + TaskState.name(from) + " -> " + TaskState.name(to)
                + " (no such edge), asked by " + event);
        this.key = key;
        this.from = TaskState.name(from);
        this.to = TaskState.name(to);
        this.event = event;
    }
}
