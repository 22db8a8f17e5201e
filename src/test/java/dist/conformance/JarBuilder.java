package dist.conformance;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/** Compiles one class at test time and packs it into a jar, so a test can hold two versions of it. */
final class JarBuilder {
    private JarBuilder() {
    }

    /** A jar under {@code root} named {@code label}.jar holding class {@code className} compiled from {@code source}. */
    static Path jar(Path root, String label, String className, String source) throws IOException {
        Path src = root.resolve(label + "-src").resolve(className.replace('.', '/') + ".java");
        Path out = Files.createDirectories(root.resolve(label + "-classes"));
        Files.createDirectories(src.getParent());
        Files.writeString(src, source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, OutputStream.nullOutputStream(), err, "--release", "21", "-d", out.toString(),
                "-cp", System.getProperty("java.class.path"), src.toString());
        if (rc != 0) {
            throw new IllegalStateException("javac failed: " + err);
        }
        Path jar = root.resolve(label + ".jar");
        try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> files = Files.walk(out)) {
            List<Path> all = files.filter(Files::isRegularFile).sorted().toList();
            for (Path p : all) {
                o.putNextEntry(new JarEntry(out.relativize(p).toString().replace('\\', '/')));
                o.write(Files.readAllBytes(p));
                o.closeEntry();
            }
        }
        return jar;
    }
}
