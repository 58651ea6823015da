package dev.netboot.tftp;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;

class TransferSlotsTest {

    static InetAddress ip(String s) throws Exception { return InetAddress.getByName(s); }

    @Test
    void oneAddressCannotTakeEverySlot() throws Exception {
        TransferSlots slots = new TransferSlots(1000, 16);
        for (int i = 0; i < 16; i++) assertThat(slots.acquire(ip("198.18.0.2"))).isEmpty();
        assertThat(slots.acquire(ip("198.18.0.2"))).get().asString().contains("16 transfers to your address");
        assertThat(slots.acquire(ip("198.18.0.3"))).as("another client still gets one").isEmpty();
        assertThat(slots.active()).isEqualTo(17);
    }

    @Test
    void aReleasedSlotCanBeTakenAgainAndEmptyAddressesAreForgotten() throws Exception {
        TransferSlots slots = new TransferSlots(1000, 1);
        assertThat(slots.acquire(ip("198.18.0.2"))).isEmpty();
        assertThat(slots.acquire(ip("198.18.0.2"))).isPresent();
        slots.release(ip("198.18.0.2"));
        assertThat(slots.addresses()).isZero();
        assertThat(slots.acquire(ip("198.18.0.2"))).isEmpty();
    }

    @Test
    void theTotalStillCaps() throws Exception {
        TransferSlots slots = new TransferSlots(3, 2);
        assertThat(slots.acquire(ip("198.18.0.2"))).isEmpty();
        assertThat(slots.acquire(ip("198.18.0.3"))).isEmpty();
        assertThat(slots.acquire(ip("198.18.0.4"))).isEmpty();
        assertThat(slots.acquire(ip("198.18.0.5"))).get().asString().contains("server busy: 3 transfers");
    }
}
