package dev.netboot.testlib;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * A million inputs at one decoder: mutations of real, valid frames (flipped and random bytes, cuts,
 * zero tails, splices of two seeds) and plain random bytes. Every input must either decode or be refused
 * with the decoder's own typed exception; anything else (an index out of bounds, a record's argument
 * check, an OutOfMemoryError) fails, naming the seed and the input so it reproduces.
 */
public final class Fuzz {

    public static final int MILLION = 1_000_000;

    /** The decoder under test; it may throw its typed refusal. */
    @FunctionalInterface
    public interface Decoder {
        void decode(byte[] input) throws Exception;
    }

    /** How many inputs decoded and how many were refused. */
    public record Outcome(int decoded, int refused) {}

    private Fuzz() {}

    public static Outcome run(List<byte[]> seeds, int inputs, long seed, Class<? extends Exception> refusal, Decoder decoder) {
        Random r = new Random(seed);
        int decoded = 0, refused = 0;
        for (int i = 0; i < inputs; i++) {
            byte[] input = i % 16 == 0 ? random(r) : mutate(seeds.get(r.nextInt(seeds.size())), seeds, r);
            try {
                decoder.decode(input);
                decoded++;
            } catch (Exception e) {
                if (!refusal.isInstance(e)) throw crash(i, seed, input, e);
                refused++;
            } catch (Error e) {
                throw crash(i, seed, input, e);
            }
        }
        return new Outcome(decoded, refused);
    }

    private static AssertionError crash(int i, long seed, byte[] input, Throwable e) {
        return new AssertionError("input " + i + " (seed " + Long.toHexString(seed) + ") crashed the decoder with " + e
                + ": " + HexFormat.of().formatHex(input), e);
    }

    private static byte[] random(Random r) {
        byte[] b = new byte[r.nextInt(1600)];
        r.nextBytes(b);
        return b;
    }

    private static byte[] mutate(byte[] seed, List<byte[]> seeds, Random r) {
        byte[] p = seed.clone();
        int n = 1 + r.nextInt(4);
        for (int k = 0; k < n && p.length > 0; k++) {
            switch (r.nextInt(7)) {
                case 0, 1 -> p[r.nextInt(p.length)] = (byte) r.nextInt(256);
                case 2 -> p[r.nextInt(p.length)] ^= (byte) (1 << r.nextInt(8));
                case 3 -> p = Arrays.copyOf(p, r.nextInt(p.length + 1));
                case 4 -> p = Arrays.copyOf(p, p.length + r.nextInt(64));
                case 5 -> p[r.nextInt(p.length)] = (byte) (r.nextBoolean() ? 0xff : 0);
                default -> {
                    byte[] other = seeds.get(r.nextInt(seeds.size()));
                    int cut = r.nextInt(p.length + 1);
                    byte[] spliced = Arrays.copyOf(p, cut + Math.max(0, other.length - cut));
                    if (other.length > cut) System.arraycopy(other, cut, spliced, cut, other.length - cut);
                    p = spliced;
                }
            }
        }
        return p;
    }
}
