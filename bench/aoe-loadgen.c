// aoe-loadgen: a neutral userspace AoE initiator that keeps N frames outstanding.
//
// It discovers one target (Query Config), reads its size (IDENTIFY), then for a fixed time keeps
// `window` ATA frames in flight and prints what it measured. It favours no target: every frame is
// a plain READ/WRITE SECTORS EXT of as many sectors as both the target's Query Config reply and
// the interface MTU allow; lost frames are retransmitted after a timeout, as the Linux driver does.
//
//   aoe-loadgen -i IFACE -s SHELF -l SLOT -m seqread|seqwrite|randread|randwrite -w WINDOW -t SECONDS [-o MIB] [-r SEED]
//
// randread issues 4 KiB reads at random 4 KiB-aligned offsets; with 2 sectors per frame one read
// is 4 frames, and it counts as done when all 4 came back; randwrite the same with writes.
// -o: where the sequential modes start (MiB); -r: the random modes' seed; -p N: writes carry data that
// depends on N and the sector (default: every byte 0xA5), so tests comparing two copies see every write. A copy-on-write clone
// pays for a chunk's first write only, so runs that measure that give each run other places.
// Output: one line of key=value pairs.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETH_P_AOE 0x88A2
#define MAXWIN 256
#define MAXFRAME 9216
#define HDR 36 // Ethernet 14 + AoE 10 + ATA 12

static int fd;
static uint8_t mymac[6], target[6];
static int shelf, slot;
static int pattern = -1;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static int aoe_header(uint8_t *f, const uint8_t *dst, int cmd, uint32_t tag) {
    memcpy(f, dst, 6);
    memcpy(f + 6, mymac, 6);
    f[12] = ETH_P_AOE >> 8;
    f[13] = ETH_P_AOE & 0xff;
    f[14] = 0x10; // version 1, no flags
    f[15] = 0;
    f[16] = shelf >> 8;
    f[17] = shelf & 0xff;
    f[18] = slot;
    f[19] = cmd;
    f[20] = tag >> 24;
    f[21] = tag >> 16;
    f[22] = tag >> 8;
    f[23] = tag;
    return 24;
}

static int ata_frame(uint8_t *f, uint32_t tag, int cmd, int write, int count, uint64_t lba) {
    int n = aoe_header(f, target, 0, tag);
    f[n++] = 0x40 | (write ? 1 : 0); // extended LBA, write flag
    f[n++] = 0;
    f[n++] = count;
    f[n++] = cmd;
    for (int i = 0; i < 6; i++) f[n++] = lba >> (8 * i);
    f[n++] = 0;
    f[n++] = 0;
    if (write) {
        if (pattern < 0) memset(f + n, 0xA5, count * 512);
        else for (int i = 0; i < count * 512; i++) f[n + i] = (uint8_t) ((lba + i / 512) * 131 + pattern * 17 + i);
        n += count * 512;
    }
    return n < 60 ? 60 : n;
}

static uint32_t tag_of(const uint8_t *f) {
    return (uint32_t) f[20] << 24 | f[21] << 16 | f[22] << 8 | f[23];
}

static int is_reply(const uint8_t *f, int len) {
    return len >= 24 && f[12] == 0x88 && f[13] == 0xA2 && (f[14] & 0x08) && ((f[16] << 8) | f[17]) == shelf && f[18] == slot
           && memcmp(f, mymac, 6) == 0;
}

// Send a request and wait for its reply (for discovery and IDENTIFY).
static int transact(uint8_t *req, int len, uint8_t *rsp, double timeout) {
    for (int attempt = 0; attempt < 5; attempt++) {
        if (send(fd, req, len, 0) < 0) die("send");
        double end = now() + timeout;
        while (now() < end) {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            int n = recv(fd, rsp, MAXFRAME, 0);
            if (n > 0 && is_reply(rsp, n) && tag_of(rsp) == tag_of(req)) return n;
        }
    }
    return -1;
}

int main(int argc, char **argv) {
    const char *ifname = NULL, *mode = "seqread";
    int window = 16;
    double seconds = 5;
    uint64_t start_mib = 0;
    unsigned seed = 12345;
    int opt;
    while ((opt = getopt(argc, argv, "i:s:l:m:w:t:o:r:p:")) != -1) {
        switch (opt) {
            case 'i': ifname = optarg; break;
            case 's': shelf = atoi(optarg); break;
            case 'l': slot = atoi(optarg); break;
            case 'm': mode = optarg; break;
            case 'w': window = atoi(optarg); break;
            case 't': seconds = atof(optarg); break;
            case 'o': start_mib = strtoull(optarg, NULL, 10); break;
            case 'r': seed = (unsigned) strtoul(optarg, NULL, 10); break;
            case 'p': pattern = atoi(optarg); break;
            default: fprintf(stderr, "usage: %s -i IFACE -s SHELF -l SLOT -m seqread|seqwrite|randread|randwrite -w WINDOW -t SECONDS [-o MIB] [-r SEED] [-p PATTERN]\n", argv[0]); return 2;
        }
    }
    if (!ifname || window < 1 || window > MAXWIN) {
        fprintf(stderr, "need -i IFACE and 1 <= -w <= %d\n", MAXWIN);
        return 2;
    }
    int seq = strcmp(mode, "randread") != 0 && strcmp(mode, "randwrite") != 0;
    int write = strcmp(mode, "seqwrite") == 0 || strcmp(mode, "randwrite") == 0;

    fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_AOE));
    if (fd < 0) die("socket");
    struct ifreq ifr = {0};
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) die("SIOCGIFINDEX");
    int ifindex = ifr.ifr_ifindex;
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) die("SIOCGIFHWADDR");
    memcpy(mymac, ifr.ifr_hwaddr.sa_data, 6);
    if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) die("SIOCGIFMTU");
    int mtu = ifr.ifr_mtu;
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_AOE), .sll_ifindex = ifindex};
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0) die("bind");
    int big = 16 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);

    // Discover the target with a broadcast Query Config.
    static uint8_t req[MAXFRAME], rsp[MAXFRAME];
    uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    int n = aoe_header(req, bcast, 1, 0x7fff0001);
    memset(req + n, 0, 36);
    if (transact(req, 60, rsp, 0.5) < 0) {
        fprintf(stderr, "no answer from e%d.%d on %s\n", shelf, slot, ifname);
        return 1;
    }
    memcpy(target, rsp + 6, 6);
    int scnt = rsp[28];
    int spf = (mtu - 22) / 512;
    if (spf > scnt) spf = scnt;
    if (spf < 1) spf = 1;

    // IDENTIFY for the capacity (words 100-103).
    n = ata_frame(req, 0x7fff0002, 0xEC, 0, 1, 0);
    int got = transact(req, n, rsp, 0.5);
    if (got < HDR + 512) {
        fprintf(stderr, "IDENTIFY failed\n");
        return 1;
    }
    uint64_t sectors = 0;
    for (int i = 7; i >= 0; i--) sectors = sectors << 8 | rsp[HDR + 200 + i];

    // Frames in flight: slot i of the window carries tag (generation << 8 | i).
    static uint8_t frames[MAXWIN][MAXFRAME];
    int flen[MAXWIN];
    uint32_t ftag[MAXWIN];
    double fsent[MAXWIN];
    int fop[MAXWIN];
    int busy[MAXWIN] = {0};
    // randread ops: each is `per_op` frames; done when all returned.
    int per_op = seq ? 1 : (8 + spf - 1) / spf;
    int op_left[MAXWIN * 8];
    int op_next_frame[MAXWIN * 8];
    uint64_t op_lba[MAXWIN * 8];
    int op_count = 0;
    uint64_t next_lba = start_mib * 2048 % sectors, frames_done = 0, ops_done = 0, bytes_done = 0, retransmits = 0, errors = 0;
    uint32_t generation = 1;
    srand(seed);
    double rto = 0.2;
    double start = now(), end = start + seconds;
    struct mmsghdr msgs[MAXWIN];
    struct iovec iov[MAXWIN];
    static uint8_t rbuf[64][MAXFRAME];
    struct mmsghdr rmsgs[64];
    struct iovec riov[64];
    for (int i = 0; i < 64; i++) {
        riov[i].iov_base = rbuf[i];
        riov[i].iov_len = MAXFRAME;
        memset(&rmsgs[i], 0, sizeof rmsgs[i]);
        rmsgs[i].msg_hdr.msg_iov = &riov[i];
        rmsgs[i].msg_hdr.msg_iovlen = 1;
    }
    int current_op = -1; // randread: op whose frames are being issued
    int inflight = 0;
    while (1) {
        double t = now();
        int accepting = t < end;
        if (!accepting && inflight == 0) break;
        if (t > end + 2) { // the target stopped answering: report what was measured, count the rest
            errors += inflight;
            break;
        }
        // Fill the window.
        int nsend = 0;
        for (int i = 0; i < window && accepting; i++) {
            if (busy[i]) continue;
            uint64_t lba;
            int count = spf, op = -1;
            if (seq) {
                if (next_lba + count > sectors) next_lba = 0;
                lba = next_lba;
                next_lba += count;
            } else {
                if (current_op < 0 || op_next_frame[current_op] == per_op) {
                    current_op = op_count++ % (MAXWIN * 8);
                    op_lba[current_op] = ((uint64_t) rand() * 65536ULL + rand()) % (sectors / 8) * 8;
                    op_left[current_op] = per_op;
                    op_next_frame[current_op] = 0;
                }
                op = current_op;
                int k = op_next_frame[op]++;
                lba = op_lba[op] + (uint64_t) k * spf;
                count = 8 - k * spf < spf ? 8 - k * spf : spf;
            }
            ftag[i] = generation++ << 8 | i;
            flen[i] = ata_frame(frames[i], ftag[i], write ? 0x34 : 0x24, write, count, lba);
            fsent[i] = t;
            fop[i] = op;
            busy[i] = 1;
            inflight++;
            iov[nsend].iov_base = frames[i];
            iov[nsend].iov_len = flen[i];
            memset(&msgs[nsend], 0, sizeof msgs[nsend]);
            msgs[nsend].msg_hdr.msg_iov = &iov[nsend];
            msgs[nsend].msg_hdr.msg_iovlen = 1;
            nsend++;
        }
        // Retransmit frames that timed out.
        for (int i = 0; i < window; i++) {
            if (busy[i] && t - fsent[i] > rto) {
                fsent[i] = t;
                retransmits++;
                iov[nsend].iov_base = frames[i];
                iov[nsend].iov_len = flen[i];
                memset(&msgs[nsend], 0, sizeof msgs[nsend]);
                msgs[nsend].msg_hdr.msg_iov = &iov[nsend];
                msgs[nsend].msg_hdr.msg_iovlen = 1;
                nsend++;
            }
        }
        for (int off = 0; off < nsend;) {
            int s = sendmmsg(fd, msgs + off, nsend - off, 0);
            if (s < 0) {
                if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
                die("sendmmsg");
            }
            off += s;
        }
        // Collect replies.
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10) <= 0) continue;
        int r = recvmmsg(fd, rmsgs, 64, MSG_DONTWAIT, NULL);
        if (r <= 0) continue;
        for (int k = 0; k < r; k++) {
            uint8_t *f = rbuf[k];
            int len = rmsgs[k].msg_len;
            if (!is_reply(f, len) || f[19] != 0) continue;
            uint32_t tag = tag_of(f);
            int i = tag & 0xff;
            if (i >= window || !busy[i] || ftag[i] != tag) continue; // late duplicate
            busy[i] = 0;
            inflight--;
            if ((f[14] & 0x04) || (len >= HDR && (f[27] & 0x01))) {
                errors++;
                continue;
            }
            int count = frames[i][26];
            if (!write && len < HDR + count * 512) {
                errors++;
                continue;
            }
            frames_done++;
            bytes_done += (uint64_t) count * 512;
            if (!seq && --op_left[fop[i]] == 0) ops_done++;
        }
    }
    double elapsed = now() - start;
    printf("mode=%s window=%d mtu=%d sectors_per_frame=%d MBps=%.1f iops=%.0f frames_per_s=%.0f retransmits=%llu errors=%llu\n",
           mode, window, mtu, spf, bytes_done / elapsed / 1e6, seq ? 0.0 : ops_done / elapsed, frames_done / elapsed,
           (unsigned long long) retransmits, (unsigned long long) errors);
    return 0;
}
