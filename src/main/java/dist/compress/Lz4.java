package dist.compress;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * The LZ4 block format, fast level. A block is a series of sequences, each a token (high nibble:
 * literal count, low nibble: match length minus 4; 15 means "more bytes follow", each adding up to
 * 255), the literals, a 2-byte little-endian back offset (1..65535) and the match length bytes. The
 * last sequence has literals only. As the format requires, the last 5 bytes are always literals and
 * no match starts within the last 12 bytes, so a block from here decodes with any LZ4 block decoder.
 *
 * <p>Matching: a hash table of 4-byte sequences holds the last position of each hash; a miss moves on
 * faster the longer no match turned up, so incompressible input is crossed quickly.
 *
 * <pre>{@code
 * byte[] packed = Lz4.INSTANCE.compress(data, 0, data.length);
 * byte[] back = Lz4.INSTANCE.decompress(packed, 0, packed.length, data.length, data.length);
 * }</pre>
 */
public final class Lz4 implements Compressor {

    public static final Lz4 INSTANCE = new Lz4();
    public static final byte ID = 1;

    static final int MIN_MATCH = 4;
    static final int LAST_LITERALS = 5;
    /** No match may start within this many bytes of the end. */
    static final int MF_LIMIT = 12;
    static final int MIN_INPUT = MF_LIMIT + 1;
    static final int MAX_DISTANCE = 65_535;
    static final int HASH_LOG = 12;
    /** After 2^SKIP_TRIGGER misses in a row the search step grows by one. */
    static final int SKIP_TRIGGER = 6;

    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

    private Lz4() {
    }

    @Override
    public String name() {
        return "lz4";
    }

    @Override
    public byte id() {
        return ID;
    }

    @Override
    public int maxCompressedLength(int len) {
        if (len < 0) {
            throw new IllegalArgumentException("negative length " + len);
        }
        return (int) Math.min(MAX_ARRAY, (long) len + len / 255 + 16);
    }

    @Override
    public long maxExpansion(int compressedLength) {
        // a length byte adds at most 255 output bytes; the token and offset bytes add less
        return 255L * compressedLength;
    }

    private static int hash(int fourBytes) {
        return (fourBytes * -1640531535) >>> (32 - HASH_LOG); // Knuth's multiplicative constant 2654435761
    }

    private static int readInt(byte[] b, int i) {
        return (int) INT_LE.get(b, i);
    }

    @Override
    public int compress(byte[] src, int off, int len, byte[] dst, int dstOff) {
        Objects.checkFromIndexSize(off, len, src.length);
        Objects.checkIndex(dstOff, dst.length + 1);
        int end = off + len;
        int dp = dstOff;
        int anchor = off;
        if (len >= MIN_INPUT) {
            int mfLimit = end - MF_LIMIT;
            int matchLimit = end - LAST_LITERALS;
            int[] table = new int[1 << HASH_LOG]; // positions relative to off; 0 doubles as "empty"
            int ip = off + 1;
            outer:
            while (true) {
                int ref;
                int misses = 1 << SKIP_TRIGGER;
                while (true) {
                    if (ip > mfLimit) {
                        break outer;
                    }
                    int seq = readInt(src, ip);
                    int h = hash(seq);
                    ref = off + table[h];
                    table[h] = ip - off;
                    if (ip - ref <= MAX_DISTANCE && readInt(src, ref) == seq) {
                        break;
                    }
                    ip += misses++ >>> SKIP_TRIGGER;
                }
                while (ip > anchor && ref > off && src[ip - 1] == src[ref - 1]) {
                    ip--;
                    ref--;
                }
                int from = ip + MIN_MATCH;
                int span = matchLimit - from;
                int mm = Arrays.mismatch(src, from, matchLimit, src, ref + MIN_MATCH, ref + MIN_MATCH + span);
                int matchLen = MIN_MATCH + (mm < 0 ? span : mm);
                dp = writeSequence(src, anchor, ip - anchor, ip - ref, matchLen, dst, dp);
                if (dp < 0) {
                    return -1;
                }
                ip += matchLen;
                anchor = ip;
                if (ip > mfLimit) {
                    break;
                }
                table[hash(readInt(src, ip - 2))] = ip - 2 - off;
            }
        }
        int lit = end - anchor;
        long need = 1L + lengthBytes(lit) + lit;
        if (need > dst.length - dp) {
            return -1;
        }
        int token = dp++;
        if (lit >= 15) {
            dst[token] = (byte) 0xF0;
            dp = writeLength(dst, dp, lit - 15);
        } else {
            dst[token] = (byte) (lit << 4);
        }
        System.arraycopy(src, anchor, dst, dp, lit);
        return dp + lit - dstOff;
    }

    /** Extra bytes that encode a count that did not fit its nibble. */
    private static int lengthBytes(int n) {
        return n < 15 ? 0 : (n - 15) / 255 + 1;
    }

    /** Writes one sequence; the new output position, or -1 when it does not fit. */
    private static int writeSequence(byte[] src, int litFrom, int lit, int offset, int matchLen, byte[] dst, int dp) {
        int ml = matchLen - MIN_MATCH;
        long need = 1L + lengthBytes(lit) + lit + 2 + lengthBytes(ml);
        if (need > dst.length - dp) {
            return -1;
        }
        int token = dp++;
        int t;
        if (lit >= 15) {
            t = 0xF0;
            dp = writeLength(dst, dp, lit - 15);
        } else {
            t = lit << 4;
        }
        System.arraycopy(src, litFrom, dst, dp, lit);
        dp += lit;
        dst[dp++] = (byte) offset;
        dst[dp++] = (byte) (offset >>> 8);
        if (ml >= 15) {
            t |= 15;
            dp = writeLength(dst, dp, ml - 15);
        } else {
            t |= ml;
        }
        dst[token] = (byte) t;
        return dp;
    }

    private static int writeLength(byte[] dst, int dp, int rest) {
        int full = rest / 255;
        Arrays.fill(dst, dp, dp + full, (byte) 255);
        dp += full;
        dst[dp++] = (byte) (rest - full * 255);
        return dp;
    }

    @Override
    public int decompress(byte[] src, int off, int len, byte[] dst, int dstOff, int originalLength) {
        Objects.checkFromIndexSize(off, len, src.length);
        Objects.checkFromIndexSize(dstOff, originalLength, dst.length);
        if (len == 0) {
            throw corrupt("is empty; even an empty block has one token byte");
        }
        int sp = off;
        int end = off + len;
        int dp = dstOff;
        int dEnd = dstOff + originalLength;
        while (true) {
            if (sp >= end) {
                throw corrupt("ends after a match at output byte " + (dp - dstOff) + " of " + originalLength
                        + "; a block ends with a literals-only sequence (truncated?)");
            }
            int token = src[sp++] & 0xFF;
            long lit = token >>> 4;
            if (lit == 15) {
                int b;
                do {
                    if (sp >= end) {
                        throw corrupt("ends inside a literal length at input byte " + (sp - off));
                    }
                    b = src[sp++] & 0xFF;
                    lit += b;
                } while (b == 255 && lit <= dEnd - dp);
            }
            if (lit > dEnd - dp) {
                throw corrupt("has a literal run of " + lit + " bytes at output byte " + (dp - dstOff)
                        + ", past the declared length " + originalLength);
            }
            if (lit > end - sp) {
                throw corrupt("has a literal run of " + lit + " bytes at input byte " + (sp - off)
                        + ", past the end of the input (" + len + " bytes)");
            }
            int n = (int) lit;
            System.arraycopy(src, sp, dst, dp, n);
            sp += n;
            dp += n;
            if (sp == end) {
                if (dp != dEnd) {
                    throw corrupt("decodes to " + (dp - dstOff) + " bytes, not the declared " + originalLength);
                }
                return originalLength;
            }
            if (end - sp < 2) {
                throw corrupt("ends inside a match offset at input byte " + (sp - off));
            }
            int offset = (src[sp] & 0xFF) | (src[sp + 1] & 0xFF) << 8;
            sp += 2;
            if (offset == 0 || offset > dp - dstOff) {
                throw corrupt("has a match offset " + offset + " at output byte " + (dp - dstOff)
                        + (offset == 0 ? " (0 is not allowed)" : ", before the start of the output"));
            }
            long ml = token & 15;
            if (ml == 15) {
                int b;
                do {
                    if (sp >= end) {
                        throw corrupt("ends inside a match length at input byte " + (sp - off));
                    }
                    b = src[sp++] & 0xFF;
                    ml += b;
                } while (b == 255 && ml <= dEnd - dp);
            }
            ml += MIN_MATCH;
            if (ml > dEnd - dp) {
                throw corrupt("has a match of " + ml + " bytes at output byte " + (dp - dstOff)
                        + ", past the declared length " + originalLength);
            }
            copyMatch(dst, dp, offset, (int) ml);
            dp += (int) ml;
        }
    }

    /** Copies an earlier run forward; when it overlaps its source the period doubles with each copy. */
    private static void copyMatch(byte[] dst, int dp, int offset, int ml) {
        int from = dp - offset;
        if (offset >= ml) {
            System.arraycopy(dst, from, dst, dp, ml);
            return;
        }
        int done = 0;
        while (done < ml) {
            int n = Math.min(offset + done, ml - done);
            System.arraycopy(dst, from, dst, dp + done, n);
            done += n;
        }
    }

    private static CorruptDataException corrupt(String what) {
        return new CorruptDataException("lz4 block " + what);
    }

    @Override
    public String toString() {
        return "lz4";
    }
}
