package dist.scheduler;

/**
 * One span's totals at the scheduler, for dashboards: its id ("etl#3f2a"), name, the span it is nested in
 * ("" for none), tasks submitted in it, tasks still known, compute seconds and failed runs the workers
 * reported, bytes its tasks hold in memory now, whether no task of it is left, and the seconds and bytes
 * its tasks' inputs took to fetch from peers (the workers' fine metrics, about half a second behind).
 *
 * <pre>{@code
 * for (SpanTotals s : state.view().spans()) System.out.println(s.name() + " " + s.computeSeconds());
 * }</pre>
 */
public record SpanTotals(String id, String name, String parent, long tasks, long active, double computeSeconds,
                         long errors, long memoryBytes, boolean done, double transferSeconds,
                         long transferBytes) {
}
