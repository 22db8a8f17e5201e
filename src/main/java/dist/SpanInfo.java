package dist;

/**
 * A span's totals at the scheduler (see {@link Client#spans()}): its id, name and enclosing span's id
 * ("" when none), tasks submitted in it (spans inside it included), tasks the scheduler still knows,
 * compute seconds and failed runs the workers reported, bytes its tasks hold in memory now, whether
 * no task of it is left, and the seconds and bytes that fetching its tasks' inputs from other workers took
 * (reported by the workers about twice a second, so a little behind).
 *
 * <pre>{@code
 * client.spans().forEach(s -> System.out.println(s.name() + ": " + s.tasks() + " tasks, " + s.computeSeconds() + " s"));
 * }</pre>
 */
public record SpanInfo(String id, String name, String parent, long tasks, long active, double computeSeconds,
                       long errors, long memoryBytes, boolean done, double transferSeconds, long transferBytes) {
}
