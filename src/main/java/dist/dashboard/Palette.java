package dist.dashboard;

import java.util.List;
import java.util.Map;

/**
 * Colours of task groups in the task stream: picked from a fixed palette by the group's name, so a
 * group keeps its colour across polls, pages and restarts. The palette leaves out the colours the
 * page gives a meaning to ({@link #RESERVED}): red is a transfer, near-black an erred task, and the
 * progress bars' blues and greys and the CPU and memory lines keep theirs.
 */
final class Palette {
    /** Colours with a meaning on the page (dashboard.css and dashboard.js), by what they mean. */
    static final Map<String, String> RESERVED = Map.ofEntries(
            Map.entry("#d62728", "transfer"),
            Map.entry("#111", "erred"),
            Map.entry("#1f4e9c", "in memory"),
            Map.entry("#9ec5f0", "released"),
            Map.entry("#c8c8c8", "waiting"),
            Map.entry("#8c8c8c", "processing"),
            Map.entry("#e377c2", "CPU"),
            Map.entry("#2ca02c", "memory use"),
            Map.entry("#eee", "lane lines"),
            Map.entry("#ccc", "axis"));

    /**
     * Twelve hues, each at least 25 CIE76 dE from every reserved colour, 40 from the transfer red and
     * 30 from each other, none within 25 degrees of red's hue (checked by a test).
     */
    static final List<String> COLOURS = List.of(
            "#ff7f0e", "#e6ab02", "#98df8a", "#1b9e77", "#17becf", "#3182bd",
            "#6a3d9a", "#b07aa1", "#a6761d", "#637939", "#e5c494", "#ffed6f");

    private Palette() {
    }

    /** The colour of {@code group}: the same on every call and every run (String.hashCode is specified). */
    static String colour(String group) {
        int h = group.hashCode() * 0x9E3779B9; // spreads names that differ in one letter
        return COLOURS.get(Math.floorMod(h ^ (h >>> 16), COLOURS.size()));
    }
}
