package dist.comm;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

/** Certificates and keys from PEM files or PKCS12 keystores, with the JDK's own parsers only. */
final class Pem {

    /** Password of the in-memory keystores built here; they never leave the process. */
    static final char[] KEY_PASSWORD = "dist".toCharArray();
    private static final String KEY_BEGIN = "-----BEGIN PRIVATE KEY-----";
    private static final String KEY_END = "-----END PRIVATE KEY-----";

    private Pem() {
    }

    /** The CA certificates in {@code file} (PEM, or a PKCS12 keystore's certificates) as a trust store. */
    static KeyStore trustStore(Path file, char[] password) throws GeneralSecurityException {
        byte[] bytes = read(file, "CA file");
        List<Certificate> certs = new ArrayList<>();
        if (isPem(bytes)) {
            certs.addAll(certificates(bytes, file));
        } else {
            KeyStore p12 = pkcs12(bytes, file, password);
            for (String alias : Collections.list(p12.aliases())) {
                Certificate c = p12.getCertificate(alias);
                if (c != null) {
                    certs.add(c);
                }
            }
        }
        if (certs.isEmpty()) {
            throw new GeneralSecurityException("the CA file " + file + " holds no certificate");
        }
        KeyStore ks = empty();
        for (int i = 0; i < certs.size(); i++) {
            ks.setCertificateEntry("ca-" + i, certs.get(i));
        }
        return ks;
    }

    /** This process's key and certificate chain: PEM cert + PKCS#8 PEM key, or one PKCS12 keystore. */
    static KeyStore keyStore(Path certFile, Path keyFile, char[] password) throws GeneralSecurityException {
        byte[] certBytes = read(certFile, "certificate file");
        PrivateKey key;
        Certificate[] chain;
        if (isPem(certBytes)) {
            chain = certificates(certBytes, certFile).toArray(Certificate[]::new);
            if (chain.length == 0) {
                throw new GeneralSecurityException("the certificate file " + certFile + " holds no certificate");
            }
            if (keyFile == null) {
                throw new GeneralSecurityException("a PEM certificate needs its key: give the key file (--tls-key)");
            }
            key = privateKey(read(keyFile, "key file"), keyFile, chain[0].getPublicKey().getAlgorithm());
        } else {
            KeyStore p12 = pkcs12(certBytes, certFile, password);
            key = null;
            chain = null;
            for (String alias : Collections.list(p12.aliases())) {
                if (p12.isKeyEntry(alias)) {
                    Key k = p12.getKey(alias, password);
                    if (k instanceof PrivateKey pk) {
                        key = pk;
                        chain = p12.getCertificateChain(alias);
                        break;
                    }
                }
            }
            if (key == null || chain == null) {
                throw new GeneralSecurityException("the keystore " + certFile + " holds no private key entry");
            }
        }
        KeyStore ks = empty();
        ks.setKeyEntry("self", key, KEY_PASSWORD, chain);
        return ks;
    }

    private static byte[] read(Path file, String what) throws GeneralSecurityException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot read the " + what + " " + file + ": " + e, e);
        }
    }

    private static boolean isPem(byte[] bytes) {
        String head = new String(bytes, 0, Math.min(bytes.length, 4096), StandardCharsets.ISO_8859_1);
        return head.contains("-----BEGIN ");
    }

    private static List<Certificate> certificates(byte[] pem, Path file) throws GeneralSecurityException {
        try {
            return new ArrayList<>(CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem)));
        } catch (GeneralSecurityException e) {
            throw new GeneralSecurityException("the file " + file + " holds no readable X.509 PEM certificate: "
                    + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(byte[] pem, Path file, String algorithm) throws GeneralSecurityException {
        String text = new String(pem, StandardCharsets.US_ASCII);
        int begin = text.indexOf(KEY_BEGIN);
        int end = text.indexOf(KEY_END);
        if (begin < 0 || end < begin) {
            String hint = text.contains("ENCRYPTED PRIVATE KEY") ? "an encrypted key; store it unencrypted"
                    : text.contains("RSA PRIVATE KEY") || text.contains("EC PRIVATE KEY")
                    ? "a PKCS#1/SEC1 key; convert it" : "no PKCS#8 key";
            throw new GeneralSecurityException("the key file " + file + " holds " + hint
                    + " (expected '" + KEY_BEGIN + "'; 'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pem')");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(text.substring(begin + KEY_BEGIN.length(), end));
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("the key file " + file + " is not valid base64 PEM: " + e.getMessage(), e);
        }
        String alg = algorithm.equals("EdDSA") || algorithm.startsWith("Ed") ? "EdDSA" : algorithm;
        try {
            return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new GeneralSecurityException("the key in " + file + " is not a " + algorithm
                    + " key matching the certificate: " + e.getMessage(), e);
        }
    }

    private static KeyStore pkcs12(byte[] bytes, Path file, char[] password) throws GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try {
            ks.load(new ByteArrayInputStream(bytes), password);
        } catch (IOException e) {
            throw new GeneralSecurityException("the file " + file + " is neither PEM nor a PKCS12 keystore this"
                    + " password opens (DIST_TLS_PASSWORD): " + e.getMessage(), e);
        }
        return ks;
    }

    private static KeyStore empty() throws GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try {
            ks.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        return ks;
    }
}
