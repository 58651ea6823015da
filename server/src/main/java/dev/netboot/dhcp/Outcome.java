package dev.netboot.dhcp;

/** What the engine made of one request: a reply to send, or a reason (a counter label) why not. */
public sealed interface Outcome {

    record Reply(Outbound outbound) implements Outcome {}

    /** {@code reason} is a short fixed label: it tags a counter, so it must not contain data. */
    record Drop(String reason) implements Outcome {}
}
