package gemel.engine.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restricted unpickler for the {@code data.pkl} of a {@code torch.save} checkpoint. It builds
 * plain Java values (String, Long, Double, Boolean, null, byte[], List for lists and tuples,
 * LinkedHashMap for dicts) and never runs anything: the only globals it accepts are the few a state
 * dict needs, each interpreted here — {@code collections.OrderedDict}, {@code
 * torch._utils._rebuild_tensor_v2} (giving a {@link TensorRef}), {@code
 * torch._utils._rebuild_parameter} (unwrapped to its tensor), and storage types such as {@code
 * torch.FloatStorage}, which only tag a storage. Any other global is refused by name.
 */
final class TorchPickle {
    /** A storage named by a persistent id: its bytes are the zip entry {@code data/<key>}. */
    record StorageRef(String type, String key, long elements) {}

    /** A tensor as {@code _rebuild_tensor_v2} describes it: a strided view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    /** A global the pickle named and we accept; what it means is decided when it is used. */
    private record Global(String module, String name) {
        @Override
        public String toString() { return module + "." + name; }
    }

    private static final Global ORDERED_DICT = new Global("collections", "OrderedDict");
    private static final Global REBUILD_TENSOR = new Global("torch._utils", "_rebuild_tensor_v2");
    private static final Global REBUILD_PARAMETER = new Global("torch._utils", "_rebuild_parameter");
    /** Storage classes a checkpoint may name; only Float, Half and BFloat16 can be read as weights. */
    private static final Set<String> STORAGE_TYPES = Set.of("FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage",
            "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage");
    private static final Object MARK = new Object() {
        @Override
        public String toString() { return "MARK"; }
    };

    private final String source;
    private final MemorySegment bytes;
    private long pos;
    private final List<Object> stack = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private TorchPickle(String source, MemorySegment bytes) {
        this.source = source;
        this.bytes = bytes;
    }

    /** The object {@code bytes} pickles; {@code source} names the file in errors. */
    static Object load(String source, MemorySegment bytes) {
        return new TorchPickle(source, bytes).run();
    }

    private Object run() {
        while (true) {
            long at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> u8(); // PROTO: any protocol whose opcodes we know is fine
                case 0x95 -> fixed(8); // FRAME: a length hint for buffered readers
                case '.' -> { // STOP
                    Object result = pop();
                    if (!stack.isEmpty()) throw bad(at, "STOP leaves " + stack.size() + " values on the stack");
                    return result;
                }
                case 'c' -> push(global(line(), line())); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) throw bad(at, "STACK_GLOBAL needs two strings");
                    push(global(m, n));
                }
                case 'q' -> memo.put((long) u8(), top()); // BINPUT
                case 'r' -> memo.put(u32(), top()); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), top()); // MEMOIZE
                case 'h' -> push(memoGet(u8(), at)); // BINGET
                case 'j' -> push(memoGet(u32(), at)); // LONG_BINGET
                case '(' -> push(MARK);
                case '0' -> pop(); // POP
                case '1' -> popMark(at); // POP_MARK
                case '2' -> push(top()); // DUP
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case ')' -> push(List.of()); // EMPTY_TUPLE
                case 0x85 -> push(tuple(1)); // TUPLE1
                case 0x86 -> push(tuple(2)); // TUPLE2
                case 0x87 -> push(tuple(3)); // TUPLE3
                case 't' -> push(Collections.unmodifiableList(popMark(at))); // TUPLE
                case 'l' -> push(popMark(at)); // LIST
                case 'd' -> push(putAll(new LinkedHashMap<>(), popMark(at), at)); // DICT
                case 's' -> { // SETITEM
                    Object value = pop(), key = pop();
                    dict(top(), at).put(key, value);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark(at);
                    putAll(dict(top(), at), items, at);
                }
                case 'a' -> { // APPEND
                    Object value = pop();
                    list(top(), at).add(value);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark(at);
                    list(top(), at).addAll(items);
                }
                case 'J' -> push((long) (int) u32()); // BININT: signed
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) u16()); // BININT2
                case 0x8a -> push(longLE(u8(), at)); // LONG1
                case 0x8b -> push(longLE(length(u32(), at), at)); // LONG4
                case 'G' -> push(Double.longBitsToDouble(bigEndianLong())); // BINFLOAT
                case 'N' -> push(null); // NONE
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'X' -> push(utf8(length(u32(), at))); // BINUNICODE
                case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(length(fixed(8), at))); // BINUNICODE8
                case 'U' -> push(latin1(u8())); // SHORT_BINSTRING
                case 'T' -> push(latin1(length(u32(), at))); // BINSTRING
                case 'C' -> push(raw(u8())); // SHORT_BINBYTES
                case 'B' -> push(raw(length(u32(), at))); // BINBYTES
                case 'Q' -> push(persistent(pop(), at)); // BINPERSID
                case 'R' -> { // REDUCE
                    Object args = pop(), callable = pop();
                    push(reduce(callable, args, at));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    build(top(), state, at);
                }
                default -> throw bad(at, String.format("unsupported pickle opcode 0x%02x", op));
            }
        }
    }

    private Global global(String module, String name) {
        Global g = new Global(module, name);
        if (g.equals(ORDERED_DICT) || g.equals(REBUILD_TENSOR) || g.equals(REBUILD_PARAMETER)) return g;
        if (module.equals("torch") && STORAGE_TYPES.contains(name)) return g;
        throw new IllegalArgumentException("refusing to load " + g + " from " + source + ": a checkpoint must not run code");
    }

    private Object reduce(Object callable, Object args, long at) {
        if (!(callable instanceof Global g)) throw bad(at, "REDUCE on a " + typeName(callable) + ", not a global");
        List<Object> a = tupleArg(args, g, at);
        if (g.equals(ORDERED_DICT)) {
            if (!a.isEmpty()) throw bad(at, "OrderedDict with constructor arguments");
            return new LinkedHashMap<>();
        }
        if (g.equals(REBUILD_PARAMETER)) {
            if (a.size() != 3 || !(a.get(0) instanceof TensorRef t)) throw bad(at, g + " expects (tensor, requires_grad, hooks)");
            return t;
        }
        if (g.equals(REBUILD_TENSOR)) {
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            if ((a.size() != 6 && a.size() != 7) || !(a.get(0) instanceof StorageRef storage) || !(a.get(1) instanceof Long offset))
                throw bad(at, g + " with unexpected arguments " + a);
            long[] size = longs(a.get(2), "size", at), stride = longs(a.get(3), "stride", at);
            if (size.length != stride.length) throw bad(at, "tensor size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride) + " differ in rank");
            return new TensorRef(storage, offset, size, stride);
        }
        throw bad(at, g + " is a storage type, not something to call");
    }

    /** The persistent id of a storage: ('storage', storage_type, key, location, numel). */
    private StorageRef persistent(Object pid, long at) {
        if (pid instanceof List<?> t && t.size() == 5 && "storage".equals(t.get(0)) && t.get(1) instanceof Global type
                && type.module.equals("torch") && STORAGE_TYPES.contains(type.name) && t.get(2) instanceof String key
                && t.get(4) instanceof Long elements && elements >= 0)
            return new StorageRef(type.name, key, elements);
        throw bad(at, "unexpected persistent id " + pid);
    }

    /** BUILD sets Python attributes; on a dict (a state dict's {@code _metadata}) they carry nothing we read. */
    private void build(Object target, Object state, long at) {
        if (!(target instanceof Map<?, ?>) || !(state instanceof Map<?, ?>))
            throw bad(at, "BUILD of a " + typeName(target) + " with a " + typeName(state));
    }

    private List<Object> tupleArg(Object args, Global g, long at) {
        if (args instanceof List<?> list) {
            @SuppressWarnings("unchecked") List<Object> a = (List<Object>) list;
            return a;
        }
        throw bad(at, g + " called with a " + typeName(args) + " instead of a tuple");
    }

    private long[] longs(Object tuple, String what, long at) {
        if (!(tuple instanceof List<?> list)) throw bad(at, "tensor " + what + " is a " + typeName(tuple));
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v) || v < 0) throw bad(at, "tensor " + what + " " + list + " is not non-negative integers");
            out[i] = v;
        }
        return out;
    }

    private Map<Object, Object> putAll(Map<Object, Object> dict, List<Object> items, long at) {
        if (items.size() % 2 != 0) throw bad(at, "odd number of dict items");
        for (int i = 0; i < items.size(); i += 2) dict.put(items.get(i), items.get(i + 1));
        return dict;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, long at) {
        if (o instanceof LinkedHashMap<?, ?> m) return (Map<Object, Object>) m;
        throw bad(at, "setting an item on a " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, long at) {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw bad(at, "appending to a " + typeName(o));
    }

    private List<Object> tuple(int n) {
        List<Object> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) items.addFirst(pop());
        return Collections.unmodifiableList(items);
    }

    /** Pops everything above the topmost MARK, and the MARK. */
    private List<Object> popMark(long at) {
        int mark = stack.lastIndexOf(MARK);
        if (mark < 0) throw bad(at, "no MARK on the stack");
        List<Object> items = new ArrayList<>(stack.subList(mark + 1, stack.size()));
        stack.subList(mark, stack.size()).clear();
        return items;
    }

    private Object memoGet(long key, long at) {
        if (!memo.containsKey(key)) throw bad(at, "memo key " + key + " was never stored");
        return memo.get(key);
    }

    private void push(Object o) { stack.add(o); }

    private Object pop() {
        if (stack.isEmpty()) throw bad(pos - 1, "stack underflow");
        Object o = stack.removeLast();
        if (o == MARK) throw bad(pos - 1, "a MARK where a value was expected");
        return o;
    }

    private Object top() {
        if (stack.isEmpty() || stack.getLast() == MARK) throw bad(pos - 1, "no value on the stack");
        return stack.getLast();
    }

    private int u8() {
        need(1);
        return bytes.get(ValueLayout.JAVA_BYTE, pos++) & 0xff;
    }

    private int u16() {
        need(2);
        int v = bytes.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos) & 0xffff;
        pos += 2;
        return v;
    }

    private long u32() {
        need(4);
        long v = bytes.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos) & 0xFFFFFFFFL;
        pos += 4;
        return v;
    }

    private long fixed(int n) {
        need(n);
        long v = bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos);
        pos += n;
        return v;
    }

    private long bigEndianLong() {
        need(8);
        long v = bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), pos);
        pos += 8;
        return v;
    }

    /** A little-endian two's complement integer of {@code n} bytes (LONG1/LONG4); more than 64 bits is refused. */
    private long longLE(int n, long at) {
        if (n > 8) throw bad(at, "integer of " + n + " bytes does not fit 64 bits");
        byte[] b = raw(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | (b[i] & 0xff);
        if (n > 0 && n < 8 && b[n - 1] < 0) v |= -1L << (8 * n); // sign-extend
        return v;
    }

    private int length(long n, long at) {
        if (n < 0 || n > bytes.byteSize() - pos) throw bad(at, "length " + n + " runs past the end of the pickle");
        return (int) n;
    }

    private byte[] raw(int n) {
        need(n);
        byte[] b = bytes.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        return b;
    }

    private String utf8(int n) { return new String(raw(n), StandardCharsets.UTF_8); }

    private String latin1(int n) { return new String(raw(n), StandardCharsets.ISO_8859_1); }

    /** A newline-terminated text argument (GLOBAL's module and name). */
    private String line() {
        long start = pos;
        while (true) {
            need(1);
            if (bytes.get(ValueLayout.JAVA_BYTE, pos++) == '\n')
                return new String(bytes.asSlice(start, pos - 1 - start).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    private void need(long n) {
        if (pos + n > bytes.byteSize()) throw bad(pos, "the pickle ends early");
    }

    private static String typeName(Object o) { return o == null ? "None" : o.getClass().getSimpleName(); }

    private IllegalArgumentException bad(long at, String what) {
        return new IllegalArgumentException(source + ": bad pickle at byte " + at + ": " + what);
    }
}
