package dist;

/** The command line: {@code java -jar dist.jar scheduler|worker|nanny ...}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.err.println("usage: java -jar dist.jar scheduler|worker|nanny ...");
        System.exit(2);
    }
}
