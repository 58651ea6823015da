package dev.netboot.tftp;

import dev.netboot.files.ServedFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The server side of one read transfer, as a sans-I/O state machine: packets and the clock go in,
 * packets to send come out. The adapter owns the socket and calls {@link #onTimeout} once
 * {@link #deadlineNanos()} has passed.
 *
 * <p>Blocks are numbered internally with a {@code long} and put on the wire modulo 2^16, so files
 * over 32 MiB at blksize 512 roll over to block 0 as tftp-hpa, curl and iPXE expect. With a window
 * of N (RFC 7440) up to N blocks are in flight; an ACK for block k slides the window to k+1.
 *
 * <p>Only the retransmission timer ever resends. A duplicate ACK (one that does not advance the
 * window) is ignored, which is what prevents the Sorcerer's Apprentice syndrome of RFC 1123 §4.2.3.1.
 */
public final class ReadTransfer {

    /**
     * {@code SIZE_QUERIED}: the client asked for tsize and ended the transfer at our OACK (any ERROR in
     * answer to it). That is how PXE firmware learns a file's size before it fetches it (EDK2 sends ERROR 8
     * "User aborted the transfer", then the real read): a normal end, not a failure.
     */
    public enum State { AWAITING_OACK_ACK, SENDING, COMPLETE, SIZE_QUERIED, FAILED }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

    private final ServedFile file;
    private final TransferOptions options;
    private final RetransmitPolicy policy;
    private final RoundTripEstimator rtt;
    private final long lastBlock;

    private State state;
    private String failure = "";
    private long acked;          // highest block the client confirmed (0: none, or the OACK)
    private long sent;           // highest block sent so far
    private long deadline = Long.MAX_VALUE;
    private long lastSendTime;
    private int retriesInARow;
    private long lastProgress;
    private long retransmissions;
    private long bytesSent;
    /** Send time of each block in the window, for RTT samples; -1 once a block has been resent (Karn). */
    private final long[] sentAt;

    public ReadTransfer(ServedFile file, TransferOptions options, RetransmitPolicy policy) {
        this.file = file;
        this.options = options;
        this.policy = policy;
        // The client's RFC 2349 timeout bounds the first interval; back-off may then exceed it, on purpose:
        // atftp re-ACKs a lost window only after its own timer sees seconds of silence, so a server that
        // keeps resending every second or faster would never hear from it again.
        long first = options.timeout().map(t -> Math.min(t.toNanos(), policy.initial().toNanos())).orElse(policy.initial().toNanos());
        this.rtt = new RoundTripEstimator(Math.max(first, policy.min().toNanos()), policy.min().toNanos(), policy.max().toNanos());
        this.lastBlock = file.size() / options.blockSize() + 1;
        this.sentAt = new long[options.windowSize()];
        this.state = options.sendsOptionAck() ? State.AWAITING_OACK_ACK : State.SENDING;
    }

    /** The first packets: an OACK when options were negotiated, else the first window of DATA. */
    public List<TftpPacket> start(long now) {
        lastProgress = now;
        if (state == State.AWAITING_OACK_ACK) {
            arm(now);
            return List.of(new TftpPacket.OptionAck(options.oack()));
        }
        return sendFrom(1, now);
    }

    public List<TftpPacket> onPacket(TftpPacket packet, long now) {
        return switch (packet) {
            case TftpPacket.Ack ack -> onAck(ack.block(), now);
            case TftpPacket.Error error when state == State.AWAITING_OACK_ACK && options.oack().containsKey("tsize") -> {
                state = State.SIZE_QUERIED;
                deadline = Long.MAX_VALUE;
                yield List.of();
            }
            case TftpPacket.Error error -> {
                fail("client sent error " + error.code().code() + " (" + error.message() + ")");
                yield List.of();
            }
            default -> {
                fail("client sent unexpected " + packet.getClass().getSimpleName() + " during a read");
                yield List.of(new TftpPacket.Error(TftpError.ILLEGAL_OPERATION, "unexpected packet during a read transfer"));
            }
        };
    }

    private List<TftpPacket> onAck(int wireBlock, long now) {
        if (state == State.AWAITING_OACK_ACK) {
            if (wireBlock != 0) return List.of();
            if (retriesInARow == 0) rtt.sample(now - lastSendTime);
            state = State.SENDING;
            retriesInARow = 0;
            lastProgress = now;
            return sendFrom(1, now);
        }
        if (state != State.SENDING) return List.of();
        long block = inFlight(wireBlock);
        if (block < 0) return List.of();   // duplicate or stale ACK: never answered (Sorcerer's Apprentice)
        long sample = sentAt[(int) (block % sentAt.length)];
        if (sample >= 0) rtt.sample(now - sample);
        acked = block;
        retriesInARow = 0;
        lastProgress = now;
        if (acked == lastBlock) {
            state = State.COMPLETE;
            deadline = Long.MAX_VALUE;
            return List.of();
        }
        // Blocks after an ACK that comes from inside the window were lost or are late: resend from there.
        return sendFrom(acked + 1, now);
    }

    /** The in-flight block (acked, sent] whose wire number is {@code wire}, or -1. */
    private long inFlight(int wire) {
        long distance = (wire - (acked & 0xFFFF)) & 0xFFFF;
        if (distance == 0) return -1;
        long block = acked + distance;
        return block <= sent ? block : -1;
    }

    public List<TftpPacket> onTimeout(long now) {
        if (now < deadline || (state != State.SENDING && state != State.AWAITING_OACK_ACK)) return List.of();
        if (now - lastProgress >= policy.giveUpAfter().toNanos()) {
            fail("client stopped answering: nothing for " + policy.giveUpAfter().toSeconds() + " s after " + retriesInARow
                    + " retransmissions (last ACK: block " + acked + " of " + lastBlock + ")");
            return List.of();
        }
        retriesInARow++;
        rtt.backOff();
        if (state == State.AWAITING_OACK_ACK) {
            retransmissions++;
            arm(now);
            return List.of(new TftpPacket.OptionAck(options.oack()));
        }
        return sendFrom(acked + 1, now);
    }

    /** Sends a full window starting at {@code first}; blocks already sent once are marked as resent. */
    private List<TftpPacket> sendFrom(long first, long now) {
        long last = Math.min(lastBlock, acked + options.windowSize());
        List<TftpPacket> out = new ArrayList<>((int) Math.max(0, last - first + 1));
        try {
            for (long block = first; block <= last; block++) {
                out.add(data(block));
                boolean resend = block <= sent;
                if (resend) retransmissions++;   // per packet: says how much went out twice
                sentAt[(int) (block % sentAt.length)] = resend ? -1 : now;
            }
        } catch (IOException | InternalError e) {
            // InternalError: a mapped file truncated under us, where HotSpot delivered the fault of compiled code at a
            // safepoint poll after slice() had returned or at its return (slice() itself makes it an IOException).
            fail("reading the file failed: " + e.getMessage());
            return List.of(new TftpPacket.Error(TftpError.NOT_DEFINED, "server could not read the file"));
        }
        sent = Math.max(sent, last);
        arm(now);
        return out;
    }

    private TftpPacket.Data data(long block) throws IOException {
        long offset = (block - 1) * options.blockSize();
        int length = (int) Math.min(options.blockSize(), Math.max(0, file.size() - offset));
        // A view of the file where it is in memory (a mapped kernel): no copy, no block-sized garbage per packet.
        ByteBuffer payload = length > 0 ? file.slice(offset, length) : EMPTY;
        if (payload.remaining() != length) throw new IOException("file shrank while being served");
        bytesSent += length;
        return new TftpPacket.Data((int) (block & 0xFFFF), payload);
    }

    private void arm(long now) {
        lastSendTime = now;
        deadline = now + rtt.timeoutNanos();
    }

    private void fail(String why) {
        state = State.FAILED;
        failure = why;
        deadline = Long.MAX_VALUE;
    }

    public State state() { return state; }
    public boolean isFinished() { return state == State.COMPLETE || state == State.SIZE_QUERIED || state == State.FAILED; }
    public String failure() { return failure; }
    public long deadlineNanos() { return deadline; }
    public long retransmissions() { return retransmissions; }
    /** DATA payload bytes put on the wire, resends included. */
    public long bytesSent() { return bytesSent; }
    public long fileSize() { return file.size(); }
    public TransferOptions options() { return options; }
}
