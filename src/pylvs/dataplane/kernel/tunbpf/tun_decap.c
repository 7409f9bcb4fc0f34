// SPDX-License-Identifier: Apache-2.0
/*
 * pylvs: IPIP decapsulation on a real server's ingress (a cls_bpf
 * direct-action program), for test beds and labs on kernels without the
 * ipip module: an IPv4 packet of protocol 4 loses its outer header and goes
 * on up the stack as the inner packet, as a real server's tunl0 would
 * deliver it (dataplane-notes §5). Everything else passes untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>

#define SEC(name) __attribute__((section(name), used))

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define be16(x) __builtin_bswap16(x)
#else
#define be16(x) (x)
#endif

static long (*skb_adjust_room)(struct __sk_buff *skb, __s32 len_diff, __u32 mode,
			       __u64 flags) = (void *)BPF_FUNC_skb_adjust_room;

SEC("tc")
int tun_decap(struct __sk_buff *skb)
{
	if (skb->protocol != be16(ETH_P_IP))
		return TC_ACT_UNSPEC;
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_IPIP || ip->ihl != 5 ||
	    (ip->frag_off & be16(0x3fff)))
		return TC_ACT_UNSPEC;
	struct iphdr *inner = (void *)(ip + 1);
	if ((void *)(inner + 1) > end || inner->version != 4)
		return TC_ACT_UNSPEC;
	if (skb_adjust_room(skb, -20, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "Apache-2.0";
