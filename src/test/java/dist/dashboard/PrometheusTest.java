package dist.dashboard;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The text exposition format's escaping and special values. */
class PrometheusTest {

    @Test
    void labelValuesAndHelpAreEscaped() {
        String text = new Prometheus().help("dist_x", "gauge", "A \\ back\nslash.")
                .sample("dist_x", 1, "worker", "tcp://a\"b\\c\nd").toString();
        assertEquals("# HELP dist_x A \\\\ back\\nslash.\n# TYPE dist_x gauge\n"
                + "dist_x{worker=\"tcp://a\\\"b\\\\c\\nd\"} 1\n", text);
    }

    @Test
    void specialValuesAreWrittenAsPrometheusReadsThem() {
        String text = new Prometheus().sample("a", Double.POSITIVE_INFINITY).sample("b", Double.NEGATIVE_INFINITY)
                .sample("c", Double.NaN).sample("d", 0.25).sample("e", 3).toString();
        assertEquals("a +Inf\nb -Inf\nc NaN\nd 0.25\ne 3\n", text);
    }
}
