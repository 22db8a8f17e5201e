package dist.cli;

/** A command line that does not parse; the message says what was wrong. Exit code 2. */
public final class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
