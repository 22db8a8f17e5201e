package dist.dashboard;

import dist.protocol.Message.ProfileFrame;
import dist.protocol.Message.ProfileTree;

import java.util.ArrayList;
import java.util.List;

/**
 * The dashboard's {@code /profile} page: the workers' merged profile as a flame graph in plain inline
 * SVG, root ("all") at the top, each frame as wide as its share of the samples, its callees below it.
 * A frame's tooltip names it with its sample count.
 */
final class FlameGraph {
    static final int WIDTH = 1200;
    static final int ROW = 18;
    /** Frames narrower than this many pixels are left out: they cannot be seen or pointed at. */
    static final double MIN_WIDTH = 0.5;

    private FlameGraph() {
    }

    static String page(ProfileTree tree, String group) {
        StringBuilder b = new StringBuilder();
        b.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>dist profile</title>")
                .append("<link rel=\"stylesheet\" href=\"/static/dashboard.css\"></head><body>")
                .append("<h1>Profile").append(group == null ? "" : " of " + escape(group)).append("</h1>");
        List<ProfileFrame> f = tree.frames();
        long total = f.isEmpty() ? 0 : f.get(0).count();
        b.append("<p id=\"profile-summary\">").append(total).append(" samples");
        if (!tree.groups().isEmpty()) {
            b.append(" of task groups ");
            for (int i = 0; i < tree.groups().size(); i++) {
                String g = tree.groups().get(i);
                b.append(i == 0 ? "" : ", ").append("<a href=\"/profile?group=").append(urlEscape(g)).append("\">")
                        .append(escape(g)).append("</a>");
            }
            if (group != null) {
                b.append(" (<a href=\"/profile\">all</a>)");
            }
        }
        b.append("</p>");
        b.append(svg(f));
        b.append("</body></html>");
        return b.toString();
    }

    /** The flame graph of a preorder tree (index 0 the root); an empty profile is an empty drawing. */
    static String svg(List<ProfileFrame> f) {
        int n = f.size();
        int[] depth = new int[n];
        double[] x = new double[n];
        double[] next = new double[n]; // where a frame's next child starts
        double[] w = new double[n];
        int maxDepth = 0;
        double total = n == 0 ? 0 : Math.max(1, f.get(0).count());
        List<String> rects = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ProfileFrame fr = f.get(i);
            int p = fr.parent();
            if (p < 0) {
                x[i] = 0;
                depth[i] = 0;
            } else {
                x[i] = next[p];
                depth[i] = depth[p] + 1;
            }
            w[i] = WIDTH * fr.count() / total;
            next[i] = x[i];
            if (p >= 0) {
                next[p] += w[i];
            }
            if (w[i] < MIN_WIDTH) {
                continue;
            }
            maxDepth = Math.max(maxDepth, depth[i]);
            String title = escape(fr.frame()) + " (" + fr.count() + " samples, "
                    + String.format(java.util.Locale.ROOT, "%.1f", 100.0 * fr.count() / total) + "%)";
            StringBuilder r = new StringBuilder();
            r.append("<g class=\"frame\"><title>").append(title).append("</title><rect x=\"")
                    .append(fmt(x[i])).append("\" y=\"").append(depth[i] * ROW).append("\" width=\"").append(fmt(w[i]))
                    .append("\" height=\"").append(ROW - 1).append("\" fill=\"").append(color(fr.frame())).append("\"/>");
            if (w[i] > 40) {
                int chars = (int) ((w[i] - 6) / 7);
                String label = fr.frame().length() > chars ? fr.frame().substring(0, Math.max(0, chars - 1)) + "…" : fr.frame();
                r.append("<text x=\"").append(fmt(x[i] + 3)).append("\" y=\"").append(depth[i] * ROW + 13)
                        .append("\" font-size=\"12\" font-family=\"monospace\">").append(escape(label)).append("</text>");
            }
            r.append("</g>");
            rects.add(r.toString());
        }
        int height = n == 0 ? ROW : (maxDepth + 1) * ROW;
        StringBuilder b = new StringBuilder();
        b.append("<svg id=\"flamegraph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH)
                .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ')
                .append(height).append("\">");
        rects.forEach(b::append);
        b.append("</svg>");
        return b.toString();
    }

    /** A warm colour per class, the same on every page. */
    private static String color(String frame) {
        int paren = frame.indexOf('(');
        String method = paren < 0 ? frame : frame.substring(0, paren);
        int dot = method.lastIndexOf('.');
        int h = (dot < 0 ? method : method.substring(0, dot)).hashCode();
        int hue = Math.floorMod(h, 50);
        int light = 55 + Math.floorMod(h >> 8, 20);
        return "hsl(" + hue + ",80%," + light + "%)";
    }

    private static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.2f", v);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String urlEscape(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }
}
