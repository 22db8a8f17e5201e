package dist.dashboard;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** Group colours: stable per name, and never one the page gives a meaning to (red is a transfer). */
class PaletteTest {

    @Test
    void paletteKeepsAwayFromEveryReservedColour() {
        for (String c : Palette.COLOURS) {
            for (String r : Palette.RESERVED.keySet()) {
                double d = deltaE(c, r);
                assertTrue(d >= 25, c + " is " + d + " from " + r + " (" + Palette.RESERVED.get(r) + ")");
            }
            assertTrue(deltaE(c, "#d62728") >= 40, c + " could pass for a transfer");
            double hueFromRed = Math.abs(Math.floorMod((long) Math.round(hue(c) - hue("#d62728")) + 180, 360) - 180);
            assertTrue(hueFromRed >= 25, c + " is a red, " + hueFromRed + " degrees from the transfers'");
        }
        for (int i = 0; i < Palette.COLOURS.size(); i++) {
            for (int j = i + 1; j < Palette.COLOURS.size(); j++) {
                String a = Palette.COLOURS.get(i);
                String b = Palette.COLOURS.get(j);
                assertTrue(deltaE(a, b) >= 30, a + " and " + b + " look alike");
            }
        }
    }

    /** Every colour the page's legends and bars use is in the reserved list, so the palette avoids it. */
    @Test
    void reservedListCoversThePagesColours() throws IOException {
        String css = resource("dashboard.css");
        Set<String> used = new HashSet<>();
        Matcher root = Pattern.compile(":root\\s*\\{([^}]*)}").matcher(css);
        assertTrue(root.find(), "dashboard.css declares its colours in :root");
        used.addAll(hexColours(root.group(1)));
        Matcher legend = Pattern.compile("\\.c-[a-z]+\\s*\\{([^}]*)}").matcher(css);
        while (legend.find()) {
            used.addAll(hexColours(legend.group(1)));
        }
        String js = resource("dashboard.js");
        used.addAll(hexColours(js));
        assertFalse(used.isEmpty());
        for (String c : used) {
            assertTrue(Palette.RESERVED.containsKey(c), c + " has a meaning on the page but is not reserved");
        }
        assertFalse(js.contains("hsl("), "the page picks no colours of its own");
    }

    @Test
    void colourIsStablePerGroupAndSpread() {
        assertEquals(Palette.colour("inc"), Palette.colour(new String("inc".toCharArray())));
        // pinned: String.hashCode is specified, so a group keeps its colour across runs and versions
        assertEquals(Palette.COLOURS.get(Math.floorMod(mix("inc".hashCode()), Palette.COLOURS.size())),
                Palette.colour("inc"));
        Set<String> seen = new HashSet<>();
        for (String g : new String[] {"inc", "dec", "add", "sum", "double", "load", "save", "mul", "neg", "lambda",
                "slowSquare", "square", "map", "reduce", "x", "y", "z", "data", "Other", "finalize"}) {
            String c = Palette.colour(g);
            assertTrue(Palette.COLOURS.contains(c), c);
            assertFalse(Palette.RESERVED.containsKey(c), g + " got reserved " + c);
            seen.add(c);
        }
        assertTrue(seen.size() >= 8, "twenty groups use " + seen.size() + " colours: " + seen);
    }

    private static int mix(int hash) {
        int h = hash * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = PaletteTest.class.getResourceAsStream("/dist/dashboard/" + name)) {
            assertNotNull(in, name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Set<String> hexColours(String text) {
        Set<String> s = new HashSet<>();
        Matcher m = Pattern.compile("#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\\b").matcher(text);
        while (m.find()) {
            s.add(m.group().toLowerCase(Locale.ROOT));
        }
        return s;
    }

    /** HSL hue in degrees. */
    private static double hue(String hex) {
        int rgb = Integer.parseInt(hex.substring(1), 16);
        double r = (rgb >> 16 & 0xff) / 255.0;
        double g = (rgb >> 8 & 0xff) / 255.0;
        double b = (rgb & 0xff) / 255.0;
        double max = Math.max(r, Math.max(g, b));
        double d = max - Math.min(r, Math.min(g, b));
        if (d == 0) {
            return 0;
        }
        double h = max == r ? (g - b) / d % 6 : max == g ? (b - r) / d + 2 : (r - g) / d + 4;
        return (h * 60 + 360) % 360;
    }

    /** CIE76 colour difference in L*a*b* (D65). */
    static double deltaE(String a, String b) {
        double[] x = lab(a);
        double[] y = lab(b);
        return Math.sqrt(Math.pow(x[0] - y[0], 2) + Math.pow(x[1] - y[1], 2) + Math.pow(x[2] - y[2], 2));
    }

    private static double[] lab(String hex) {
        String h = hex.substring(1);
        if (h.length() == 3) {
            h = "" + h.charAt(0) + h.charAt(0) + h.charAt(1) + h.charAt(1) + h.charAt(2) + h.charAt(2);
        }
        double[] lin = new double[3];
        for (int i = 0; i < 3; i++) {
            double c = Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16) / 255.0;
            lin[i] = c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
        }
        double x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047;
        double y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
        double z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883;
        double fx = f(x);
        double fy = f(y);
        double fz = f(z);
        return new double[] {116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)};
    }

    private static double f(double t) {
        return t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16.0 / 116;
    }
}
