package dist;

import dist.worker.WorkerContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A worker plugin that brings a jar's classes to every worker, now and as workers join, for the
 * tasks of the client that registers it, as dask's {@code UploadFile} puts a module on every
 * worker. The jar travels once per worker, inside the plugin; classes on a worker's own class path
 * still win. Registering the same jar's file name again replaces it (its name is
 * {@code upload-jar-<file name>}).
 *
 * <pre>{@code
 * client.registerPlugin(new UploadJar(Path.of("build/libs/my-functions.jar")));
 * }</pre>
 */
public final class UploadJar implements WorkerPlugin {
    private final String file;
    private final byte[] bytes;

    /** For the serializer, which fills the fields in on the worker. */
    private UploadJar() {
        this.file = null;
        this.bytes = null;
    }

    /**
     * Reads the jar now.
     *
     * @throws UncheckedIOException when it cannot be read
     */
    public UploadJar(Path jar) {
        this.file = jar.getFileName().toString();
        try {
            this.bytes = Files.readAllBytes(jar);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jar + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return "upload-jar-" + file;
    }

    @Override
    public void setup(WorkerContext worker) {
        try {
            worker.addJar(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("worker " + worker.address() + " cannot use jar " + file + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "UploadJar(" + file + ", " + bytes.length + " bytes)";
    }
}
