package dist;

import java.time.Instant;

/**
 * One step in a task's story, as {@link Client#story(String)} returns it.
 *
 * <pre>{@code
 * for (StoryEvent e : client.story(future.key())) {
 *     System.out.println(e);   // 12:00:01.234 scheduler: waiting -> processing (127.0.0.1:40123)
 * }
 * }</pre>
 *
 * @param key    the task
 * @param where  "scheduler", or the address of the worker where it happened
 * @param event  what happened: a state change on the scheduler ("waiting -> processing") or a
 *               worker's step ("received from the scheduler", "fetching from host:port", "executing", "memory")
 * @param time   when, by the clock of the process where it happened
 * @param detail the worker concerned, a size, or an error; empty when none
 */
public record StoryEvent(String key, String where, String event, Instant time, String detail) {
    @Override
    public String toString() {
        return time + " " + where + ": " + event + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")");
    }
}
