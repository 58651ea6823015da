package dev.netboot.packet;

import java.util.List;

/**
 * A classic BPF program (struct sock_filter[]) the kernel runs on every frame before it reaches a
 * socket: frames it rejects cost no copy and no wake-up. Attach with {@link PacketSocket#attachFilter}.
 */
public record SocketFilter(List<Instruction> instructions) {

    /** One struct sock_filter: opcode, jump offsets if true/false, constant. */
    public record Instruction(int code, int jt, int jf, int k) {}

    // The few opcodes our filters need (linux/filter.h).
    static final int LD_H_ABS = 0x28;  // BPF_LD | BPF_H | BPF_ABS
    static final int LD_B_ABS = 0x30;  // BPF_LD | BPF_B | BPF_ABS
    static final int JEQ_K = 0x15;     // BPF_JMP | BPF_JEQ | BPF_K
    static final int RET_K = 0x06;     // BPF_RET | BPF_K

    public SocketFilter {
        instructions = List.copyOf(instructions);
        if (instructions.isEmpty() || instructions.size() > 4096) throw new IllegalArgumentException("a filter has 1 to 4096 instructions");
    }

    /**
     * Keeps only Ethernet frames whose byte at each {@code offsets[i]} equals {@code values[i]} (and, for
     * {@code ethertype} &gt;= 0, whose ethertype is that); the rest are dropped in the kernel.
     */
    public static SocketFilter matchingBytes(int ethertype, int[] offsets, int[] values) {
        if (offsets.length != values.length) throw new IllegalArgumentException("one value per offset");
        var out = new java.util.ArrayList<Instruction>();
        int tests = offsets.length + (ethertype >= 0 ? 1 : 0);
        // Every test jumps to the final "drop" when it fails: the distance shrinks by 2 per test.
        int remaining = tests;
        if (ethertype >= 0) {
            out.add(new Instruction(LD_H_ABS, 0, 0, 12));
            remaining--;
            out.add(new Instruction(JEQ_K, 0, 2 * remaining + 1, ethertype));
        }
        for (int i = 0; i < offsets.length; i++) {
            out.add(new Instruction(LD_B_ABS, 0, 0, offsets[i]));
            remaining--;
            out.add(new Instruction(JEQ_K, 0, 2 * remaining + 1, values[i] & 0xFF));
        }
        out.add(new Instruction(RET_K, 0, 0, 0x40000)); // accept the whole frame
        out.add(new Instruction(RET_K, 0, 0, 0));       // drop
        return new SocketFilter(out);
    }
}
