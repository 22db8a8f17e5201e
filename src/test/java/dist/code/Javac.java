package dist.code;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/** Compiles small classes at test time, so a test can hold two versions of one class name. */
final class Javac {
    private Javac() {
    }

    /** Compiles {@code sources} (class name to source) into a fresh directory under {@code root}. */
    static Path compile(Path root, String label, Map<String, String> sources) throws IOException {
        Path src = Files.createDirectories(root.resolve(label + "-src"));
        Path out = Files.createDirectories(root.resolve(label + "-classes"));
        List<String> args = new ArrayList<>(List.of("--release", "21", "-d", out.toString(),
                "-cp", System.getProperty("java.class.path")));
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path f = src.resolve(e.getKey().replace('.', '/') + ".java");
            Files.createDirectories(f.getParent());
            Files.writeString(f, e.getValue());
            args.add(f.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, OutputStream.nullOutputStream(), err, args.toArray(String[]::new));
        if (rc != 0) {
            throw new IllegalStateException("javac failed: " + err);
        }
        return out;
    }

    /** A loader over {@code dir} whose parent is this test's loader. */
    static URLClassLoader loader(Path dir) throws IOException {
        return new URLClassLoader(new URL[]{dir.toUri().toURL()}, Javac.class.getClassLoader());
    }

    /** Packs every file under {@code dir} into a jar. */
    static Path jar(Path dir, Path jarFile) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jarFile));
             Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new JarEntry(dir.relativize(p).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(p));
                out.closeEntry();
            }
        }
        return jarFile;
    }

    /** The main classes directory (target/classes): the project without its tests. */
    static Path mainClasses() {
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(e);
            if (Files.isDirectory(p) && Files.exists(p.resolve("dist/Main.class"))) {
                return p;
            }
        }
        throw new IllegalStateException("no directory with dist/Main.class on the class path");
    }
}
