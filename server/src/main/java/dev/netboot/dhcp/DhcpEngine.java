package dev.netboot.dhcp;

import dev.netboot.boot.BootPlan;
import dev.netboot.boot.BootPolicy;
import dev.netboot.boot.ClientArch;
import dev.netboot.boot.Machine;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The DHCP server without I/O: a decoded request and the time in, a reply and its addressing out
 * (RFC 2131 §4.3 for what to answer, §4.1 for where to send it). Owns the lease table; every
 * change to a bound, freed or declined lease goes to the {@link LeaseStore}.
 *
 * <p>In {@link DhcpMode#PROXY} it answers network-boot clients only, with boot information and
 * never an address (PXE 2.1 proxyDHCP, on port 67 and the boot-server port 4011).
 */
public final class DhcpEngine {

    public static final String PXE_CLIENT = "PXEClient";
    /** iPXE's encapsulated option (within 175) that tells it not to wait for ProxyDHCP offers. */
    static final int IPXE_NO_PXEDHCP = 176;
    public static final String HTTP_CLIENT = "HTTPClient";

    private final DhcpSettings settings;
    private final BootPolicy policy;
    private final LeaseStore store;
    private final ClientObserver observer;

    private final Map<Ipv4, Lease> byAddress = new HashMap<>();
    private final Map<String, Ipv4> byClient = new HashMap<>();
    private final Map<String, Reservation> reservationByMac = new HashMap<>();
    private final Set<Ipv4> reserved = new HashSet<>();
    /** Per pool: the next never-used address to try, so allocation is O(1) until a pool fills. */
    private final long[] cursor;

    public DhcpEngine(DhcpSettings settings, BootPolicy policy, LeaseStore store, ClientObserver observer) {
        this.settings = settings;
        this.policy = policy;
        this.store = store;
        this.observer = observer;
        for (Reservation r : settings.reservations()) {
            reservationByMac.put(r.mac(), r);
            reserved.add(r.address());
        }
        this.cursor = new long[settings.pools().size()];
        for (Lease l : store.loadAll()) {
            if (l.state() == Lease.State.OFFERED) continue;
            byAddress.put(l.address(), l);
            byClient.put(l.clientKey(), l.address());
        }
    }

    public DhcpSettings settings() { return settings; }

    public synchronized List<Lease> leases() { return List.copyOf(byAddress.values()); }

    /** Bound leases that ran out become free (remembered for their client); returns how many. */
    public synchronized int expire(Instant now) {
        int n = 0;
        // In place, without copying: this runs on the event loop, over every lease we hold.
        for (var it = byAddress.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            Lease l = entry.getValue();
            if (l.expires().isAfter(now)) continue;
            if (l.state() == Lease.State.BOUND || l.state() == Lease.State.DECLINED) {
                Lease freed = l.with(Lease.State.FREE, l.expires());
                entry.setValue(freed);
                store.save(freed);
                n++;
            } else if (l.state() == Lease.State.OFFERED) {
                it.remove();
                byClient.remove(l.clientKey(), l.address());
            }
        }
        return n;
    }

    public synchronized Outcome handle(Inbound in, Instant now) {
        DhcpMessage m = in.message();
        if (m.op() != DhcpMessage.BOOTREQUEST) return drop("not-a-request");
        MessageType type = m.type();
        if (type == null) return drop("no-message-type");
        Machine machine = machine(m);
        if (in.bootServer()) return bootServer(in, type, machine, now);
        return switch (settings.mode()) {
            case OFF -> drop("mode-off");
            case PROXY -> proxy(in, type, machine, now);
            case FULL -> full(in, type, machine, now);
        };
    }

    // ---- proxyDHCP --------------------------------------------------------------------------

    private Outcome proxy(Inbound in, MessageType type, Machine machine, Instant now) {
        if (!isPxe(machine)) return drop("not-pxe");
        DhcpMessage m = in.message();
        switch (type) {
            case DISCOVER -> {
                observer.seen(machine, now);
                BootPlan plan = planFor(machine, in.local());
                if (plan.isNone()) return drop("no-boot-file");
                // iPXE takes the boot file from this offer and never asks again on 4011, so the
                // offer is the moment the boot decision is made.
                observer.booted(machine, plan, Ipv4.ANY, now);
                return reply(m, MessageType.OFFER, Ipv4.ANY, in.local(), proxyBootOptions(machine, plan, in.local()), plan, in.local());
            }
            case REQUEST -> {
                // Some ROMs send their proxy REQUEST to port 67; answer it only when it names us.
                Optional<Ipv4> serverId = m.options().address(OptionCode.SERVER_ID);
                if (serverId.isEmpty() || !serverId.get().equals(in.local())) return drop("request-for-other-server");
                BootPlan plan = planFor(machine, in.local());
                if (plan.isNone()) return drop("no-boot-file");
                observer.booted(machine, plan, m.ciaddr(), now);
                return reply(m, MessageType.ACK, Ipv4.ANY, in.local(), proxyBootOptions(machine, plan, in.local()), plan, in.local());
            }
            default -> {
                return drop("proxy-ignores-" + type.name().toLowerCase());
            }
        }
    }

    /** Port 4011: the client has its address and asks us, by unicast, for the boot file. */
    private Outcome bootServer(Inbound in, MessageType type, Machine machine, Instant now) {
        if (settings.mode() == DhcpMode.OFF) return drop("mode-off");
        if (type != MessageType.REQUEST && type != MessageType.INFORM) return drop("boot-server-ignores-" + type.name().toLowerCase());
        if (!isPxe(machine)) return drop("not-pxe");
        DhcpMessage m = in.message();
        BootPlan plan = planFor(machine, in.local());
        if (plan.isNone()) return drop("no-boot-file");
        observer.seen(machine, now);
        observer.booted(machine, plan, m.ciaddr(), now);
        DhcpMessage ack = build(m, MessageType.ACK, Ipv4.ANY, in.local(), proxyBootOptions(machine, plan, in.local()), plan, in.local(), m.ciaddr());
        Ipv4 to = !in.source().isAny() ? in.source() : m.ciaddr();
        if (to.isAny()) return drop("boot-server-request-without-address");
        return new Outcome.Reply(new Outbound(ack, to, in.sourcePort(), Outbound.Delivery.UNICAST));
    }

    /** Asks the policy; "${server}" in a URL becomes the address the client reached us at. */
    private BootPlan planFor(Machine machine, Ipv4 local) {
        BootPlan plan = policy.planFor(machine);
        if (!plan.bootFile().contains("${server}")) return plan;
        return new BootPlan(plan.bootFile().replace("${server}", local.toString()), plan.nextServer());
    }

    private DhcpOptions.Builder proxyBootOptions(Machine machine, BootPlan plan, Ipv4 local) {
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

    private static boolean isPxe(Machine m) {
        return m.vendorClass().startsWith(PXE_CLIENT) || m.vendorClass().startsWith(HTTP_CLIENT) || m.isIpxe();
    }

    // ---- full DHCP --------------------------------------------------------------------------

    private Outcome full(Inbound in, MessageType type, Machine machine, Instant now) {
        DhcpMessage m = in.message();
        Ipv4 link = m.giaddr().isAny() ? in.local() : m.giaddr();
        int poolIndex = poolIndex(link);
        if (poolIndex < 0) return drop("no-pool-for-link");
        Pool pool = settings.pools().get(poolIndex);
        String key = clientKey(m);
        Optional<Ipv4> serverId = m.options().address(OptionCode.SERVER_ID);
        switch (type) {
            case DISCOVER -> {
                if (machine.isNetworkBoot()) observer.seen(machine, now);
                Ipv4 address = choose(poolIndex, key, machine.mac(), m.options().address(OptionCode.REQUESTED_ADDRESS).orElse(null), in.local(), now);
                if (address == null) return drop("pool-exhausted");
                Lease current = byAddress.get(address);
                // A bound client that starts over keeps its binding until it requests again or it expires.
                boolean stillBound = current != null && current.clientKey().equals(key) && current.state() == Lease.State.BOUND && current.isActive(now);
                if (!stillBound) hold(address, key, machine, Lease.State.OFFERED, now.plus(settings.offerHold()), false);
                return addressReply(m, MessageType.OFFER, address, pool, machine, in.local(), now);
            }
            case REQUEST -> {
                if (serverId.isPresent()) {
                    if (!serverId.get().equals(in.local())) {
                        // SELECTING, and the client chose another server: our offer is free again.
                        Ipv4 offered = byClient.get(key);
                        Lease offer = offered == null ? null : byAddress.get(offered);
                        if (offer != null && offer.state() == Lease.State.OFFERED) {
                            byAddress.remove(offered);
                            byClient.remove(key);
                        }
                        return drop("client-chose-other-server");
                    }
                    Ipv4 requested = m.options().address(OptionCode.REQUESTED_ADDRESS).orElse(m.ciaddr());
                    Ipv4 ours = byClient.get(key);
                    Lease lease = ours == null ? null : byAddress.get(ours);
                    if (lease == null || !lease.address().equals(requested)
                            || (lease.state() != Lease.State.OFFERED && lease.state() != Lease.State.BOUND)) {
                        return nak(m, in.local(), "requested address was not offered to this client");
                    }
                    return bind(m, requested, pool, key, machine, in.local(), now);
                }
                // INIT-REBOOT (ciaddr 0, option 50) or RENEWING/REBINDING (ciaddr set).
                Ipv4 requested = m.ciaddr().isAny() ? m.options().address(OptionCode.REQUESTED_ADDRESS).orElse(null) : m.ciaddr();
                if (requested == null) return drop("request-without-address");
                if (!pool.inSubnet(requested)) return nak(m, in.local(), "wrong network");
                Lease existing = byAddress.get(requested);
                boolean mine = existing != null && existing.clientKey().equals(key);
                if (existing != null && !mine && existing.isActive(now)) return nak(m, in.local(), "address belongs to another client");
                Reservation r = reservationByMac.get(machine.mac());
                if (r != null && !r.address().equals(requested)) return nak(m, in.local(), "client has a reserved address");
                if (!mine && reserved.contains(requested)) return nak(m, in.local(), "address is reserved for another client");
                if (mine && existing.state() == Lease.State.DECLINED) return nak(m, in.local(), "address was declined");
                if (!mine && !pool.inRange(requested) && r == null) return drop("unknown-address-outside-pool");
                return bind(m, requested, pool, key, machine, in.local(), now);
            }
            case DECLINE -> {
                if (serverId.isPresent() && !serverId.get().equals(in.local())) return drop("decline-for-other-server");
                Ipv4 address = m.options().address(OptionCode.REQUESTED_ADDRESS).orElse(null);
                if (address == null) return drop("decline-without-address");
                Lease l = byAddress.get(address);
                if (l == null || !l.clientKey().equals(key)) return drop("decline-of-unknown-lease");
                Lease quarantined = l.with(Lease.State.DECLINED, now.plus(settings.declineQuarantine()));
                byAddress.put(address, quarantined);
                byClient.remove(key, address);
                store.save(quarantined);
                return drop("declined");
            }
            case RELEASE -> {
                Lease l = byAddress.get(m.ciaddr());
                if (l == null || !l.clientKey().equals(key) || l.state() != Lease.State.BOUND) return drop("release-of-unknown-lease");
                Lease freed = l.with(Lease.State.FREE, now);
                byAddress.put(l.address(), freed);
                store.save(freed);
                return drop("released");
            }
            case INFORM -> {
                DhcpOptions.Builder b = subnetOptions(pool, m);
                BootPlan plan = BootPlan.NONE;
                if (machine.isNetworkBoot()) {
                    plan = planFor(machine, in.local());
                    addBootOptions(b, machine, plan, in.local());
                }
                return reply(m, MessageType.ACK, Ipv4.ANY, in.local(), b, plan, in.local());
            }
            default -> {
                return drop("unexpected-" + type.name().toLowerCase());
            }
        }
    }

    private Outcome bind(DhcpMessage m, Ipv4 address, Pool pool, String key, Machine machine, Ipv4 local, Instant now) {
        Lease bound = hold(address, key, machine, Lease.State.BOUND, now.plusSeconds(pool.leaseSeconds()), true);
        Outcome out = addressReply(m, MessageType.ACK, address, pool, machine, local, now);
        if (machine.isNetworkBoot() && out instanceof Outcome.Reply r) {
            observer.booted(machine, new BootPlan(r.outbound().message().options().text(OptionCode.BOOTFILE).orElse(""), ""), bound.address(), now);
        }
        return out;
    }

    private Lease hold(Ipv4 address, String key, Machine machine, Lease.State state, Instant until, boolean persist) {
        Ipv4 previous = byClient.put(key, address);
        if (previous != null && !previous.equals(address)) {
            Lease old = byAddress.get(previous);
            if (old != null && old.clientKey().equals(key)) {
                if (old.state() == Lease.State.OFFERED) byAddress.remove(previous);
                else if (old.state() == Lease.State.BOUND) {
                    Lease freed = old.with(Lease.State.FREE, until.isBefore(old.expires()) ? until : old.expires());
                    byAddress.put(previous, freed);
                    store.save(freed);
                }
            }
        }
        Lease before = byAddress.get(address);
        if (before != null && !before.clientKey().equals(key)) byClient.remove(before.clientKey(), address);
        Reservation r = reservationByMac.get(machine.mac());
        String hostname = r != null && !r.hostname().isEmpty() ? r.hostname() : machine.hostname();
        Lease lease = new Lease(address, key, machine.mac(), hostname, state, until);
        byAddress.put(address, lease);
        if (persist) store.save(lease);
        return lease;
    }

    /**
     * Picks an address for a DISCOVER: the client's reservation; else the address it had; else the
     * one it asks for, if free; else a never-used one; else the free one that has been free longest.
     */
    private Ipv4 choose(int poolIndex, String key, String mac, Ipv4 requested, Ipv4 local, Instant now) {
        Pool pool = settings.pools().get(poolIndex);
        Reservation r = reservationByMac.get(mac);
        if (r != null && pool.inSubnet(r.address())) return r.address();
        Ipv4 previous = byClient.get(key);
        if (previous != null && pool.inRange(previous) && !reserved.contains(previous)) {
            Lease l = byAddress.get(previous);
            if (l == null || l.state() != Lease.State.DECLINED || !l.isActive(now)) return previous;
        }
        if (requested != null && pool.inRange(requested) && isFree(requested, local, now)) return requested;
        long size = pool.size();
        for (long n = 0; n < size; n++) {
            long offset = (cursor[poolIndex] + n) % size;
            Ipv4 a = pool.first().plus(offset);
            if (!byAddress.containsKey(a) && !reserved.contains(a) && !a.equals(local)) {
                cursor[poolIndex] = (offset + 1) % size;
                return a;
            }
        }
        Lease oldest = null;
        for (Lease l : byAddress.values()) {
            if (pool.inRange(l.address()) && !l.isActive(now) && !reserved.contains(l.address()) && !l.address().equals(local)
                    && (oldest == null || l.expires().isBefore(oldest.expires()))) {
                oldest = l;
            }
        }
        return oldest == null ? null : oldest.address();
    }

    private boolean isFree(Ipv4 a, Ipv4 local, Instant now) {
        Lease l = byAddress.get(a);
        return (l == null || !l.isActive(now)) && !reserved.contains(a) && !a.equals(local);
    }

    private Outcome addressReply(DhcpMessage m, MessageType type, Ipv4 address, Pool pool, Machine machine, Ipv4 local, Instant now) {
        DhcpOptions.Builder b = subnetOptions(pool, m);
        long lease = pool.leaseSeconds();
        b.uint32(OptionCode.LEASE_TIME, lease);
        b.uint32(OptionCode.RENEWAL_TIME, lease / 2);
        b.uint32(OptionCode.REBINDING_TIME, lease * 7 / 8);
        Reservation r = reservationByMac.get(machine.mac());
        if (r != null && !r.hostname().isEmpty()) b.text(OptionCode.HOSTNAME, r.hostname());
        BootPlan plan = BootPlan.NONE;
        if (machine.isNetworkBoot()) {
            plan = planFor(machine, local);
            addBootOptions(b, machine, plan, local);
        }
        return reply(m, type, address, local, b, plan, local);
    }

    private DhcpOptions.Builder subnetOptions(Pool pool, DhcpMessage m) {
        DhcpOptions.Builder b = new DhcpOptions.Builder();
        b.address(OptionCode.SUBNET_MASK, pool.mask());
        if (!pool.router().isAny()) b.address(OptionCode.ROUTER, pool.router());
        if (!pool.dnsServers().isEmpty()) b.addresses(OptionCode.DNS_SERVERS, pool.dnsServers());
        if (!pool.domain().isEmpty()) b.text(OptionCode.DOMAIN_NAME, pool.domain());
        return b;
    }

    /** Full mode: the boot file as BIOS ROMs read it (siaddr + file) and as options 66/67. */
    private void addBootOptions(DhcpOptions.Builder b, Machine machine, BootPlan plan, Ipv4 local) {
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

    private Ipv4 nextServer(BootPlan plan, Ipv4 local) {
        if (!plan.nextServer().isBlank()) return Ipv4.parse(plan.nextServer());
        return settings.nextServer().isAny() ? local : settings.nextServer();
    }

    private Outcome nak(DhcpMessage m, Ipv4 local, String why) {
        DhcpOptions.Builder b = new DhcpOptions.Builder();
        b.text(OptionCode.MESSAGE, why);
        return reply(m, MessageType.NAK, Ipv4.ANY, local, b, BootPlan.NONE, local);
    }

    private Outcome reply(DhcpMessage m, MessageType type, Ipv4 yiaddr, Ipv4 serverId, DhcpOptions.Builder extra,
                          BootPlan plan, Ipv4 local) {
        Ipv4 ciaddr = type == MessageType.ACK ? m.ciaddr() : Ipv4.ANY;
        DhcpMessage reply = build(m, type, yiaddr, serverId, extra, plan, local, ciaddr);
        return new Outcome.Reply(address(m, reply, type));
    }

    private DhcpMessage build(DhcpMessage m, MessageType type, Ipv4 yiaddr, Ipv4 serverId, DhcpOptions.Builder extra,
                              BootPlan plan, Ipv4 local, Ipv4 ciaddr) {
        DhcpOptions.Builder b = new DhcpOptions.Builder();
        b.messageType(type);
        b.address(OptionCode.SERVER_ID, serverId);
        extra.build().asMap().forEach(b::put);
        if (plan != null && !plan.isNone() && !plan.isUrl() && type != MessageType.NAK && !b.has(OptionCode.TFTP_SERVER)) {
            b.text(OptionCode.TFTP_SERVER, nextServer(plan, local).toString());
        }
        if (plan != null && !plan.isNone() && type != MessageType.NAK && !b.has(OptionCode.BOOTFILE)) b.text(OptionCode.BOOTFILE, plan.bootFile());
        // RFC 6842: echo the client identifier.
        m.options().get(OptionCode.CLIENT_ID).ifPresent(id -> b.put(OptionCode.CLIENT_ID, id));
        Ipv4 siaddr = Ipv4.ANY;
        String file = "";
        if (plan != null && !plan.isNone() && type != MessageType.NAK) {
            // Also for a URL: iPXE takes a (proxy) answer as boot information only with siaddr and a
            // file name both set (dhcp_has_pxeopts), and ignores it otherwise. Found by IpxeProxyDhcpIT.
            siaddr = nextServer(plan, local);
            if (plan.bootFile().length() < DhcpCodec.FILE_LENGTH) file = plan.bootFile();
        }
        return new DhcpMessage(DhcpMessage.BOOTREPLY, m.htype(), 0, m.xid(), 0, m.flags(), ciaddr, yiaddr, siaddr, m.giaddr(),
                m.chaddr(), "", file, b.build());
    }

    /** RFC 2131 §4.1, "the server's reply": relay first, then ciaddr, then broadcast flag, then chaddr. */
    static Outbound address(DhcpMessage request, DhcpMessage reply, MessageType type) {
        if (!request.giaddr().isAny()) {
            DhcpMessage r = type == MessageType.NAK ? reply.withFlags(reply.flags() | DhcpMessage.FLAG_BROADCAST) : reply;
            return new Outbound(r, request.giaddr(), 67, Outbound.Delivery.UNICAST);
        }
        if (type == MessageType.NAK) return new Outbound(reply, Ipv4.BROADCAST, 68, Outbound.Delivery.BROADCAST);
        if (!request.ciaddr().isAny()) return new Outbound(reply, request.ciaddr(), 68, Outbound.Delivery.UNICAST);
        if (request.broadcastFlag() || reply.yiaddr().isAny()) return new Outbound(reply, Ipv4.BROADCAST, 68, Outbound.Delivery.BROADCAST);
        return new Outbound(reply, reply.yiaddr(), 68, Outbound.Delivery.UNICAST_TO_HARDWARE);
    }

    private int poolIndex(Ipv4 link) {
        List<Pool> pools = settings.pools();
        for (int i = 0; i < pools.size(); i++) if (pools.get(i).inSubnet(link)) return i;
        return -1;
    }

    static String clientKey(DhcpMessage m) {
        return m.options().get(OptionCode.CLIENT_ID).map(id -> "id:" + id.toHex()).orElseGet(() -> "hw:" + m.chaddr().toHex());
    }

    /** What the request says about the client, for the boot policy and the inventory. */
    public static Machine machine(DhcpMessage m) {
        DhcpOptions o = m.options();
        String vendor = o.text(OptionCode.VENDOR_CLASS).orElse("");
        int archCode = o.clientArch().orElse(-1);
        if (archCode < 0 && vendor.startsWith("PXEClient:Arch:") && vendor.length() >= 20) {
            // Pre-RFC 4578 ROMs put the architecture only in the vendor class: PXEClient:Arch:00007:UNDI:...
            try {
                archCode = Integer.parseInt(vendor.substring(15, 20));
            } catch (NumberFormatException ignored) {
                archCode = -1;
            }
        }
        ClientArch arch = archCode >= 0 ? ClientArch.of(archCode) : (vendor.startsWith(PXE_CLIENT) ? ClientArch.BIOS : ClientArch.UNKNOWN);
        return new Machine(m.clientMac(), arch, archCode, o.userClasses(), o.clientUuid().orElse(null), printable(vendor, 255),
                printable(o.text(OptionCode.HOSTNAME).orElse(""), 253));
    }

    /**
     * Client-chosen text goes into logs and the database: printable ASCII only, and no longer than a
     * column holds, so one odd client cannot spoil a batch of lease writes or a log line.
     */
    static String printable(String s, int max) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), max));
        for (int i = 0; i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) b.append(c);
        }
        return b.toString();
    }

    private static Outcome drop(String reason) { return new Outcome.Drop(reason); }
}
