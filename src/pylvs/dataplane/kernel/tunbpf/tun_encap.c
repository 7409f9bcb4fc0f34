// SPDX-License-Identifier: Apache-2.0
/*
 * pylvs: IPVS tunnelling (TUN, "ipip") at kernel speed.
 *
 * A cls_bpf direct-action program on the director's ingress. For a client
 * packet of a flow the daemon has bound (the flows map), it does what IPVS's
 * IPIP transmit does (behaviour reference §6.2, §6.5):
 *
 *   - moves the flow's state by the INPUT-ONLY table (TCP, SCTP) and
 *     stamps its last-seen time, so the daemon can expire it;
 *   - counts the packet and its bytes for the real server;
 *   - decrements the inner TTL (fixing the inner header checksum);
 *   - pushes an outer IPv4 header: version 4, IHL 5, TOS = inner DSCP/ECN
 *     with CE sent as ECT(0), DF copied from the inner header (0 when
 *     pmtu_disc is off), fragment offset 0, protocol 4, TTL = the inner TTL
 *     after the decrement, source = the director's address for the route,
 *     destination = the real server, a fresh ID, the header checksum;
 *   - writes the next hop's MAC and redirects the frame out of the real
 *     server's interface.
 *
 * Anything else passes on untouched (TC_ACT_UNSPEC: any later tc filter,
 * then the stack and so the daemon's userspace path, gets it). That covers a flow the map does not know, a
 * real server the dests map does not know, TTL <= 1 (the stack answers
 * "time exceeded"), a packet too big for the tunnel (the daemon sends
 * "fragmentation needed" for DF, else fragments the outer packet),
 * fragments, and a SYN/INIT that IPVS would schedule afresh
 * (conn_reuse_mode, expire_nodest_conn). Such packets are neither counted
 * nor change the flow: the daemon accounts for what it handles.
 *
 * Maps are legacy "maps" section definitions: pylvs's own loader
 * (loader.py) creates them and relocates the program; no libbpf.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>

#include "tun_states.h"

#define SEC(name) __attribute__((section(name), used))
/*
 * Not ours to forward: TC_ACT_UNSPEC lets the next tc filter (anyone
 * else's) see the packet, and the stack gets it when no filter acts.
 */
#define PASS TC_ACT_UNSPEC
#define INLINE static inline __attribute__((always_inline))

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define be16(x) __builtin_bswap16(x)
#else
#define be16(x) (x)
#endif

/* Helpers by their UAPI numbers. */
static void *(*map_lookup)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static __u64 (*ktime_get_ns)(void) = (void *)BPF_FUNC_ktime_get_ns;
static __u32 (*prandom_u32)(void) = (void *)BPF_FUNC_get_prandom_u32;
static long (*skb_adjust_room)(struct __sk_buff *skb, __s32 len_diff, __u32 mode,
			       __u64 flags) = (void *)BPF_FUNC_skb_adjust_room;
static long (*skb_change_tail)(struct __sk_buff *skb, __u32 len,
			       __u64 flags) = (void *)BPF_FUNC_skb_change_tail;
static long (*redirect)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect;

/* records.py holds the same layouts. */
struct flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow {
	__u64 seen_ns; /* bpf_ktime_get_ns() of the last packet */
	__u32 dest;
	__u8 state;
	__u8 flags; /* FLOW_F_* */
	__u16 pad;
};

struct dest {
	__be32 rs;	/* the real server */
	__be32 src;	/* the director's source address for the route */
	__u32 ifindex;	/* the interface towards the next hop */
	__u16 mtu;	/* the route's MTU */
	__u16 flags;	/* DEST_F_* */
	__u8 dmac[6];	/* the next hop's MAC */
	__u8 smac[6];	/* the director's MAC on ifindex */
	__u32 pad;
};

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct conf {
	__u32 flags; /* CONF_F_* */
	__u32 pad;
};

_Static_assert(sizeof(struct flow_key) == 16, "flow_key");
_Static_assert(sizeof(struct flow) == 16, "flow");
_Static_assert(sizeof(struct dest) == 32, "dest");

#define FLOW_F_CONTROLLED 1 /* a persistence template controls it: never rescheduled */
#define DEST_F_RESCHED 1    /* expire_nodest_conn and weight 0: new conns go up */
#define CONF_F_NO_PMTU 1    /* pmtu_disc = 0: outer DF 0, no size check */
#define CONF_F_SECURE_TCP 2 /* the secure_tcp tables */
#define CONF_F_NO_REUSE 4   /* conn_reuse_mode = 0 */
#define CONF_F_REUSE_FW 8   /* conn_reuse_mode bit 2: FIN_WAIT reschedules too */

/* Per-CPU event counters (records.STAT_NAMES). */
enum {
	ST_FORWARDED,
	ST_MISS,
	ST_NO_DEST,
	ST_TTL,
	ST_TOO_BIG,
	ST_RESCHED,
	ST_FRAGMENT,
	ST_ERROR,
	ST_MAX,
};

struct map_def {
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries; /* the loader may change it */
	__u32 flags;
};

struct map_def tun_flows SEC("maps") = {
	BPF_MAP_TYPE_LRU_HASH, sizeof(struct flow_key), sizeof(struct flow), 1 << 20, 0,
};
struct map_def tun_dests SEC("maps") = {
	BPF_MAP_TYPE_HASH, sizeof(__u32), sizeof(struct dest), 65536, 0,
};
struct map_def tun_counts SEC("maps") = {
	BPF_MAP_TYPE_PERCPU_HASH, sizeof(__u32), sizeof(struct counter), 65536, 0,
};
struct map_def tun_config SEC("maps") = {
	BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct conf), 1, 0,
};
struct map_def tun_stats SEC("maps") = {
	BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(__u64), ST_MAX, 0,
};

INLINE int note(__u32 what, int verdict)
{
	__u64 *n = map_lookup(&tun_stats, &what);
	if (n)
		*n += 1;
	return verdict;
}

INLINE __u64 tcp_row(__u8 flags, int secure)
{
	/* RST > SYN > FIN > ACK (§4.2) */
	if (flags & 0x04)
		return secure ? TCP_SECURE_ROW_RST : TCP_ROW_RST;
	if (flags & 0x02)
		return secure ? TCP_SECURE_ROW_SYN : TCP_ROW_SYN;
	if (flags & 0x01)
		return secure ? TCP_SECURE_ROW_FIN : TCP_ROW_FIN;
	return secure ? TCP_SECURE_ROW_ACK : TCP_ROW_ACK;
}

INLINE __u64 sctp_row(__u8 first, __u8 second)
{
	switch (first) {
	case 1:
		return SCTP_ROW_INIT;
	case 2:
		return SCTP_ROW_INIT_ACK;
	case 6:
		return SCTP_ROW_ABORT;
	case 7:
		return SCTP_ROW_SHUTDOWN;
	case 8:
		return SCTP_ROW_SHUTDOWN_ACK;
	case 9:
		return SCTP_ROW_ERROR;
	case 10: /* COOKIE ECHO, or ABORT when one follows */
		return second == 6 ? SCTP_ROW_ABORT : SCTP_ROW_COOKIE_ECHO;
	case 11:
		return second == 6 ? SCTP_ROW_ABORT : SCTP_ROW_COOKIE_ACK;
	case 14:
		return SCTP_ROW_SHUTDOWN_COMPLETE;
	}
	return SCTP_ROW_DATA;
}

INLINE __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

SEC("tc")
int tun_encap(struct __sk_buff *skb)
{
	if (skb->protocol != be16(ETH_P_IP) || skb->pkt_type != 0 /* PACKET_HOST */ ||
	    skb->vlan_present)
		return PASS;

	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
		return PASS;
	__u8 proto = ip->protocol;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_SCTP)
		return PASS;
	if (ip->frag_off & be16(0x3fff)) /* MF or an offset */
		return note(ST_FRAGMENT, PASS);

	__u32 ihl = (ip->ihl & 0x0f) * 4;
	__u8 *l4 = (__u8 *)ip + ihl;
	if ((void *)(l4 + 4) > end)
		return PASS;

	struct flow_key key = {};
	key.saddr = ip->saddr;
	key.daddr = ip->daddr;
	key.sport = *(__be16 *)l4;
	key.dport = *(__be16 *)(l4 + 2);
	key.proto = proto;
	struct flow *f = map_lookup(&tun_flows, &key);
	if (!f)
		return note(ST_MISS, PASS);
	__u32 dest_id = f->dest;
	struct dest *d = map_lookup(&tun_dests, &dest_id);
	if (!d)
		return note(ST_NO_DEST, PASS);
	__u32 zero = 0;
	struct conf *c = map_lookup(&tun_config, &zero);
	__u32 conf = c ? c->flags : 0;

	/* The flow's next state, and whether IPVS would schedule it afresh. */
	__u8 state = f->state;
	__u8 next = state;
	int fresh = 0; /* a SYN (TCP) or INIT (SCTP): a "new connection" */
	int reusable = 0;
	__u32 l4len = 8;
	if (proto == IPPROTO_TCP) {
		if ((void *)(l4 + 20) > end)
			return PASS;
		__u8 flags = l4[13];
		fresh = flags & 0x02;
		if (flags & 0x17)
			next = (__u8)((tcp_row(flags, conf & CONF_F_SECURE_TCP) >> (4 * (state & 15))) & 15);
		else
			next = TCP_S_CLOSE; /* none of SYN/FIN/ACK/RST (§4.2) */
		reusable = state == TCP_S_TIME_WAIT || state == TCP_S_CLOSE ||
			   ((conf & CONF_F_REUSE_FW) && state == TCP_S_FIN_WAIT);
		l4len = (l4[12] >> 4) * 4;
	} else if (proto == IPPROTO_SCTP) {
		if ((void *)(l4 + 16) > end)
			return PASS;
		__u8 first = l4[12];
		__u8 second = 0xff;
		if (first == 10 || first == 11) {
			/* The chunk after it, at its length rounded up to 4. */
			__u32 clen = ((__u32)l4[14] << 8 | l4[15]);
			if (clen >= 4 && clen <= 0x3ff0) {
				__u8 *next_chunk = l4 + 12 + ((clen + 3) & 0x3ffc);
				if ((void *)(next_chunk + 1) <= end)
					second = *next_chunk;
			}
		}
		fresh = first == 1;
		next = (__u8)((sctp_row(first, second) >> (4 * (state & 15))) & 15);
		reusable = state == SCTP_S_CLOSED;
		l4len = 12;
	}
	if (fresh) {
		if ((d->flags & DEST_F_RESCHED) ||
		    (reusable && !(conf & CONF_F_NO_REUSE) && !(f->flags & FLOW_F_CONTROLLED)))
			return note(ST_RESCHED, PASS);
	}

	if (ip->ttl <= 1)
		return note(ST_TTL, PASS);
	__u32 len = be16(ip->tot_len);
	if (len < ihl || len + 20 > 0xffff || skb->len < ETH_HLEN + len)
		return note(ST_ERROR, PASS);
	/*
	 * Too big for the tunnel: with DF, IPVS answers "fragmentation needed";
	 * without, it fragments the outer packet. Both are the daemon's to do,
	 * since a redirected frame cannot be fragmented. A GSO packet leaves as
	 * segments: one of them must fit (§6.2, §6.5).
	 */
	__u32 wire = skb->gso_size ? ihl + l4len + skb->gso_size : len;
	if (wire + 20 > d->mtu)
		return note(ST_TOO_BIG, PASS);
	__u16 df = (conf & CONF_F_NO_PMTU) ? 0 : (ip->frag_off & be16(0x4000));

	/* Committed: IPVS counts and moves the state before it transmits. */
	f->seen_ns = ktime_get_ns();
	f->state = next;
	struct counter *n = map_lookup(&tun_counts, &dest_id);
	if (n) {
		n->packets += 1;
		n->bytes += len;
	}

	/* Inner TTL - 1; the checksum grows by 0x0100 (RFC 1624), never 0xffff. */
	__u32 sum = (__u32)ip->check + (__u32)be16(0x0100);
	sum += sum >= 0xffff;
	ip->check = (__u16)sum;
	ip->ttl -= 1;
	__u8 ttl = ip->ttl;
	__u8 tos = ip->tos;
	if ((tos & 3) == 3) /* CE -> ECT(0) */
		tos = (tos & ~3) | 2;
	__be32 rs = d->rs, src = d->src;
	__u32 ifindex = d->ifindex;
	__u8 dmac[6], smac[6];
	__builtin_memcpy(dmac, d->dmac, 6);
	__builtin_memcpy(smac, d->smac, 6);

	/* Ethernet padding of a short frame must not ride in the tunnel. */
	if (skb->len > ETH_HLEN + len && !skb->gso_size &&
	    skb_change_tail(skb, ETH_HLEN + len, 0))
		return note(ST_ERROR, TC_ACT_SHOT);
	if (skb_adjust_room(skb, 20, BPF_ADJ_ROOM_MAC,
			    BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_FIXED_GSO))
		return note(ST_ERROR, TC_ACT_SHOT);

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *o = data + ETH_HLEN;
	if ((void *)(o + 1) > end)
		return note(ST_ERROR, TC_ACT_SHOT);
	__builtin_memcpy(eth->h_dest, dmac, 6);
	__builtin_memcpy(eth->h_source, smac, 6);
	eth->h_proto = be16(ETH_P_IP);
	o->version = 4;
	o->ihl = 5;
	o->tos = tos;
	o->tot_len = be16((__u16)(len + 20));
	o->id = (__u16)prandom_u32();
	o->frag_off = df;
	o->ttl = ttl;
	o->protocol = IPPROTO_IPIP;
	o->check = 0;
	o->saddr = src;
	o->daddr = rs;
	__u16 *w = (__u16 *)o;
	__u32 acc = 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		acc += w[i];
	o->check = (__u16)~fold(acc);

	note(ST_FORWARDED, 0);
	return redirect(ifindex, 0);
}

char _license[] SEC("license") = "Apache-2.0";
