package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.tcp_info;

import java.lang.foreign.MemorySegment;
import java.util.function.ToLongFunction;

/**
 * The fields of the kernel's {@code struct tcp_info} ({@code <linux/tcp.h>}), read through the
 * generated layout. A field counts only if the kernel returned enough bytes to cover it (older
 * kernels return a shorter struct). Values are unsigned, widened to {@code long}.
 *
 * <p>Thread-safe: immutable.
 */
public enum TcpInfoField {
    /** {@code tcpi_state}. */
    STATE(s -> tcp_info.tcpi_state(s) & 0xFFL, tcp_info.tcpi_state$offset() + tcp_info.tcpi_state$layout().byteSize()),
    /** {@code tcpi_ca_state}. */
    CA_STATE(s -> tcp_info.tcpi_ca_state(s) & 0xFFL, tcp_info.tcpi_ca_state$offset() + tcp_info.tcpi_ca_state$layout().byteSize()),
    /** {@code tcpi_retransmits}. */
    RETRANSMITS(s -> tcp_info.tcpi_retransmits(s) & 0xFFL, tcp_info.tcpi_retransmits$offset() + tcp_info.tcpi_retransmits$layout().byteSize()),
    /** {@code tcpi_probes}. */
    PROBES(s -> tcp_info.tcpi_probes(s) & 0xFFL, tcp_info.tcpi_probes$offset() + tcp_info.tcpi_probes$layout().byteSize()),
    /** {@code tcpi_backoff}. */
    BACKOFF(s -> tcp_info.tcpi_backoff(s) & 0xFFL, tcp_info.tcpi_backoff$offset() + tcp_info.tcpi_backoff$layout().byteSize()),
    /** {@code tcpi_options}. */
    OPTIONS(s -> tcp_info.tcpi_options(s) & 0xFFL, tcp_info.tcpi_options$offset() + tcp_info.tcpi_options$layout().byteSize()),
    /** {@code tcpi_rto}. */
    RTO(s -> tcp_info.tcpi_rto(s) & 0xFFFF_FFFFL, tcp_info.tcpi_rto$offset() + tcp_info.tcpi_rto$layout().byteSize()),
    /** {@code tcpi_ato}. */
    ATO(s -> tcp_info.tcpi_ato(s) & 0xFFFF_FFFFL, tcp_info.tcpi_ato$offset() + tcp_info.tcpi_ato$layout().byteSize()),
    /** {@code tcpi_snd_mss}. */
    SND_MSS(s -> tcp_info.tcpi_snd_mss(s) & 0xFFFF_FFFFL, tcp_info.tcpi_snd_mss$offset() + tcp_info.tcpi_snd_mss$layout().byteSize()),
    /** {@code tcpi_rcv_mss}. */
    RCV_MSS(s -> tcp_info.tcpi_rcv_mss(s) & 0xFFFF_FFFFL, tcp_info.tcpi_rcv_mss$offset() + tcp_info.tcpi_rcv_mss$layout().byteSize()),
    /** {@code tcpi_unacked}. */
    UNACKED(s -> tcp_info.tcpi_unacked(s) & 0xFFFF_FFFFL, tcp_info.tcpi_unacked$offset() + tcp_info.tcpi_unacked$layout().byteSize()),
    /** {@code tcpi_sacked}. */
    SACKED(s -> tcp_info.tcpi_sacked(s) & 0xFFFF_FFFFL, tcp_info.tcpi_sacked$offset() + tcp_info.tcpi_sacked$layout().byteSize()),
    /** {@code tcpi_lost}. */
    LOST(s -> tcp_info.tcpi_lost(s) & 0xFFFF_FFFFL, tcp_info.tcpi_lost$offset() + tcp_info.tcpi_lost$layout().byteSize()),
    /** {@code tcpi_retrans}. */
    RETRANS(s -> tcp_info.tcpi_retrans(s) & 0xFFFF_FFFFL, tcp_info.tcpi_retrans$offset() + tcp_info.tcpi_retrans$layout().byteSize()),
    /** {@code tcpi_fackets}. */
    FACKETS(s -> tcp_info.tcpi_fackets(s) & 0xFFFF_FFFFL, tcp_info.tcpi_fackets$offset() + tcp_info.tcpi_fackets$layout().byteSize()),
    /** {@code tcpi_last_data_sent}. */
    LAST_DATA_SENT(s -> tcp_info.tcpi_last_data_sent(s) & 0xFFFF_FFFFL, tcp_info.tcpi_last_data_sent$offset() + tcp_info.tcpi_last_data_sent$layout().byteSize()),
    /** {@code tcpi_last_ack_sent}. */
    LAST_ACK_SENT(s -> tcp_info.tcpi_last_ack_sent(s) & 0xFFFF_FFFFL, tcp_info.tcpi_last_ack_sent$offset() + tcp_info.tcpi_last_ack_sent$layout().byteSize()),
    /** {@code tcpi_last_data_recv}. */
    LAST_DATA_RECV(s -> tcp_info.tcpi_last_data_recv(s) & 0xFFFF_FFFFL, tcp_info.tcpi_last_data_recv$offset() + tcp_info.tcpi_last_data_recv$layout().byteSize()),
    /** {@code tcpi_last_ack_recv}. */
    LAST_ACK_RECV(s -> tcp_info.tcpi_last_ack_recv(s) & 0xFFFF_FFFFL, tcp_info.tcpi_last_ack_recv$offset() + tcp_info.tcpi_last_ack_recv$layout().byteSize()),
    /** {@code tcpi_pmtu}. */
    PMTU(s -> tcp_info.tcpi_pmtu(s) & 0xFFFF_FFFFL, tcp_info.tcpi_pmtu$offset() + tcp_info.tcpi_pmtu$layout().byteSize()),
    /** {@code tcpi_rcv_ssthresh}. */
    RCV_SSTHRESH(s -> tcp_info.tcpi_rcv_ssthresh(s) & 0xFFFF_FFFFL, tcp_info.tcpi_rcv_ssthresh$offset() + tcp_info.tcpi_rcv_ssthresh$layout().byteSize()),
    /** {@code tcpi_rtt}. */
    RTT(s -> tcp_info.tcpi_rtt(s) & 0xFFFF_FFFFL, tcp_info.tcpi_rtt$offset() + tcp_info.tcpi_rtt$layout().byteSize()),
    /** {@code tcpi_rttvar}. */
    RTTVAR(s -> tcp_info.tcpi_rttvar(s) & 0xFFFF_FFFFL, tcp_info.tcpi_rttvar$offset() + tcp_info.tcpi_rttvar$layout().byteSize()),
    /** {@code tcpi_snd_ssthresh}. */
    SND_SSTHRESH(s -> tcp_info.tcpi_snd_ssthresh(s) & 0xFFFF_FFFFL, tcp_info.tcpi_snd_ssthresh$offset() + tcp_info.tcpi_snd_ssthresh$layout().byteSize()),
    /** {@code tcpi_snd_cwnd}. */
    SND_CWND(s -> tcp_info.tcpi_snd_cwnd(s) & 0xFFFF_FFFFL, tcp_info.tcpi_snd_cwnd$offset() + tcp_info.tcpi_snd_cwnd$layout().byteSize()),
    /** {@code tcpi_advmss}. */
    ADVMSS(s -> tcp_info.tcpi_advmss(s) & 0xFFFF_FFFFL, tcp_info.tcpi_advmss$offset() + tcp_info.tcpi_advmss$layout().byteSize()),
    /** {@code tcpi_reordering}. */
    REORDERING(s -> tcp_info.tcpi_reordering(s) & 0xFFFF_FFFFL, tcp_info.tcpi_reordering$offset() + tcp_info.tcpi_reordering$layout().byteSize()),
    /** {@code tcpi_rcv_rtt}. */
    RCV_RTT(s -> tcp_info.tcpi_rcv_rtt(s) & 0xFFFF_FFFFL, tcp_info.tcpi_rcv_rtt$offset() + tcp_info.tcpi_rcv_rtt$layout().byteSize()),
    /** {@code tcpi_rcv_space}. */
    RCV_SPACE(s -> tcp_info.tcpi_rcv_space(s) & 0xFFFF_FFFFL, tcp_info.tcpi_rcv_space$offset() + tcp_info.tcpi_rcv_space$layout().byteSize()),
    /** {@code tcpi_total_retrans}. */
    TOTAL_RETRANS(s -> tcp_info.tcpi_total_retrans(s) & 0xFFFF_FFFFL, tcp_info.tcpi_total_retrans$offset() + tcp_info.tcpi_total_retrans$layout().byteSize()),
    /** {@code tcpi_pacing_rate}. */
    PACING_RATE(s -> tcp_info.tcpi_pacing_rate(s), tcp_info.tcpi_pacing_rate$offset() + tcp_info.tcpi_pacing_rate$layout().byteSize()),
    /** {@code tcpi_max_pacing_rate}. */
    MAX_PACING_RATE(s -> tcp_info.tcpi_max_pacing_rate(s), tcp_info.tcpi_max_pacing_rate$offset() + tcp_info.tcpi_max_pacing_rate$layout().byteSize()),
    /** {@code tcpi_bytes_acked}. */
    BYTES_ACKED(s -> tcp_info.tcpi_bytes_acked(s), tcp_info.tcpi_bytes_acked$offset() + tcp_info.tcpi_bytes_acked$layout().byteSize()),
    /** {@code tcpi_bytes_received}. */
    BYTES_RECEIVED(s -> tcp_info.tcpi_bytes_received(s), tcp_info.tcpi_bytes_received$offset() + tcp_info.tcpi_bytes_received$layout().byteSize()),
    /** {@code tcpi_segs_out}. */
    SEGS_OUT(s -> tcp_info.tcpi_segs_out(s) & 0xFFFF_FFFFL, tcp_info.tcpi_segs_out$offset() + tcp_info.tcpi_segs_out$layout().byteSize()),
    /** {@code tcpi_segs_in}. */
    SEGS_IN(s -> tcp_info.tcpi_segs_in(s) & 0xFFFF_FFFFL, tcp_info.tcpi_segs_in$offset() + tcp_info.tcpi_segs_in$layout().byteSize()),
    /** {@code tcpi_notsent_bytes}. */
    NOTSENT_BYTES(s -> tcp_info.tcpi_notsent_bytes(s) & 0xFFFF_FFFFL, tcp_info.tcpi_notsent_bytes$offset() + tcp_info.tcpi_notsent_bytes$layout().byteSize()),
    /** {@code tcpi_min_rtt}. */
    MIN_RTT(s -> tcp_info.tcpi_min_rtt(s) & 0xFFFF_FFFFL, tcp_info.tcpi_min_rtt$offset() + tcp_info.tcpi_min_rtt$layout().byteSize()),
    /** {@code tcpi_data_segs_in}. */
    DATA_SEGS_IN(s -> tcp_info.tcpi_data_segs_in(s) & 0xFFFF_FFFFL, tcp_info.tcpi_data_segs_in$offset() + tcp_info.tcpi_data_segs_in$layout().byteSize()),
    /** {@code tcpi_data_segs_out}. */
    DATA_SEGS_OUT(s -> tcp_info.tcpi_data_segs_out(s) & 0xFFFF_FFFFL, tcp_info.tcpi_data_segs_out$offset() + tcp_info.tcpi_data_segs_out$layout().byteSize()),
    /** {@code tcpi_delivery_rate}. */
    DELIVERY_RATE(s -> tcp_info.tcpi_delivery_rate(s), tcp_info.tcpi_delivery_rate$offset() + tcp_info.tcpi_delivery_rate$layout().byteSize()),
    /** {@code tcpi_busy_time}. */
    BUSY_TIME(s -> tcp_info.tcpi_busy_time(s), tcp_info.tcpi_busy_time$offset() + tcp_info.tcpi_busy_time$layout().byteSize()),
    /** {@code tcpi_rwnd_limited}. */
    RWND_LIMITED(s -> tcp_info.tcpi_rwnd_limited(s), tcp_info.tcpi_rwnd_limited$offset() + tcp_info.tcpi_rwnd_limited$layout().byteSize()),
    /** {@code tcpi_sndbuf_limited}. */
    SNDBUF_LIMITED(s -> tcp_info.tcpi_sndbuf_limited(s), tcp_info.tcpi_sndbuf_limited$offset() + tcp_info.tcpi_sndbuf_limited$layout().byteSize()),
    /** {@code tcpi_delivered}. */
    DELIVERED(s -> tcp_info.tcpi_delivered(s) & 0xFFFF_FFFFL, tcp_info.tcpi_delivered$offset() + tcp_info.tcpi_delivered$layout().byteSize()),
    /** {@code tcpi_delivered_ce}. */
    DELIVERED_CE(s -> tcp_info.tcpi_delivered_ce(s) & 0xFFFF_FFFFL, tcp_info.tcpi_delivered_ce$offset() + tcp_info.tcpi_delivered_ce$layout().byteSize()),
    /** {@code tcpi_bytes_sent}. */
    BYTES_SENT(s -> tcp_info.tcpi_bytes_sent(s), tcp_info.tcpi_bytes_sent$offset() + tcp_info.tcpi_bytes_sent$layout().byteSize()),
    /** {@code tcpi_bytes_retrans}. */
    BYTES_RETRANS(s -> tcp_info.tcpi_bytes_retrans(s), tcp_info.tcpi_bytes_retrans$offset() + tcp_info.tcpi_bytes_retrans$layout().byteSize()),
    /** {@code tcpi_dsack_dups}. */
    DSACK_DUPS(s -> tcp_info.tcpi_dsack_dups(s) & 0xFFFF_FFFFL, tcp_info.tcpi_dsack_dups$offset() + tcp_info.tcpi_dsack_dups$layout().byteSize()),
    /** {@code tcpi_reord_seen}. */
    REORD_SEEN(s -> tcp_info.tcpi_reord_seen(s) & 0xFFFF_FFFFL, tcp_info.tcpi_reord_seen$offset() + tcp_info.tcpi_reord_seen$layout().byteSize()),
    /** {@code tcpi_rcv_ooopack}. */
    RCV_OOOPACK(s -> tcp_info.tcpi_rcv_ooopack(s) & 0xFFFF_FFFFL, tcp_info.tcpi_rcv_ooopack$offset() + tcp_info.tcpi_rcv_ooopack$layout().byteSize()),
    /** {@code tcpi_snd_wnd}. */
    SND_WND(s -> tcp_info.tcpi_snd_wnd(s) & 0xFFFF_FFFFL, tcp_info.tcpi_snd_wnd$offset() + tcp_info.tcpi_snd_wnd$layout().byteSize());

    private final ToLongFunction<MemorySegment> reader;
    private final long end;

    TcpInfoField(ToLongFunction<MemorySegment> reader, long end) {
        this.reader = reader;
        this.end = end;
    }

    /** {@return the field's value in {@code info}, or 0 if the kernel returned only {@code length} bytes short of it} */
    long read(MemorySegment info, long length) {
        return length >= end ? reader.applyAsLong(info) : 0;
    }
}
