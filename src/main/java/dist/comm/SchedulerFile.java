package dist.comm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A scheduler file, as dask's {@code --scheduler-file}: a small JSON file with the scheduler's
 * address and id, written once it listens, so workers, nannies and clients on a shared file system
 * find it without being told its port.
 *
 * <pre>{@code
 * SchedulerFile.write(Path.of("/shared/scheduler.json"), "10.0.0.5:8786", "scheduler-1");
 * String address = SchedulerFile.awaitAddress(Path.of("/shared/scheduler.json"), Duration.ofSeconds(10));
 * }</pre>
 *
 * The file reads {@code {"type": "Scheduler", "id": "...", "address": "host:port"}}; an address
 * written by dask ({@code tcp://host:port}) is read too.
 */
public final class SchedulerFile {
    private static final Pattern ADDRESS = Pattern.compile("\"address\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private SchedulerFile() {
    }

    /**
     * Writes the file whole (through a temporary file moved into place), so a reader never sees half
     * of it; {@code id} may be null (not written).
     */
    public static void write(Path file, String address, String id) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        String json = "{\"type\": \"Scheduler\", " + (id == null ? "" : "\"id\": " + quote(id) + ", ")
                + "\"address\": " + quote(address) + "}\n";
        Path tmp = Files.createTempFile(dir, abs.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, json, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * The "host:port" the file names.
     *
     * @throws NoSuchFileException when there is no file (yet)
     * @throws IOException         when it names no address
     */
    public static String readAddress(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Matcher m = ADDRESS.matcher(text);
        if (!m.find()) {
            throw new IOException("the scheduler file " + file + " names no \"address\"");
        }
        String address = m.group(1).replace("\\\"", "\"").replace("\\\\", "\\").strip();
        if (address.startsWith("tcp://")) {
            address = address.substring("tcp://".length());
        }
        return address;
    }

    /**
     * The address the file names, waiting up to {@code timeout} for the file to appear (a scheduler
     * started at the same time writes it once it listens).
     *
     * @throws TimeoutException when no file appeared in time
     * @throws IOException      when the file is there but names no address by then
     */
    public static String awaitAddress(Path file, Duration timeout) throws IOException, InterruptedException,
            TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return readAddress(file);
            } catch (IOException e) {
                // absent, or still being written by a writer that does not move it into place
                if (System.nanoTime() - deadline > 0) {
                    if (e instanceof NoSuchFileException) {
                        throw new TimeoutException("no scheduler file at " + file.toAbsolutePath() + " after "
                                + timeout.toMillis() + " ms: start the scheduler with --scheduler-file " + file);
                    }
                    throw e;
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting for the scheduler file " + file);
            }
        }
    }

    /** Removes the file if it still names {@code address} (a newer scheduler's file stays). */
    public static void removeIfNames(Path file, String address) {
        try {
            if (address.equals(readAddress(file))) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            // gone already, or not ours to remove
        }
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
