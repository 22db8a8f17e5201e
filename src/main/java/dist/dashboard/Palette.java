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

    /** Each at least 25 CIE76 ΔE from every reserved colour and 40 from the transfer red (checked by a test). */
    static final List<String> COLOURS = List.of(
            "#3182bd", "#ff7f0e", "#9467bd", "#8c564b", "#bcbd22", "#17becf",
            "#ffbb78", "#98df8a", "#7b4173", "#e7ba52", "#637939", "#8c6d31");

    private Palette() {
    }

    /** The colour of {@code group}: the same on every call and every run (String.hashCode is specified). */
    static String colour(String group) {
        int h = group.hashCode() * 0x9E3779B9; // spreads names that differ in one letter
        return COLOURS.get(Math.floorMod(h ^ (h >>> 16), COLOURS.size()));
    }
}
