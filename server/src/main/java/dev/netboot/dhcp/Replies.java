package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;



/**
 * Builds the engine's answers: the options for a lease, a subnet, a boot file or a proxy offer, the
 * BOOTREPLY around them, and where RFC 2131 §4.1 says to send it. Decides nothing about addresses.
 */
final class Replies {

    static final String PXE_CLIENT = "PXEClient";
    static final String HTTP_CLIENT = "HTTPClient";
    /** iPXE's encapsulated option (within 175) that tells it not to wait for ProxyDHCP offers. */
    static final int IPXE_NO_PXEDHCP = 176;

    private final Ipv4 configuredNextServer;

    Replies(DhcpSettings settings) { this.configuredNextServer = settings.nextServer(); }

    /** The subnet's options, without lease times (INFORM). */
    DhcpOptions.Builder subnetOptions(Pool pool) {
        DhcpOptions.Builder b = new DhcpOptions.Builder();
        b.address(OptionCode.SUBNET_MASK, pool.mask());
        if (!pool.router().isAny()) b.address(OptionCode.ROUTER, pool.router());
        if (!pool.dnsServers().isEmpty()) b.addresses(OptionCode.DNS_SERVERS, pool.dnsServers());
        if (!pool.domain().isEmpty()) b.text(OptionCode.DOMAIN_NAME, pool.domain());
        return b;
    }

    /** The subnet's options with the lease times (T1 = 1/2, T2 = 7/8) and a reservation's hostname. */
    DhcpOptions.Builder leaseOptions(Pool pool, Reservation reservation) {
        DhcpOptions.Builder b = subnetOptions(pool);
        long lease = pool.leaseSeconds();
        b.uint32(OptionCode.LEASE_TIME, lease);
        b.uint32(OptionCode.RENEWAL_TIME, lease / 2);
        b.uint32(OptionCode.REBINDING_TIME, lease * 7 / 8);
        if (reservation != null && !reservation.hostname().isEmpty()) b.text(OptionCode.HOSTNAME, reservation.hostname());
        return b;
    }

    /** Full mode: the boot file as BIOS ROMs read it (siaddr + file) and as options 66/67. */
    void addBootOptions(DhcpOptions.Builder b, Machine machine, BootPlan plan, Ipv4 local) {
        if (plan.isNone()) return;
        if (!plan.isUrl()) b.text(OptionCode.TFTP_SERVER, nextServer(plan, local).toString());
        b.text(OptionCode.BOOTFILE, plan.bootFile());
        // UEFI HTTP boot only accepts an offer that echoes its vendor class.
        if (machine.vendorClass().startsWith(HTTP_CLIENT)) b.text(OptionCode.VENDOR_CLASS, HTTP_CLIENT);
        // iPXE keeps discovering for ProxyDHCP offers after an offer like this one (no PXEClient vendor
        // class), about 15 s with its default timers, unless the offer sets its "no-pxedhcp" flag:
        // option 175, encapsulated option 176 = 1. This answer names the boot file already.
        if (machine.isIpxe()) b.bytes(OptionCode.IPXE_ENCAP, (byte) IPXE_NO_PXEDHCP, (byte) 1, (byte) 1);
    }

    /** Proxy mode and port 4011: the vendor class a PXE or HTTP-boot ROM looks for, and PXE's discovery control. */
    DhcpOptions.Builder proxyBootOptions(Machine machine) {
        DhcpOptions.Builder b = new DhcpOptions.Builder();
        boolean http = machine.vendorClass().startsWith(HTTP_CLIENT);
        b.text(OptionCode.VENDOR_CLASS, http ? HTTP_CLIENT : PXE_CLIENT);
        if (!http && !machine.isIpxe()) {
            // PXE 2.1 option 43, sub-option 6 (discovery control) = 8: boot the file named in this
            // offer, no boot-server discovery by multicast or broadcast.
            b.bytes(OptionCode.VENDOR_SPECIFIC, (byte) 6, (byte) 1, (byte) 8, (byte) 255);
        }
        return b;
    }

    Outbound nak(DhcpMessage m, Ipv4 local, String why) {
        DhcpOptions.Builder b = new DhcpOptions.Builder();
        b.text(OptionCode.MESSAGE, why);
        return reply(m, MessageType.NAK, Ipv4.ANY, local, b, BootPlan.NONE);
    }

    /** A reply from {@code local} (our server identifier), addressed as §4.1 says. */
    Outbound reply(DhcpMessage m, MessageType type, Ipv4 yiaddr, Ipv4 local, DhcpOptions.Builder extra, BootPlan plan) {
        Ipv4 ciaddr = type == MessageType.ACK ? m.ciaddr() : Ipv4.ANY;
        return address(m, build(m, type, yiaddr, local, extra, plan, ciaddr));
    }

    DhcpMessage build(DhcpMessage m, MessageType type, Ipv4 yiaddr, Ipv4 local, DhcpOptions.Builder extra, BootPlan plan, Ipv4 ciaddr) {
        DhcpOptions.Builder b = new DhcpOptions.Builder();
        b.messageType(type);
        b.address(OptionCode.SERVER_ID, local);
        extra.build().asMap().forEach(b::put);
        boolean boots = plan != null && !plan.isNone() && type != MessageType.NAK;
        if (boots && !plan.isUrl() && !b.has(OptionCode.TFTP_SERVER)) b.text(OptionCode.TFTP_SERVER, nextServer(plan, local).toString());
        if (boots && !b.has(OptionCode.BOOTFILE)) b.text(OptionCode.BOOTFILE, plan.bootFile());
        // RFC 6842: echo the client identifier.
        m.options().get(OptionCode.CLIENT_ID).ifPresent(id -> b.put(OptionCode.CLIENT_ID, id));
        Ipv4 siaddr = Ipv4.ANY;
        String file = "";
        if (boots) {
            // Also for a URL: iPXE takes a (proxy) answer as boot information only with siaddr and a
            // file name both set (dhcp_has_pxeopts), and ignores it otherwise. Found by IpxeProxyDhcpIT.
            siaddr = nextServer(plan, local);
            if (plan.bootFile().length() < DhcpCodec.FILE_LENGTH) file = plan.bootFile();
        }
        return new DhcpMessage(DhcpMessage.BOOTREPLY, m.htype(), 0, m.xid(), 0, m.flags(), ciaddr, yiaddr, siaddr, m.giaddr(),
                m.chaddr(), "", file, b.build());
    }

    /** RFC 2131 §4.1, "the server's reply": relay first, then ciaddr, then broadcast flag, then chaddr. */
    static Outbound address(DhcpMessage request, DhcpMessage reply) {
        MessageType type = reply.type();
        if (!request.giaddr().isAny()) {
            DhcpMessage r = type == MessageType.NAK ? reply.withFlags(reply.flags() | DhcpMessage.FLAG_BROADCAST) : reply;
            return new Outbound(r, request.giaddr(), 67, Outbound.Delivery.UNICAST);
        }
        if (type == MessageType.NAK) return new Outbound(reply, Ipv4.BROADCAST, 68, Outbound.Delivery.BROADCAST);
        if (!request.ciaddr().isAny()) return new Outbound(reply, request.ciaddr(), 68, Outbound.Delivery.UNICAST);
        if (request.broadcastFlag() || reply.yiaddr().isAny()) return new Outbound(reply, Ipv4.BROADCAST, 68, Outbound.Delivery.BROADCAST);
        return new Outbound(reply, reply.yiaddr(), 68, Outbound.Delivery.UNICAST_TO_HARDWARE);
    }

    private Ipv4 nextServer(BootPlan plan, Ipv4 local) {
        if (!plan.nextServer().isBlank()) return Ipv4.parse(plan.nextServer());
        return configuredNextServer.isAny() ? local : configuredNextServer;
    }
}
