package dist;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The decisions of adaptive scaling, as dask's AdaptiveCore makes them: wishes in, actions out, time a value. */
class AdaptiveCoreTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static Set<String> names(String... n) {
        return new LinkedHashSet<>(List.of(n));
    }

    private static Instant t(int s) {
        return T0.plusSeconds(s);
    }

    @Test
    void upAtOnceToTheWishClampedToTheMaximum() {
        AdaptiveCore c = new AdaptiveCore(1, 4, 3);
        assertEquals(new AdaptiveCore.Up(4), c.step(t(0), 20, names("w0"), names("w0"), List.of()));
        assertEquals(4, c.target());
        assertEquals(1, c.events().size());
        Adaptive.ScaleEvent e = c.events().get(0);
        assertEquals(t(0), e.time());
        assertEquals(1, e.from());
        assertEquals(4, e.to());
        assertTrue(e.reason().contains("20"), e.reason());
    }

    @Test
    void upToTheMinimumWhenTheSchedulerWantsNone() {
        AdaptiveCore c = new AdaptiveCore(2, 4, 3);
        assertEquals(new AdaptiveCore.Up(2), c.step(t(0), 0, names(), names(), List.of()));
        assertEquals(new AdaptiveCore.Same(), c.step(t(1), 0, names("a", "b"), names("a", "b"), List.of()));
    }

    /** dask: test_adaptive_core.py::test_safe_target — no wish keeps the minimum, a wish of ten is kept to the maximum. */
    @Test
    void theWishIsKeptWithinTheBounds() {
        AdaptiveCore c = new AdaptiveCore(1, 4, 3);
        assertEquals(1, c.clamp(0));
        assertEquals(4, c.clamp(10));
        assertEquals(new AdaptiveCore.Up(1), c.step(t(0), 0, names(), names(), List.of()));
        assertEquals(1, c.target());
        assertEquals(new AdaptiveCore.Up(4), c.step(t(1), 10, names("0"), names("0"), List.of()));
        assertEquals(4, c.target());
    }

    /**
     * dask: test_adaptive_core.py::test_scale_up — from nothing up to the minimum, one event "up
     * to 1"; a wish of ten goes up to the maximum, one event "up to 4".
     */
    @Test
    void upToTheMinimumThenToTheMaximum() {
        AdaptiveCore c = new AdaptiveCore(1, 4, 3);
        assertEquals(new AdaptiveCore.Up(1), c.step(t(0), 0, names(), names(), List.of()));
        assertEquals(1, c.events().getLast().to());
        assertEquals(0, c.events().getLast().from());
        assertEquals(new AdaptiveCore.Up(4), c.step(t(1), 10, names("0"), names("0"), List.of()));
        assertEquals(2, c.events().size());
        assertEquals(1, c.events().getLast().from());
        assertEquals(4, c.events().getLast().to());
    }

    /**
     * dask: test_adaptive_core.py::test_scale_down — four planned, one never arrived, a wish of two:
     * nothing after one interval, after the second (wait count 2) down by two, the one that never
     * arrived among them; then, at two, nothing more happens.
     */
    @Test
    void downAfterTheWaitCountWithTheWorkerThatNeverArrivedFirst() {
        AdaptiveCore c = new AdaptiveCore(1, 4, 2);
        assertEquals(new AdaptiveCore.Up(4), c.step(t(0), 10, names(), names(), List.of()));
        assertEquals(1, c.events().size());
        Set<String> plan = names("0", "1", "2", "3");
        Set<String> observed = names("0", "1", "3"); // all but 2 have arrived
        assertEquals(new AdaptiveCore.Same(), c.step(t(1), 2, plan, observed, List.of("3")));
        assertEquals(1, c.events().size(), "no change after only one call");
        AdaptiveCore.Action down = c.step(t(2), 2, plan, observed, List.of("3"));
        assertEquals(2, c.events().size());
        assertInstanceOf(AdaptiveCore.Down.class, down);
        List<String> gone = ((AdaptiveCore.Down) down).workers();
        assertEquals(2, gone.size(), gone.toString());
        assertTrue(gone.contains("2"), gone.toString());
        assertEquals(4, c.events().getLast().from());
        assertEquals(2, c.events().getLast().to());
        List<Adaptive.ScaleEvent> old = c.events();
        Set<String> two = names("0", "1");
        for (int i = 3; i < 7; i++) {
            assertEquals(new AdaptiveCore.Same(), c.step(t(i), 2, two, two, List.of()));
        }
        assertEquals(old, c.events());
    }

    /** Wish above the plan, below it, at it: only a wish below counts toward closing. */
    @Test
    void downOnlyAfterWaitCountRecommendationsInARow() {
        AdaptiveCore c = new AdaptiveCore(0, 10, 3);
        Set<String> four = names("a", "b", "c", "d");
        assertEquals(new AdaptiveCore.Same(), c.step(t(0), 2, four, four, List.of("d", "c")));
        assertEquals(new AdaptiveCore.Same(), c.step(t(1), 2, four, four, List.of("d", "c")));
        assertEquals(new AdaptiveCore.Down(List.of("d", "c")), c.step(t(2), 2, four, four, List.of("d", "c")));
        Adaptive.ScaleEvent e = c.events().get(0);
        assertEquals(4, e.from());
        assertEquals(2, e.to());
    }

    /** dask: test_adaptive.py::test_avoid_churn — a wish for more clears the counts. */
    @Test
    void aBurstBetweenLullsClearsTheCounts() {
        AdaptiveCore c = new AdaptiveCore(0, 10, 3);
        Set<String> two = names("a", "b");
        assertEquals(new AdaptiveCore.Same(), c.step(t(0), 1, two, two, List.of("b")));
        assertEquals(new AdaptiveCore.Same(), c.step(t(1), 1, two, two, List.of("b")));
        assertEquals(new AdaptiveCore.Same(), c.step(t(2), 2, two, two, List.of()));
        assertEquals(new AdaptiveCore.Same(), c.step(t(3), 1, two, two, List.of("b")));
        assertEquals(new AdaptiveCore.Same(), c.step(t(4), 1, two, two, List.of("b")));
        assertEquals(new AdaptiveCore.Down(List.of("b")), c.step(t(5), 1, two, two, List.of("b")));
        assertEquals(1, c.events().size());
    }

    @Test
    void aWorkerNoLongerRecommendedStartsItsCountAgain() {
        AdaptiveCore c = new AdaptiveCore(0, 10, 2);
        Set<String> three = names("a", "b", "c");
        assertEquals(new AdaptiveCore.Same(), c.step(t(0), 2, three, three, List.of("c")));
        assertEquals(new AdaptiveCore.Same(), c.step(t(1), 2, three, three, List.of("b")));
        assertEquals(new AdaptiveCore.Down(List.of("b")), c.step(t(2), 2, three, three, List.of("b")));
    }

    /** dask: AdaptiveCore.recommendations: requested workers that never arrived go first. */
    @Test
    void workersThatNeverArrivedGoFirst() {
        AdaptiveCore c = new AdaptiveCore(0, 10, 1);
        Set<String> plan = names("a", "b", "c");
        assertEquals(new AdaptiveCore.Down(List.of("c")), c.step(t(0), 2, plan, names("a", "b"), List.of("a")));
    }

    @Test
    void neverBelowTheMinimumNorAboveTheMaximum() {
        AdaptiveCore c = new AdaptiveCore(2, 3, 1);
        Set<String> three = names("a", "b", "c");
        assertEquals(new AdaptiveCore.Same(), c.step(t(0), 100, three, three, List.of()));
        assertEquals(new AdaptiveCore.Down(List.of("c")), c.step(t(1), 0, three, three, List.of("c", "b")));
        assertEquals(2, c.target());
        Set<String> two = names("a", "b");
        assertEquals(new AdaptiveCore.Same(), c.step(t(2), 0, two, two, List.of("b")));
    }

    @Test
    void badBoundsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveCore(3, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveCore(-1, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveCore(0, 2, 0));
    }
}
