package dist.protocol;

/**
 * A task key's group name, as dask's {@code key_split}: the scheduler groups tasks by it and a worker
 * names the group its profile samples and flight-recorder events belong to.
 *
 * <pre>{@code
 * String group = KeySplit.split("inc-3f2a9c");   // "inc"
 * }</pre>
 */
public final class KeySplit {
    private KeySplit() {
    }

    /**
     * The group name of {@code key}, as dask's {@code key_split}: the leading dash-separated words made
     * of letters only, so hashes, uuids and indices drop off ("inc-3f2a..." and "add-&lt;uuid&gt;" are
     * "inc" and "add", "hello-world-1" is "hello-world"). An eight-letter word that starts like hex
     * ends the name too (the first part of a uuid may have no digit); a 32-hex-digit name is "data";
     * a tuple-like key ("('x', 1)") is stripped to "x"; a Java-like {@code <pkg.Cls object at ...>} is
     * "Cls"; an empty or unreadable key is "Other".
     */
    public static String split(String key) {
        int n = end(key);
        if (n >= 0) {
            return key.substring(0, n);
        }
        if (key == null || key.isEmpty()) {
            return "Other";
        }
        int dash = key.indexOf('-');
        String result = dash < 0 ? key : key.substring(0, dash);
        if (result.isEmpty()) {
            return "Other";
        }
        if (!Character.isLetter(result.codePointAt(0))) {
            int comma = result.indexOf(',');
            result = strip(comma < 0 ? result : result.substring(0, comma), "_'()\"");
        }
        if (dash >= 0) {
            result += key.substring(dash, nameEnd(key, dash));
        }
        if (result.isEmpty()) {
            return "Other";
        }
        if (isData(result, result.length())) {
            return "data";
        }
        if (result.charAt(0) == '<') {
            String[] words = strip(result, "<>").trim().split("\\s+");
            if (words[0].isEmpty()) {
                return "Other";
            }
            result = words[0].substring(words[0].lastIndexOf('.') + 1);
        }
        return result;
    }

    /**
     * Length of {@link #split}'s name when it is the start of {@code key} (the common case, found
     * without allocating), else -1.
     */
    public static int end(String key) {
        if (key == null || key.isEmpty() || !Character.isLetter(key.codePointAt(0))) {
            return -1;
        }
        int dash = key.indexOf('-');
        int n = dash < 0 ? key.length() : nameEnd(key, dash);
        return isData(key, n) ? -1 : n;
    }

    /** Where the name ends: past the words after the first (dash at {@code dash}) that stay in it. */
    private static int nameEnd(String key, int dash) {
        int end = dash;
        while (end < key.length()) {
            int next = key.indexOf('-', end + 1);
            int stop = next < 0 ? key.length() : next;
            if (!namePart(key, end + 1, stop)) {
                break;
            }
            end = stop;
        }
        return end;
    }

    /** Python's {@code word.isalpha() and not (len(word) == 8 and word starts with a-f)}. */
    private static boolean namePart(String s, int from, int to) {
        if (from >= to) {
            return false;
        }
        for (int i = from; i < to; ) {
            int c = s.codePointAt(i);
            if (!Character.isLetter(c)) {
                return false;
            }
            i += Character.charCount(c);
        }
        char first = s.charAt(from);
        return !(s.codePointCount(from, to) == 8 && first >= 'a' && first <= 'f');
    }

    /** Whether the first {@code n} characters of {@code s} are 32 lower-case hex digits (a content hash). */
    private static boolean isData(String s, int n) {
        if (n != 32) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    /** Python's {@code s.strip(chars)}. */
    private static String strip(String s, String chars) {
        int from = 0;
        int to = s.length();
        while (from < to && chars.indexOf(s.charAt(from)) >= 0) {
            from++;
        }
        while (to > from && chars.indexOf(s.charAt(to - 1)) >= 0) {
            to--;
        }
        return s.substring(from, to);
    }
}
