package dist;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * How many samples the workers' profiler took over time ({@link Client#profileCounts}), as dask's
 * {@code get_profile_metadata}: one entry an interval, intervals without samples counted 0, so a
 * cluster gone quiet ends in zeros.
 *
 * <pre>{@code
 * ProfileCounts c = client.profileCounts(Duration.ofSeconds(1));
 * for (int i = 0; i < c.times().size(); i++) {
 *     System.out.println(c.times().get(i) + " " + c.counts().get(i) + " samples");
 * }
 * List<Long> inc = c.groups().get("inc");    // the samples of task group "inc", interval by interval
 * }</pre>
 *
 * @param times  each interval's start, in order, one interval apart
 * @param counts the samples of all tasks in each interval
 * @param groups per task group that has samples, its samples in each interval (as long as {@code times})
 */
public record ProfileCounts(List<Instant> times, List<Long> counts, Map<String, List<Long>> groups) {

    public ProfileCounts {
        times = List.copyOf(times);
        counts = List.copyOf(counts);
        groups = Map.copyOf(groups);
    }

    static ProfileCounts of(dist.protocol.Message.ProfileCounts c) {
        return new ProfileCounts(c.times().stream().map(Instant::ofEpochMilli).toList(), c.counts(), c.groups());
    }
}
