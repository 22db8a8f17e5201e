package dist.serial;

/** The first byte of every encoded value. */
final class Tags {
    private Tags() {
    }

    static final int NULL = 0, FALSE = 1, TRUE = 2, INT = 3, LONG = 4, STRING = 5, DOUBLE = 6, FLOAT = 7,
            BYTE = 8, SHORT = 9, CHAR = 10,
            BYTES = 11, BYTES_OOB = 12, BOOLS = 13, SHORTS = 14, CHARS = 15, INTS = 16, LONGS = 17,
            FLOATS = 18, DOUBLES = 19, OBJECTS = 20,
            LIST = 21, SET = 22, SORTED_SET = 23, MAP = 24, SORTED_MAP = 25,
            OPTIONAL_EMPTY = 26, OPTIONAL = 27, REF = 28,
            RECORD = 29, ENUM = 30, THROWABLE = 31, LAMBDA = 32, CODEC = 33, OBJECT = 34,
            /** An object, array, collection or map met before in this stream: its index in order of first meeting. */
            BACKREF = 35,
            // a list whose elements are all records of one class: count, the class once, then each record's slots
            RECORDS = 36;

    /** Not a wire tag: marks classes that cannot be encoded. */
    static final int UNSUPPORTED = -1;
}
