package dev.netboot.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.List;

/**
 * The whole configuration of the appliance, as read from YAML. Every field has a default
 * ({@link ConfigLoader#defaults()}), so an empty file, or none at all, gives a working server.
 */
public record NetbootConfig(
        @JsonPropertyDescription("Where disks, images and state live")
        String dataDir,
        @JsonPropertyDescription("Network interface the services bind to; empty = all interfaces")
        String networkInterface,
        Files files,
        Tftp tftp,
        Http http,
        Dhcp dhcp,
        Boot boot,
        Inventory inventory,
        Aoe aoe,
        Menus menus,
        Initrd initrd,
        Disks disks,
        Web web,
        Tuning tuning,
        Installers installers,
        Replication replication) {

    /** The boot files served by TFTP and HTTP alike. */
    public record Files(
            String root,
            @JsonPropertyDescription("Read '/pxelinux.0' as 'pxelinux.0' (tftp-hpa --secure style) instead of refusing absolute paths")
            boolean leadingSlashIsRoot,
            @JsonPropertyDescription("Names (globs: boot.ipxe, pxelinux.cfg/*, ipxe/*.ipxe) for which the generated menu or image file is served even when the root holds a file of that name; by default the root's file wins")
            List<String> generatedFirst) {}

    public record Tftp(
            boolean enabled,
            @JsonPropertyDescription("Address to listen on; empty = the interface's address, or all")
            String address,
            int port,
            @JsonPropertyDescription("Largest blksize granted; each client is also capped to its path MTU")
            int maxBlockSize,
            @JsonPropertyDescription("Largest RFC 7440 windowsize granted")
            int maxWindowSize,
            int maxTransfers,
            @JsonPropertyDescription("Transfers at once to one client address (a PXE client fetches one file at a time)")
            int maxTransfersPerClient,
            @JsonPropertyDescription("First retransmission timeout before a round trip was measured")
            int initialTimeoutMillis,
            int minTimeoutMillis,
            int maxTimeoutMillis,
            @JsonPropertyDescription("A transfer with no progress for this long is abandoned")
            int giveUpAfterMillis) {}

    public record Http(
            boolean enabled,
            String address,
            int port,
            @JsonPropertyDescription("Boot-file downloads one client address may have running at once; more get 503 with Retry-After (iPXE and UEFI fetch one file at a time)")
            int maxTransfersPerClient,
            @JsonPropertyDescription("Boot-file downloads running at once over all clients; more get 503 with Retry-After")
            int maxTransfers,
            @JsonPropertyDescription("A connection on which nothing moves for this long is closed: a reader that takes no bytes, an idle keep-alive, a request sent too slowly")
            int writeTimeoutSeconds,
            @JsonPropertyDescription("HTTPS port for the web admin and API (boot files stay on http.port); 0 = no HTTPS. With it, the plain port sends the admin to HTTPS")
            int httpsPort,
            @JsonPropertyDescription("PEM certificate (chain, leaf first) for HTTPS; empty = a self-signed one generated into <dataDir>/tls (the log prints its SHA-256 fingerprint)")
            String httpsCertificate,
            @JsonPropertyDescription("PEM private key (unencrypted) that goes with httpsCertificate")
            String httpsKey) {}

    public record Dhcp(
            @JsonPropertyDescription("off, proxy (boot information for PXE clients only, never an address: safe beside another DHCP server) or full (addresses from the pools)")
            String mode,
            @JsonPropertyDescription("DHCP server port; PXE clients and relays always use 67")
            int port,
            @JsonPropertyDescription("PXE boot-server port (proxyDHCP's second exchange); 0 = off")
            int bootServerPort,
            @JsonPropertyDescription("TFTP server handed out as next-server/option 66; empty = the address of the interface a request came in on")
            String nextServer,
            @JsonPropertyDescription("Address pools (full mode): subnet, range, router, dns, domain, leaseSeconds")
            List<Pool> pools,
            @JsonPropertyDescription("Fixed addresses by MAC (full mode)")
            List<Reservation> reservations,
            int offerHoldSeconds,
            @JsonPropertyDescription("How long an address a client DECLINEd (found in use) is not handed out")
            int declineQuarantineSeconds,
            @JsonPropertyDescription("In full mode, look for another DHCP server on the interface before answering, and warn loudly if one answers")
            boolean probeForeignServer,
            @JsonPropertyDescription("How a reply reaches a client that has no address yet: arp (write an ARP entry and unicast, like dnsmasq) or broadcast")
            String unaddressedDelivery,
            @JsonPropertyDescription("Answer IPv6 router solicitations on the DHCP interfaces with 'no router here' (lifetime 0, no prefixes), so iPXE stops waiting ~15 s for one: auto (on in full mode, off in proxy mode, where a real IPv6 router may be), on or off")
            String routerAdvertisements) {}

    public record Pool(
            @JsonPropertyDescription("e.g. 192.168.50.0/24")
            String subnet,
            @JsonPropertyDescription("first-last, e.g. 192.168.50.100-192.168.50.199")
            String range,
            String router,
            List<String> dns,
            String domain,
            @JsonPropertyDescription("default 3600")
            Long leaseSeconds) {}

    public record Reservation(String mac, String address, String hostname) {}

    /** Boot files by client kind; ${server} is replaced by the address of the interface the request came in on. */
    public record Boot(
            @JsonPropertyDescription("BIOS PXE ROMs (option 93 = 0), over TFTP")
            String bios,
            @JsonPropertyDescription("x64 UEFI PXE (option 93 = 7 or 9), over TFTP")
            String uefiX64,
            @JsonPropertyDescription("ARM64 UEFI PXE (option 93 = 11), over TFTP")
            String uefiArm64,
            @JsonPropertyDescription("UEFI HTTP boot (option 93 = 16/19): a URL")
            String httpBoot,
            @JsonPropertyDescription("What iPXE (user class 'iPXE') fetches next, so it never loads itself again; ${mac} is the client's MAC")
            String ipxeScriptUrl,
            @JsonPropertyDescription("Loader chain for PXE clients: auto (BIOS iPXE; x64 UEFI shim + signed GRUB when installed, so Secure Boot PCs boot, else iPXE), ipxe, grub, pxelinux, shim-grub")
            String loader,
            @JsonPropertyDescription("Where the distribution's loader packages are installed ('netboot loaders' lists them); served under stable names below the boot root's own files")
            String loadersRoot,
            @JsonPropertyDescription("Rules before boot.loader, first match wins: arch (bios, uefi-x64, ...), userClass, vendorClass (prefix) -> loader or file")
            java.util.List<Rule> rules,
            @JsonPropertyDescription("PXELINUX PCs get lpxelinux.0 and load the kernel and initrd over HTTP (needs http.enabled); false: pxelinux.0 and TFTP, as loaded as fast here and without lwIP")
            Boolean pxelinuxHttp) {

        public Boot {
            pxelinuxHttp = pxelinuxHttp != null && pxelinuxHttp;
            loader = loader == null ? "auto" : loader;
            loadersRoot = loadersRoot == null ? "/" : loadersRoot;
            rules = rules == null ? java.util.List.of() : java.util.List.copyOf(rules);
        }
    }

    /** One boot rule: conditions (empty = any) and what matching clients get. */
    public record Rule(String arch, String userClass, String vendorClass, String loader, String file) {}

    public record Inventory(
            @JsonPropertyDescription("JDBC URL; empty = embedded H2 in <dataDir>/inventory.mv.db. PostgreSQL works too: jdbc:postgresql://host/db")
            String url,
            String user,
            String password,
            @JsonPropertyDescription("At most this many clients registered a minute by DHCP (a flood of made-up MACs must not fill the inventory); a real PC beyond it is registered when it asks again")
            int newClientsPerMinute,
            @JsonPropertyDescription("Boot events older than this many days are deleted (hourly); 0 = kept for ever")
            int keepBootEventsDays,
            @JsonPropertyDescription("Clients that registered by themselves (state discovered), have no disk and were not seen for this many days are forgotten (hourly); 0 = never")
            int forgetDiscoveredAfterDays) {}

    /** The ATA over Ethernet target. Disks come from the catalog ('netboot disk ...') plus {@code targets}. */
    public record Aoe(
            @JsonPropertyDescription("Interfaces to serve AoE on (raw Ethernet, needs root/CAP_NET_RAW); empty = AoE off")
            java.util.List<String> interfaces,
            @JsonPropertyDescription("Frames an initiator may have outstanding (Query Config buffer count; Linux caps it at 64)")
            int bufferCount,
            @JsonPropertyDescription("Threads (each with its own socket, PACKET_FANOUT) per interface; 0 = one per two CPUs, at most 4")
            int threadsPerInterface,
            @JsonPropertyDescription("Receive frames through a PACKET_MMAP ring (no system call per batch while frames keep coming; 8 MiB of kernel memory per receive thread) instead of recvmmsg")
            boolean packetRing,
            @JsonPropertyDescription("Open backing stores with O_DSYNC so every acknowledged write is on stable storage (Linux aoe never sends FLUSH)")
            boolean syncWrites,
            @JsonPropertyDescription("How often the disk catalog is checked for disks added or removed with 'netboot disk'")
            int catalogPollMillis,
            @JsonPropertyDescription("Disks exported in addition to the catalog: address (shelf.slot), path, allowedMacs, open, readOnly, interfaces (those of aoe.interfaces it is offered on, e.g. [eth0.20]; empty = all)")
            java.util.List<dev.netboot.disks.DiskEntry> targets) {}

    /** Installers a client can be switched to (installer mode, docs/installer.md). */
    public record Installers(
            @JsonPropertyDescription("Folder of operator-edited installer definitions (NAME.properties) and preseed templates; missing ones come from the packaged defaults. Relative: to the config file's folder, or dataDir without one. Fetched kernels and initrds live under <dataDir>/installers/NAME")
            String dir) {}

    /** Per-client boot menus rendered from FreeMarker templates (PXELINUX, GRUB, iPXE). */
    public record Menus(
            @JsonPropertyDescription("Folder of operator-edited templates (pxelinux.ftl, grub.cfg.ftl, ipxe.ftl, boot.ipxe.ftl); a template missing here comes from the packaged defaults. Relative: to the config file's folder, or dataDir without one")
            String dir,
            @JsonPropertyDescription("A client with no image assigned waits this long, then asks again")
            int retrySeconds,
            @JsonPropertyDescription("Extra kernel command line for every client, e.g. console=ttyS0,115200")
            String kernelArgs) {}

    /** Per-image initrds rendered from templates and packed as gzip'd cpio (newc). */
    public record Initrd(
            @JsonPropertyDescription("Folder of operator-edited templates (init.ftl, files.ftl); missing ones come from the packaged defaults. Relative: to the config file's folder, or dataDir without one")
            String templates,
            @JsonPropertyDescription("A static busybox put into every initrd (Debian: busybox-static's /bin/busybox)")
            String busybox) {}

    /** Client disks: how they are made from images and where AoE finds them. */
    public record Disks(
            @JsonPropertyDescription("file (copy-on-write clones under <dataDir>/disks, instant) or lvm (thin snapshots in a thin pool)")
            String store,
            @JsonPropertyDescription("LVM volume group (store lvm)")
            String volumeGroup,
            @JsonPropertyDescription("LVM thin pool in that volume group (store lvm)")
            String thinPool,
            @JsonPropertyDescription("AoE shelf of client disks; each client gets the next free slot (0-254), then the next shelf")
            int shelf,
            @JsonPropertyDescription("Image a client with no disk gets a clone of when it network-boots with this server (its DHCP exchange); empty = it waits until an admin assigns one")
            String defaultImage,
            @JsonPropertyDescription("At most this many clients get a disk by themselves (clones of defaultImage nobody assigned); beyond it, PCs wait for an operator")
            int maxAutoClones,
            @JsonPropertyDescription("At most this many clones of defaultImage a minute (a flood of made-up MACs must not fill the disk)")
            int autoClonesPerMinute,
            @JsonPropertyDescription("Interfaces of aoe.interfaces (VLAN interfaces too, e.g. eth0.20) a new client disk ('netboot clone', defaultImage) is offered on, and nowhere else; empty = every AoE interface. 'netboot disk export --replace --interface' rebinds one")
            java.util.List<String> interfaces) {}

    /** The web admin under /admin/ on the HTTP port. */
    public record Web(
            @JsonPropertyDescription("Folder of operator-edited web admin templates (layout.ftlh, clients.ftlh, ...); missing ones come from the packaged defaults. Relative: to the config file's folder, or dataDir without one")
            String templates,
            @JsonPropertyDescription("Password of the user 'admin'; empty = generated at first start into <dataDir>/admin-password (mode 0600)")
            String adminPassword) {}

    /**
     * Measured performance choices (docs/aoe.md, docs/ARCHITECTURE.md), kept in the config like every other
     * setting so an unknown key is an error and {@code config show} prints them. The defaults are what the
     * benchmarks chose; change them only to compare.
     */
    public record Tuning(
            @JsonPropertyDescription("How long a Netty epoll loop keeps polling after its last I/O before it sleeps (shorter TFTP/DHCP turnaround, more CPU; a loop whose spins run out without I/O, as with a slow lockstep client, stops spinning until a quick answer comes); 0 = never")
            long eventLoopSpinMicros,
            @JsonPropertyDescription("How long an AoE receive thread polls for more frames after a batch; 0 = never (measured best with the receive ring)")
            long aoeSpinNanos,
            @JsonPropertyDescription("AoE reads of more than a page go out straight from a read-only mapping of the disk file (one copy instead of two)")
            boolean zeroCopyReads,
            @JsonPropertyDescription("Serve AoE disks from a read-write mapping of the whole file (measured slower under writes; for comparison)")
            boolean mmapReads,
            @JsonPropertyDescription("Send a TFTP window as one UDP GSO datagram where the kernel offers it")
            boolean tftpGso,
            @JsonPropertyDescription("TFTP blocks the server serves itself over loopback at start, before DHCP and TFTP open, so a restarted server's first lockstep kernel fetches (GRUB, PXELINUX, shim) run JIT-compiled code; 0 = none")
            int tftpWarmUpBlocks,
            @JsonPropertyDescription("AoE frames the server's own initiator sends an AoE target of its own on the loopback interface at start, before AoE opens, so the first PC's disk is served by JIT-compiled code; 0 = none")
            int aoeWarmUpFrames) {}

    /**
     * The replicated standby (docs/replication.md): every client disk mirrored synchronously to a peer
     * server over an authenticated TCP link.
     */
    public record Replication(
            @JsonPropertyDescription("none (no replication), primary (serves AoE and replicates every write) or standby (silent on the client network, holds a copy)")
            String role,
            @JsonPropertyDescription("The other server's replication address, HOST:PORT (both nodes connect to each other; the first connection that completes is used)")
            String peer,
            @JsonPropertyDescription("Address and port this node accepts the peer's connection on, ADDRESS:PORT (0.0.0.0 = every address)")
            String listen,
            @JsonPropertyDescription("Shared secret of the link (every frame carries an HMAC-SHA256 made with it); empty = read from secretFile")
            String secret,
            @JsonPropertyDescription("File holding the shared secret; empty = <dataDir>/replication-secret, generated (mode 0600) at first start: copy it to the peer")
            String secretFile,
            @JsonPropertyDescription("TLS 1.3 on the link (both nodes must agree); each node presents a certificate and pins the peer's by peerFingerprint. false: frames are authenticated, not encrypted (use a dedicated link or VLAN)")
            boolean tls,
            @JsonPropertyDescription("Resync (initial full sync and quick resync) at most this many bytes a second, so clients' I/O stays responsive; 0 = unlimited")
            long resyncBytesPerSecond,
            @JsonPropertyDescription("Ping the peer after this much silence")
            int pingMillis,
            @JsonPropertyDescription("The peer is declared gone after this much silence (the primary then goes on alone, degraded)")
            int timeoutMillis,
            // Failover (docs/replication.md, "Failover"): the addresses that move to whichever node is primary.
            @JsonPropertyDescription("MAC address the disks are served from, held only by the primary (a macvlan on clientInterface); empty = no automatic failover")
            String serviceMac,
            @JsonPropertyDescription("Address/prefix of the boot services (DHCP, TFTP, HTTP) on the service interface, e.g. 192.168.1.5/24 or fd00::5/64; empty = none")
            String serviceIp,
            @JsonPropertyDescription("The client network's interface, on which the service macvlan is made and the primary is probed")
            String clientInterface,
            @JsonPropertyDescription("Name of the service macvlan interface")
            String serviceInterface,
            @JsonPropertyDescription("After the replication link is lost, probe the primary (AoE config query to serviceMac) this often")
            int probeMillis,
            @JsonPropertyDescription("The primary counts as dead after this many unanswered probes in a row (only while the replication link is also lost)")
            int deadAfterProbes,
            @JsonPropertyDescription("With tls: the SHA-256 fingerprint of the peer's certificate (the peer's log prints it at start: 'this node's certificate has SHA-256 fingerprint ...'); required with tls")
            String peerFingerprint,
            @JsonPropertyDescription("With tls: this node's certificate (PEM, leaf first); empty = a self-signed one generated into <dataDir>/replication/tls/")
            String tlsCertificate,
            @JsonPropertyDescription("With tls and tlsCertificate: its private key (PEM, unencrypted)")
            String tlsKey,
            @JsonPropertyDescription("With failover: addresses on the client network (comma-separated IPs, e.g. its router) the standby pings through clientInterface; it takes over from a silent primary only while one of them answers, so a standby whose own cable or switch port failed never serves. Empty = no witness")
            String witness) {

        public boolean failover() { return serviceMac != null && !serviceMac.isBlank(); }
    }
}
