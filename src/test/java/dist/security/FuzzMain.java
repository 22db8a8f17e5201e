package dist.security;

/**
 * {@code ./run.sh fuzz [INPUTS] [THREADS] [SEED]}: the long fuzz campaign (default 10,000,000 inputs);
 * prints its figures and exits 1 when a listener hung, crashed, leaked or stopped serving honest peers.
 */
public final class FuzzMain {
    private FuzzMain() {
    }

    public static void main(String[] args) throws Exception {
        long inputs = args.length > 0 ? Long.parseLong(args[0].replace("_", "")) : 10_000_000L;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : System.nanoTime();
        System.out.println("fuzzing with " + inputs + " inputs, " + threads + " threads, seed " + seed);
        FuzzRun.Figures f = FuzzRun.run(inputs, threads, seed);
        System.out.println("fuzz: " + f);
        boolean ok = f.report().hangs.get() == 0 && f.report().connectFailures.get() == 0
                && f.honestFailure() == null && f.honestTasks() > 0 && f.severeLogs() == 0
                && f.threadsAfter() <= f.threadsBefore() + 2 && f.heapAfter() <= f.heapBefore() + (64L << 20)
                && (f.fdsBefore() < 0 || f.fdsAfter() <= f.fdsBefore() + 8);
        System.out.println(ok ? "fuzz: PASSED" : "fuzz: FAILED");
        System.exit(ok ? 0 : 1);
    }
}
