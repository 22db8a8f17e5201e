package dist.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Test certificates made with the JDK's keytool, once per test JVM: a CA and a key per role signed by
 * it (PKCS12 and PEM), plus a second, untrusted CA with a key of its own.
 */
final class Certs {

    static final char[] PASSWORD = "changeit".toCharArray();

    /** Files of one role. */
    record Role(Path p12, Path certPem, Path keyPem) {
    }

    final Path dir;
    final Path caPem;
    final Path caP12;
    final Role scheduler;
    final Role worker;
    final Role client;
    /** Signed by another CA: must be refused. */
    final Role rogue;

    private static Certs made;
    private static final java.util.concurrent.locks.ReentrantLock LOCK = new java.util.concurrent.locks.ReentrantLock();

    static Certs get() throws Exception {
        LOCK.lock();
        try {
            if (made == null) {
                made = new Certs(Files.createTempDirectory("dist-certs"));
            }
            return made;
        } finally {
            LOCK.unlock();
        }
    }

    private Certs(Path dir) throws Exception {
        this.dir = dir;
        dir.toFile().deleteOnExit();
        caP12 = dir.resolve("ca.p12");
        caPem = dir.resolve("ca.pem");
        Path rogueCa = dir.resolve("rogue-ca.p12");
        CompletableFuture<Void> rca = CompletableFuture.runAsync(() -> makeCa(rogueCa, dir.resolve("rogue-ca.pem"),
                "rogue-ca"));
        makeCa(caP12, caPem, "dist-test-ca");
        rca.get(120, TimeUnit.SECONDS);
        CompletableFuture<Role> s = CompletableFuture.supplyAsync(() -> role("scheduler", caP12, caPem));
        CompletableFuture<Role> w = CompletableFuture.supplyAsync(() -> role("worker", caP12, caPem));
        CompletableFuture<Role> c = CompletableFuture.supplyAsync(() -> role("client", caP12, caPem));
        CompletableFuture<Role> r = CompletableFuture.supplyAsync(() -> role("rogue", rogueCa,
                dir.resolve("rogue-ca.pem")));
        scheduler = s.get(120, TimeUnit.SECONDS);
        worker = w.get(120, TimeUnit.SECONDS);
        client = c.get(120, TimeUnit.SECONDS);
        rogue = r.get(120, TimeUnit.SECONDS);
    }

    private void makeCa(Path p12, Path pem, String cn) {
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + cn,
                "-ext", "bc:c", "-validity", "3", "-keystore", p12.toString(), "-storetype", "PKCS12");
        try {
            KeyStore ks = load(p12);
            Files.writeString(pem, pem("CERTIFICATE", ks.getCertificate("ca").getEncoded()));
        } catch (Exception e) {
            throw new IllegalStateException("cannot export the CA " + cn, e);
        }
    }

    /**
     * One keytool run: a key pair whose certificate the CA signs at once ({@code -signer} takes the CA from
     * the same keystore, so the key is made in a copy of the CA's keystore and then moved to its own).
     */
    private Role role(String name, Path caStore, Path caCert) {
        Path work = dir.resolve(name + "-work.p12");
        Path p12 = dir.resolve(name + ".p12");
        try {
            Files.copy(caStore, work);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
                "-validity", "3", "-keystore", work.toString(), "-storetype", "PKCS12", "-signer", "ca");
        try {
            KeyStore all = load(work);
            PrivateKey key = (PrivateKey) all.getKey(name, PASSWORD);
            java.security.cert.Certificate[] chain = all.getCertificateChain(name);
            KeyStore own = KeyStore.getInstance("PKCS12");
            own.load(null, null);
            own.setKeyEntry(name, key, PASSWORD, chain);
            try (var out = Files.newOutputStream(p12)) {
                own.store(out, PASSWORD);
            }
            Files.delete(work);
            Path keyPem = dir.resolve(name + "-key.pem");
            Path certPem = dir.resolve(name + ".pem");
            Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
            StringBuilder pems = new StringBuilder();
            for (java.security.cert.Certificate c : chain) {
                pems.append(pem("CERTIFICATE", c.getEncoded()));
            }
            Files.writeString(certPem, pems);
            return new Role(p12, certPem, keyPem);
        } catch (Exception e) {
            throw new IllegalStateException("cannot export the key of " + name, e);
        }
    }

    private static KeyStore load(Path p12) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(p12)) {
            ks.load(in, PASSWORD);
        }
        return ks;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void keytool(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-storepass", new String(PASSWORD)));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("keytool " + String.join(" ", args) + " failed:\n"
                        + new String(out, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run keytool: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
