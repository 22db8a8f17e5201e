package dist.examples;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Runs an example program by name: {@code ./run.sh example NAME [ARGS]} runs
 * {@code dist.examples.<Name>.main(ARGS)}; names match without regard to case, '-' or '_'
 * ({@code wordcount}, {@code word-count} and {@code WordCount} are one).
 */
public final class Examples {
    /** The examples a new user can run. */
    public static final List<String> NAMES = List.of("WordCount", "TreeReduction", "PreemptibleWorkers", "Quickstart", "BagShuffle");

    private Examples() {
    }

    /** The class name for {@code name}, or null when no example has it. */
    public static String resolve(String name) {
        String want = name.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
        for (String n : NAMES) {
            if (n.toLowerCase(Locale.ROOT).equals(want)) {
                return "dist.examples." + n;
            }
        }
        return null;
    }

    public static void main(String[] args) throws Throwable {
        String cls = args.length == 0 ? null : resolve(args[0]);
        if (cls == null) {
            System.err.println((args.length == 0 ? "" : "no example named '" + args[0] + "'\n")
                    + "usage: ./run.sh example NAME [ARGS]\n  examples: "
                    + String.join(", ", NAMES.stream().map(s -> s.toLowerCase(Locale.ROOT)).toList())
                    + "\n  wordcount [DIR]      word count over a folder of text files (default: a generated corpus)"
                    + "\n  treereduction [N]    sum of N numbers reduced pairwise on the cluster"
                    + "\n  preemptibleworkers [--sigkill]   a sum while workers are killed every few seconds"
                    + "\n  quickstart           the manual's first program"
                    + "\n  bagshuffle [MB] [N]  word frequencies and distinct words of MB of generated text, and a join of two"
                    + "\n                       bags of N records, checked against a local count (default 300 MB, 1,000,000)");
            System.exit(2);
            return;
        }
        Method main = Class.forName(cls).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
