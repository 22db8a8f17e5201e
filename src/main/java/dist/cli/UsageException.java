package dist.cli;

/** A command line that does not parse, or names what cannot work; the message says what was wrong. Exit code 2. */
public final class UsageException extends Exception {
    private final boolean usageHint;

    public UsageException(String message) {
        this(message, true);
    }

    /** @param usageHint whether pointing at --help helps (not for a name that does not resolve) */
    public UsageException(String message, boolean usageHint) {
        super(message);
        this.usageHint = usageHint;
    }

    /** Whether the message is followed by a pointer to the role's --help. */
    public boolean usageHint() {
        return usageHint;
    }
}
