package dist.dashboard;

import com.sun.net.httpserver.HttpExchange;
import dist.comm.Security;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Who may read a web page of the cluster: with a token set, only who shows it, as an
 * {@code Authorization: Bearer TOKEN} header (Prometheus, curl) or once as {@code ?token=TOKEN} (or the
 * login form), which sets a session cookie and sends the browser on without the token in its address,
 * as Jupyter does. Without a token every visitor is served; the roles keep such pages on loopback.
 *
 * <pre>{@code
 * Access access = new Access(security, port);
 * if (!access.admit(exchange)) {
 *     return; // answered: 401 with a login form, or a redirect after a login
 * }
 * }</pre>
 */
final class Access {
    /** A login form's body is a token and a path; anything longer is no login. */
    private static final int MAX_LOGIN_BYTES = 4096;

    private final Security security;
    private final String cookieName;
    /** The session cookie's value: derived from the token and a salt of this process, never the token. */
    private final byte[] session;

    Access(Security security, int port) {
        this.security = security;
        this.cookieName = "dist-session-" + port;
        if (security.hasToken()) {
            byte[] salt = new byte[16];
            new SecureRandom().nextBytes(salt);
            this.session = security.derive("dist-dashboard-session " + HexFormat.of().formatHex(salt))
                    .getBytes(StandardCharsets.US_ASCII);
        } else {
            this.session = null;
        }
    }

    /** Whether visitors must show the token. */
    boolean enabled() {
        return session != null;
    }

    /**
     * True when {@code ex} may be served; otherwise it has been answered (401, or a redirect that sets
     * the session cookie) and must not be answered again.
     */
    boolean admit(HttpExchange ex) throws IOException {
        if (session == null) {
            return true;
        }
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null) {
            String a = auth.strip();
            int sp = a.indexOf(' ');
            String scheme = sp < 0 ? "" : a.substring(0, sp);
            if ((scheme.equalsIgnoreCase("Bearer") || scheme.equalsIgnoreCase("token"))
                    && security.tokenMatches(a.substring(sp + 1))) {
                return true;
            }
        }
        if (hasSessionCookie(ex)) {
            return true;
        }
        String path = ex.getRequestURI().getPath();
        if ("POST".equals(ex.getRequestMethod()) && "/login".equals(path)) {
            String body = readLimited(ex.getRequestBody());
            String token = body == null ? null : formValue(body, "token");
            String next = body == null ? null : formValue(body, "next");
            if (security.tokenMatches(token)) {
                loggedIn(ex, next);
            } else {
                refuse(ex, "wrong token");
            }
            return false;
        }
        String token = Dashboard.param(ex, "token");
        if (token != null) {
            if (security.tokenMatches(token)) {
                loggedIn(ex, path + withoutToken(ex.getRequestURI().getRawQuery()));
            } else {
                refuse(ex, "wrong token");
            }
            return false;
        }
        refuse(ex, null);
        return false;
    }

    private boolean hasSessionCookie(HttpExchange ex) {
        for (String header : ex.getRequestHeaders().getOrDefault("Cookie", java.util.List.of())) {
            for (String part : header.split(";")) {
                String p = part.strip();
                int eq = p.indexOf('=');
                if (eq > 0 && p.substring(0, eq).equals(cookieName)
                        && MessageDigest.isEqual(session, p.substring(eq + 1).getBytes(StandardCharsets.US_ASCII))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Sets the session cookie and sends the browser to {@code next} (a local path), or to the first page. */
    private void loggedIn(HttpExchange ex, String next) throws IOException {
        String to = next != null && next.startsWith("/") && !next.startsWith("//") && !next.contains("\\")
                && !next.startsWith("/login") ? next : "/";
        ex.getResponseHeaders().add("Set-Cookie", cookieName + "=" + new String(session, StandardCharsets.US_ASCII)
                + "; Path=/; HttpOnly; SameSite=Strict");
        ex.getResponseHeaders().set("Location", to);
        Dashboard.send(ex, 303, "text/plain; charset=utf-8", "logged in; see " + to + "\n");
    }

    private static void refuse(HttpExchange ex, String why) throws IOException {
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"dist\"");
        String next = ex.getRequestURI().getPath();
        String escaped = next.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;");
        String page = """
                <!doctype html>
                <html><head><meta charset="utf-8"><title>dist: log in</title></head>
                <body style="font-family: sans-serif; margin: 3em">
                <p>%sThis page needs the cluster's token (the one given with --token-file or DIST_TOKEN).</p>
                <form method="post" action="/login">
                <input type="password" name="token" autofocus size="40">
                <input type="hidden" name="next" value="%s">
                <button type="submit">Log in</button>
                </form>
                <p>Programs send it as a header: <code>Authorization: Bearer TOKEN</code>.</p>
                </body></html>
                """.formatted(why == null ? "" : why.replace("<", "&lt;") + ". ", escaped);
        Dashboard.send(ex, 401, "text/html; charset=utf-8", page);
    }

    /** "?a=1&b=2" without its token parameter ("" when nothing is left). */
    private static String withoutToken(String rawQuery) {
        if (rawQuery == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (String part : rawQuery.split("&")) {
            if (part.isEmpty() || part.equals("token") || part.startsWith("token=")) {
                continue;
            }
            b.append(b.length() == 0 ? '?' : '&').append(part);
        }
        return b.toString();
    }

    private static String readLimited(InputStream in) throws IOException {
        byte[] b = in.readNBytes(MAX_LOGIN_BYTES + 1);
        return b.length > MAX_LOGIN_BYTES ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** The decoded value of {@code name} in a form or query string ({@code a=1&b=2}), "" when it has none, null when absent. */
    static String formValue(String form, String name) {
        for (String part : form.split("&")) {
            int eq = part.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
            if (k.equals(name)) {
                return eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }
}
