package dist;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Compiles sources in this JVM against the test class path and reports javac's errors. */
final class CompileCheck {
    private CompileCheck() {
    }

    /** One javac error: the line in its source and the message. */
    record Error(String source, long line, String message) {
        @Override
        public String toString() {
            return source + ":" + line + ": " + message;
        }
    }

    /** javac's errors for {@code sources} (class name to text); empty when they compile. */
    static List<Error> errors(Map<String, String> sources) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<JavaFileObject> units = new ArrayList<>();
        for (Map.Entry<String, String> e : sources.entrySet()) {
            units.add(new Source(e.getKey(), e.getValue()));
        }
        Path out;
        try {
            out = Files.createTempDirectory("compile-check");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            List<String> options = List.of("-d", out.toString(), "-proc:none", "-Xlint:none",
                    "-cp", System.getProperty("java.class.path"));
            javac.getTask(null, null, diagnostics, options, null, units).call();
        } finally {
            delete(out);
        }
        List<Error> errors = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                String name = d.getSource() == null ? "?" : d.getSource().getName();
                errors.add(new Error(name, d.getLineNumber(), d.getMessage(Locale.ROOT)));
            }
        }
        return errors;
    }

    private static void delete(Path dir) {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }

    /** A source held in memory, named for its class as javac requires of a public class. */
    private static final class Source extends SimpleJavaFileObject {
        private final String text;

        Source(String className, String text) {
            super(URI.create("string:///" + className.replace('.', '/') + Kind.SOURCE.extension), Kind.SOURCE);
            this.text = text;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return text;
        }
    }
}
