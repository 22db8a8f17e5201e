package dist.client;

/**
 * Names for data placement on the client: key prefixes for summaries, and which workers a
 * restriction names. Where data goes is the scheduler's decision. Internal.
 */
public final class Placement {
    private Placement() {
    }

    /**
     * A key's readable prefix for {@code nbytes} summaries: its words up to the first that looks
     * like a hash or a number ({@code inc-3f1c...} gives {@code inc}, {@code my-data-7} gives {@code my-data}).
     */
    public static String keyPrefix(String key) {
        String[] words = key.split("-");
        StringBuilder b = new StringBuilder();
        for (String w : words) {
            if (!b.isEmpty() && (w.isEmpty() || looksGenerated(w))) {
                break;
            }
            if (!b.isEmpty()) {
                b.append('-');
            }
            b.append(w);
        }
        return b.toString();
    }

    private static boolean looksGenerated(String w) {
        if (w.chars().allMatch(Character::isDigit)) {
            return true;
        }
        return w.length() >= 4 && w.chars().allMatch(c -> Character.digit(c, 16) >= 0)
                && w.chars().anyMatch(Character::isDigit);
    }

    /** Whether a worker (address, its name) matches a restriction: address, host (any port) or name. */
    public static boolean matches(String address, String name, String restriction) {
        if (restriction.equals(address) || restriction.equals(name)) {
            return true;
        }
        int colon = address.lastIndexOf(':');
        return colon > 0 && restriction.equals(address.substring(0, colon));
    }
}
