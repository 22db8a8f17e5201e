package dist.comm;

/** A parsed "host:port" (also "[v6]:port" and an optional "tcp://" prefix). */
record HostPort(String host, int port) {

    static HostPort parse(String s) {
        if (s == null) {
            throw new IllegalArgumentException("address is null; expected host:port, e.g. 127.0.0.1:8786");
        }
        String t = s.strip();
        if (t.startsWith("tcp://")) {
            t = t.substring(6);
        }
        String host;
        String port;
        if (t.startsWith("[")) {
            int close = t.indexOf(']');
            if (close < 0 || close + 1 >= t.length() || t.charAt(close + 1) != ':') {
                throw bad(s);
            }
            host = t.substring(1, close);
            port = t.substring(close + 2);
        } else {
            int colon = t.lastIndexOf(':');
            if (colon <= 0 || t.indexOf(':') != colon) {
                throw bad(s);
            }
            host = t.substring(0, colon);
            port = t.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw bad(s);
        }
        if (host.isEmpty() || p < 1 || p > 65535) {
            throw bad(s);
        }
        return new HostPort(host, p);
    }

    private static IllegalArgumentException bad(String s) {
        return new IllegalArgumentException("bad address '" + s + "': expected host:port with a port in 1..65535,"
                + " e.g. 127.0.0.1:8786 or [::1]:8786");
    }
}
