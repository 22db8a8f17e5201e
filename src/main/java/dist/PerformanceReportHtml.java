package dist;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** Writes a {@link PerformanceReport}'s page: plain HTML, inline SVG, CSS and a short script. */
final class PerformanceReportHtml {
    private static final int WIDTH = 1200;
    private static final int ROW = 22;
    private static final int LEFT = 170;
    private static final int PROFILE_ROWS = 40;

    private PerformanceReportHtml() {
    }

    static String render(Instant started, Instant stopped, List<TaskStream.Task> tasks, List<TaskStream.Transfer> transfers,
                         List<TaskStream.GroupTime> times, List<SpanInfo> spans, Map<String, Long> profile) {
        return render(started, stopped, tasks, transfers, times, spans, profile, "");
    }

    /** The page with {@code more} (sections in HTML) before the spans. */
    static String render(Instant started, Instant stopped, List<TaskStream.Task> tasks, List<TaskStream.Transfer> transfers,
                         List<TaskStream.GroupTime> times, List<SpanInfo> spans, Map<String, Long> profile, String more) {
        StringBuilder b = new StringBuilder(64 * 1024);
        TreeSet<String> workers = new TreeSet<>();
        tasks.forEach(t -> workers.add(t.worker()));
        transfers.forEach(t -> workers.add(t.worker()));
        b.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>dist performance report</title>\n")
                .append("<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:22px}")
                .append("h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}table{border-collapse:collapse}")
                .append("td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child")
                .append("{text-align:left}.unmeasured{color:#999}.note{color:#666;font-size:12px}svg text{font:11px sans-serif}")
                .append("rect.task:hover,rect.transfer:hover{stroke:#000}#tooltip{font-family:monospace;min-height:1.3em}</style>\n")
                .append("</head><body>\n<h1>dist performance report</h1>\n<p>From ").append(started).append(" to ")
                .append(stopped).append(" (").append(seconds(Duration.between(started, stopped))).append(" s): <b id=\"task-count\">")
                .append(tasks.size()).append("</b> tasks on <b id=\"worker-count\">").append(workers.size())
                .append("</b> workers, <b id=\"transfer-count\">").append(transfers.size()).append("</b> transfers.</p>\n");
        taskStream(b, started, stopped, tasks, transfers, workers);
        groups(b, tasks, transfers, times);
        bandwidth(b, transfers);
        b.append(more);
        spans(b, spans);
        profile(b, profile);
        b.append("<script>\n(function(){var bars=document.querySelectorAll('#task-stream rect.task');")
                .append("var total=0;bars.forEach(function(r){total+=parseFloat(r.getAttribute('data-seconds'))||0;});")
                .append("document.getElementById('rendered-tasks').textContent=String(bars.length);")
                .append("document.getElementById('total-compute').textContent=total.toFixed(3);")
                .append("var tip=document.getElementById('tooltip');document.querySelectorAll('#task-stream rect')")
                .append(".forEach(function(r){r.addEventListener('mouseover',function(){tip.textContent=")
                .append("r.getAttribute('data-what');});});})();\n</script>\n</body></html>\n");
        return b.toString();
    }

    private static void taskStream(StringBuilder b, Instant started, Instant stopped, List<TaskStream.Task> tasks,
                                   List<TaskStream.Transfer> transfers, TreeSet<String> workers) {
        Instant from = started;
        Instant to = stopped;
        for (TaskStream.Task t : tasks) {
            from = t.start().isBefore(from) ? t.start() : from;
            to = t.stop().isAfter(to) ? t.stop() : to;
        }
        double span = Math.max(1e-6, Duration.between(from, to).toNanos() / 1e9);
        double scale = (WIDTH - LEFT - 10) / span;
        List<String> rows = new ArrayList<>(workers);
        int height = Math.max(1, rows.size()) * ROW * 2 + 30;
        b.append("<h2>Task stream</h2>\n<p class=\"note\">One lane per worker: computations above, the fetches it made")
                .append(" from peers below (red). Bars drawn by the page's script: <b id=\"rendered-tasks\">0</b>,")
                .append(" compute seconds in them: <b id=\"total-compute\">0</b>.</p>\n<div id=\"tooltip\"></div>\n")
                .append("<svg id=\"task-stream\" width=\"").append(WIDTH)
                .append("\" height=\"").append(height).append("\">\n");
        for (int i = 0; i < rows.size(); i++) {
            b.append("<text x=\"2\" y=\"").append(i * ROW * 2 + 15).append("\">").append(esc(rows.get(i))).append("</text>\n");
        }
        for (TaskStream.Task t : tasks) {
            int row = rows.indexOf(t.worker());
            double x = LEFT + Duration.between(from, t.start()).toNanos() / 1e9 * scale;
            double w = Math.max(1, t.duration().toNanos() / 1e9 * scale);
            double secs = t.duration().toNanos() / 1e9;
            b.append("<rect class=\"task\" x=\"").append(fmt(x)).append("\" y=\"").append(row * ROW * 2 + 3)
                    .append("\" width=\"").append(fmt(w)).append("\" height=\"").append(ROW - 4).append("\" fill=\"")
                    .append(t.erred() ? "#000" : colour(t.group())).append("\" data-seconds=\"").append(fmt(secs))
                    .append("\" data-what=\"").append(esc(t.key() + " on " + t.worker() + ": " + fmt(secs * 1000) + " ms"
                            + (t.erred() ? ", failed" : ""))).append("\"><title>").append(esc(t.key())).append("</title></rect>\n");
        }
        for (TaskStream.Transfer t : transfers) {
            int row = rows.indexOf(t.worker());
            if (t.stop().isBefore(from) || t.start().isAfter(to)) {
                continue;
            }
            double x = LEFT + Math.max(0, Duration.between(from, t.start()).toNanos() / 1e9 * scale);
            double w = Math.max(1, t.duration().toNanos() / 1e9 * scale);
            b.append("<rect class=\"transfer\" x=\"").append(fmt(x)).append("\" y=\"").append(row * ROW * 2 + ROW + 3)
                    .append("\" width=\"").append(fmt(w)).append("\" height=\"").append(ROW - 8)
                    .append("\" fill=\"#d62728\" data-what=\"").append(esc(t.worker() + " fetched " + t.bytes() + " B from "
                            + t.from())).append("\"></rect>\n");
        }
        b.append("</svg>\n");
    }

    private static void groups(StringBuilder b, List<TaskStream.Task> tasks, List<TaskStream.Transfer> transfers,
                               List<TaskStream.GroupTime> times) {
        // per group: tasks, compute s, then the workers' fine metrics (0 when they reported none)
        Map<String, double[]> g = new TreeMap<>();
        for (TaskStream.Task t : tasks) {
            double[] a = g.computeIfAbsent(t.group(), k -> new double[9]);
            a[0]++;
            a[1] += t.duration().toNanos() / 1e9;
        }
        for (TaskStream.GroupTime t : times) {
            double[] a = g.computeIfAbsent(t.group(), k -> new double[9]);
            a[2] = t.transferSeconds();
            a[3] = t.transferBytes();
            a[4] = t.waitingSeconds();
            a[5] = t.spillSeconds();
            a[6] = t.spillBytes();
            a[7] = t.serializationSeconds();
            a[8] = t.computeSeconds();
        }
        double transferSeconds = 0;
        long transferBytes = 0;
        for (TaskStream.Transfer t : transfers) {
            transferSeconds += t.duration().toNanos() / 1e9;
            transferBytes += t.bytes();
        }
        b.append("<h2>Time per task group</h2>\n<p class=\"note\">As the workers measured it: compute is the task's")
                .append(" own code (the run's whole time, decoding included, in brackets); transfer, fetching its inputs")
                .append(" from peers; waiting, ready on a worker until a slot ran it; spill, writing results to disk and")
                .append(" reading them back; serialization, encoding results and decoding inputs. Workers report about")
                .append(" twice a second.</p>\n<table id=\"groups\"><tr><th>group</th><th>tasks</th>")
                .append("<th>compute s</th><th>transfer s</th><th>waiting s</th><th>spill s</th><th>serialization s</th></tr>\n");
        double[] all = new double[9];
        for (Map.Entry<String, double[]> e : g.entrySet()) {
            double[] a = e.getValue();
            for (int i = 0; i < a.length; i++) {
                all[i] += a[i];
            }
            b.append("<tr class=\"group\"><td><span style=\"color:").append(colour(e.getKey())).append("\">&#9632;</span> ")
                    .append(esc(e.getKey())).append("</td>");
            measured(b.append("<td>").append((long) a[0]).append("</td>"), a);
            b.append("</tr>\n");
        }
        measured(b.append("<tr id=\"all-groups\"><td><b>all groups</b></td><td>").append(tasks.size()).append("</td>"), all);
        b.append("</tr>\n</table>\n<p class=\"note\">All fetches: ").append(fmt(transferSeconds)).append(" s, ")
                .append(transferBytes).append(" B.</p>\n");
    }

    /** The five measured cells of a group's row (see {@link #groups}). */
    private static void measured(StringBuilder b, double[] a) {
        b.append("<td class=\"compute\">").append(fmt(a[8])).append(" (").append(fmt(a[1])).append(")</td>")
                .append("<td class=\"transfer\">").append(fmt(a[2])).append(" (").append((long) a[3]).append(" B)</td>")
                .append("<td class=\"waiting\">").append(fmt(a[4])).append("</td>")
                .append("<td class=\"spill\">").append(fmt(a[5])).append(" (").append((long) a[6]).append(" B)</td>")
                .append("<td class=\"serialization\">").append(fmt(a[7])).append("</td>");
    }

    private static void bandwidth(StringBuilder b, List<TaskStream.Transfer> transfers) {
        Map<String, double[]> pairs = new TreeMap<>();
        for (TaskStream.Transfer t : transfers) {
            double[] a = pairs.computeIfAbsent(t.from() + "\u0000" + t.worker(), k -> new double[3]);
            a[0] += t.bytes();
            a[1] += t.duration().toNanos() / 1e9;
            a[2]++;
        }
        b.append("<h2>Bandwidth between workers</h2>\n");
        if (pairs.isEmpty()) {
            b.append("<p id=\"bandwidth\">No worker fetched data from another during this block.</p>\n");
            return;
        }
        b.append("<table id=\"bandwidth\"><tr><th>from</th><th>to</th><th>fetches</th><th>bytes</th><th>seconds</th>")
                .append("<th>MB/s</th></tr>\n");
        for (Map.Entry<String, double[]> e : pairs.entrySet()) {
            String[] ft = e.getKey().split("\u0000", 2);
            double[] a = e.getValue();
            b.append("<tr><td>").append(esc(ft[0])).append("</td><td>").append(esc(ft[1])).append("</td><td>")
                    .append((long) a[2]).append("</td><td>").append((long) a[0]).append("</td><td>").append(fmt(a[1]))
                    .append("</td><td>").append(a[1] > 0 ? fmt(a[0] / a[1] / 1e6) : "-").append("</td></tr>\n");
        }
        b.append("</table>\n");
    }

    private static void spans(StringBuilder b, List<SpanInfo> spans) {
        b.append("<h2>Spans</h2>\n");
        if (spans.isEmpty()) {
            b.append("<p id=\"spans\">No span was opened (Client.span).</p>\n");
            return;
        }
        b.append("<table id=\"spans\"><tr><th>span</th><th>in</th><th>tasks</th><th>left</th><th>compute s</th>")
                .append("<th>transfer s</th><th>transfer B</th><th>errors</th><th>memory B</th></tr>\n");
        for (SpanInfo s : spans) {
            b.append("<tr><td>").append(esc(s.name())).append("</td><td>").append(esc(s.parent())).append("</td><td>")
                    .append(s.tasks()).append("</td><td>").append(s.active()).append("</td><td>")
                    .append(fmt(s.computeSeconds())).append("</td><td>").append(fmt(s.transferSeconds())).append("</td><td>")
                    .append(s.transferBytes()).append("</td><td>").append(s.errors()).append("</td><td>")
                    .append(s.memoryBytes()).append("</td></tr>\n");
        }
        b.append("</table>\n");
    }

    private static void profile(StringBuilder b, Map<String, Long> profile) {
        b.append("<h2>Profile</h2>\n");
        if (profile.isEmpty()) {
            b.append("<p id=\"profile\">no profile collected</p>\n");
            return;
        }
        long total = profile.values().stream().mapToLong(Long::longValue).sum();
        Map<String, Long> leaves = new LinkedHashMap<>();
        profile.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
                .limit(PROFILE_ROWS).forEach(e -> leaves.put(e.getKey(), e.getValue()));
        b.append("<table id=\"profile\"><tr><th>stack (innermost last)</th><th>samples</th><th>share</th></tr>\n");
        for (Map.Entry<String, Long> e : leaves.entrySet()) {
            double share = total == 0 ? 0 : e.getValue() * 100.0 / total;
            b.append("<tr><td>").append(esc(e.getKey().replace(";", " \u2192 "))).append("</td><td>").append(e.getValue())
                    .append("</td><td><svg width=\"120\" height=\"10\"><rect width=\"").append(fmt(share * 1.2))
                    .append("\" height=\"10\" fill=\"#1f77b4\"></rect></svg> ").append(fmt(share)).append(" %</td></tr>\n");
        }
        b.append("</table>\n");
    }

    private static String colour(String group) {
        int h = Math.floorMod(group.hashCode() * 0x9E3779B1, 360);
        return "hsl(" + h + ",65%,50%)";
    }

    private static String seconds(Duration d) {
        return fmt(d.toNanos() / 1e9);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
