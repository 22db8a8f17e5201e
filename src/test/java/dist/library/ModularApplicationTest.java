package dist.library;

import dist.it.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * dist used from a modular application: its jar is the automatic module {@code dist}, and a
 * method reference from a package the application does not open to it fails with an error that
 * names the {@code opens} line to add. Each case compiles a small module and runs it in its own JVM.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ModularApplicationTest {
    static final Duration T = Duration.ofSeconds(60);

    static final String APP = """
            package com.acme;

            import dist.Client;
            import dist.LocalCluster;

            public class App {
                static int inc(int x) { return x + 1; }

                public static void main(String[] args) throws Exception {
                    try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).output(null).start();
                         Client client = cluster.client()) {
                        System.out.println("result " + client.submit(App::inc, 1).result(java.time.Duration.ofSeconds(30)));
                    } catch (Throwable t) {
                        System.out.println("failed " + t);
                    }
                    System.exit(0);
                }
            }
            """;

    /** The project's classes as a jar named as the build names it, with the pom's module name. */
    static Path distJar(Path dir) throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        assertTrue(pom.contains("<Automatic-Module-Name>dist</Automatic-Module-Name>"),
                "the jar's manifest names its module: pom.xml sets Automatic-Module-Name to dist");
        Path classes = Path.of("target/classes");
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(new Attributes.Name("Automatic-Module-Name"), "dist");
        Path jar = dir.resolve("dist.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), mf);
             Stream<Path> files = Files.walk(classes)) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                String name = classes.relativize(p).toString().replace('\\', '/');
                if (name.equals("META-INF/MANIFEST.MF")) {
                    continue;
                }
                out.putNextEntry(new JarEntry(name));
                out.write(Files.readAllBytes(p));
                out.closeEntry();
            }
        }
        return jar;
    }

    /** Compiles module com.acme with {@code moduleInfo} against the dist jar; returns its classes. */
    static Path compileApp(Path dir, Path distJar, String moduleInfo) throws IOException {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.createDirectories(src.resolve("com/acme"));
        Files.writeString(src.resolve("module-info.java"), moduleInfo);
        Files.writeString(src.resolve("com/acme/App.java"), APP);
        Path out = Files.createDirectories(dir.resolve("classes"));
        List<String> args = new ArrayList<>(List.of("--release", "21", "-d", out.toString(), "--module-path",
                distJar.toString(), src.resolve("module-info.java").toString(), src.resolve("com/acme/App.java").toString()));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = ToolProvider.getSystemJavaCompiler().run(null, OutputStream.nullOutputStream(), err,
                args.toArray(String[]::new));
        assertEquals(0, rc, "javac: " + err);
        return out;
    }

    static String run(Path distJar, Path app) throws Exception {
        try (Processes ps = new Processes()) {
            Processes.Proc p = ps.javaRaw(List.of("--module-path", distJar + java.io.File.pathSeparator + app,
                    "-m", "com.acme/com.acme.App"));
            return p.awaitLine(l -> l.startsWith("result ") || l.startsWith("failed "), T);
        }
    }

    @Test
    void aModuleThatDoesNotOpenItsPackageIsToldTheLineToAdd(@TempDir Path dir) throws Exception {
        Path jar = distJar(dir);
        Path app = compileApp(dir.resolve("closed"), jar, "module com.acme { requires dist; }");
        String line = run(jar, app);
        assertTrue(line.startsWith("failed "), line);
        assertTrue(line.contains("opens com.acme to dist;"), line);
        assertTrue(line.contains("module-info.java of com.acme"), line);
    }

    @Test
    void aModuleThatOpensItsPackageRunsItsTasks(@TempDir Path dir) throws Exception {
        Path jar = distJar(dir);
        Path app = compileApp(dir.resolve("open"), jar, "module com.acme { requires dist; opens com.acme to dist; }");
        assertEquals("result 2", run(jar, app));
    }
}
