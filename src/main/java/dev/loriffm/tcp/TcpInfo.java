package dev.loriffm.tcp;

/**
 * A snapshot of the kernel's {@code TCP_INFO} for a connection ({@link TcpConnection#tcpInfo()}):
 * state, round-trip times, congestion window, retransmissions, byte counters and more. Fields the
 * running kernel does not report are 0. Values are the kernel's, unsigned, widened to {@code long};
 * times are in microseconds unless noted.
 *
 * @param state {@code tcpi_state}
 * @param caState {@code tcpi_ca_state}
 * @param retransmits {@code tcpi_retransmits}
 * @param probes {@code tcpi_probes}
 * @param backoff {@code tcpi_backoff}
 * @param options {@code tcpi_options}
 * @param rto {@code tcpi_rto} (µs)
 * @param ato {@code tcpi_ato} (µs)
 * @param sndMss {@code tcpi_snd_mss}
 * @param rcvMss {@code tcpi_rcv_mss}
 * @param unacked {@code tcpi_unacked}
 * @param sacked {@code tcpi_sacked}
 * @param lost {@code tcpi_lost}
 * @param retrans {@code tcpi_retrans}
 * @param fackets {@code tcpi_fackets}
 * @param lastDataSent {@code tcpi_last_data_sent} (ms ago)
 * @param lastAckSent {@code tcpi_last_ack_sent} (ms ago)
 * @param lastDataRecv {@code tcpi_last_data_recv} (ms ago)
 * @param lastAckRecv {@code tcpi_last_ack_recv} (ms ago)
 * @param pmtu {@code tcpi_pmtu}
 * @param rcvSsthresh {@code tcpi_rcv_ssthresh}
 * @param rtt {@code tcpi_rtt} (µs)
 * @param rttvar {@code tcpi_rttvar} (µs)
 * @param sndSsthresh {@code tcpi_snd_ssthresh}
 * @param sndCwnd {@code tcpi_snd_cwnd}
 * @param advmss {@code tcpi_advmss}
 * @param reordering {@code tcpi_reordering}
 * @param rcvRtt {@code tcpi_rcv_rtt} (µs)
 * @param rcvSpace {@code tcpi_rcv_space}
 * @param totalRetrans {@code tcpi_total_retrans}
 * @param pacingRate {@code tcpi_pacing_rate} (bytes/s)
 * @param maxPacingRate {@code tcpi_max_pacing_rate} (bytes/s)
 * @param bytesAcked {@code tcpi_bytes_acked}
 * @param bytesReceived {@code tcpi_bytes_received}
 * @param segsOut {@code tcpi_segs_out}
 * @param segsIn {@code tcpi_segs_in}
 * @param notsentBytes {@code tcpi_notsent_bytes}
 * @param minRtt {@code tcpi_min_rtt} (µs)
 * @param dataSegsIn {@code tcpi_data_segs_in}
 * @param dataSegsOut {@code tcpi_data_segs_out}
 * @param deliveryRate {@code tcpi_delivery_rate} (bytes/s)
 * @param busyTime {@code tcpi_busy_time} (µs)
 * @param rwndLimited {@code tcpi_rwnd_limited} (µs)
 * @param sndbufLimited {@code tcpi_sndbuf_limited} (µs)
 * @param delivered {@code tcpi_delivered}
 * @param deliveredCe {@code tcpi_delivered_ce}
 * @param bytesSent {@code tcpi_bytes_sent}
 * @param bytesRetrans {@code tcpi_bytes_retrans}
 * @param dsackDups {@code tcpi_dsack_dups}
 * @param reordSeen {@code tcpi_reord_seen}
 * @param rcvOoopack {@code tcpi_rcv_ooopack}
 * @param sndWnd {@code tcpi_snd_wnd}
 */
public record TcpInfo(
        long state,
        long caState,
        long retransmits,
        long probes,
        long backoff,
        long options,
        long rto,
        long ato,
        long sndMss,
        long rcvMss,
        long unacked,
        long sacked,
        long lost,
        long retrans,
        long fackets,
        long lastDataSent,
        long lastAckSent,
        long lastDataRecv,
        long lastAckRecv,
        long pmtu,
        long rcvSsthresh,
        long rtt,
        long rttvar,
        long sndSsthresh,
        long sndCwnd,
        long advmss,
        long reordering,
        long rcvRtt,
        long rcvSpace,
        long totalRetrans,
        long pacingRate,
        long maxPacingRate,
        long bytesAcked,
        long bytesReceived,
        long segsOut,
        long segsIn,
        long notsentBytes,
        long minRtt,
        long dataSegsIn,
        long dataSegsOut,
        long deliveryRate,
        long busyTime,
        long rwndLimited,
        long sndbufLimited,
        long delivered,
        long deliveredCe,
        long bytesSent,
        long bytesRetrans,
        long dsackDups,
        long reordSeen,
        long rcvOoopack,
        long sndWnd) {

    /** {@code TCP_ESTABLISHED}: the value of {@link #state()} for an established connection. */
    public static final int ESTABLISHED = dev.loriffm.internal.sys.SockOpts.TCP_ESTABLISHED;

    /** {@return whether {@link #state()} is {@code TCP_ESTABLISHED}} */
    public boolean isEstablished() {
        return state == ESTABLISHED;
    }

    static TcpInfo of(long[] v) {
        return new TcpInfo(
                v[0],
                v[1],
                v[2],
                v[3],
                v[4],
                v[5],
                v[6],
                v[7],
                v[8],
                v[9],
                v[10],
                v[11],
                v[12],
                v[13],
                v[14],
                v[15],
                v[16],
                v[17],
                v[18],
                v[19],
                v[20],
                v[21],
                v[22],
                v[23],
                v[24],
                v[25],
                v[26],
                v[27],
                v[28],
                v[29],
                v[30],
                v[31],
                v[32],
                v[33],
                v[34],
                v[35],
                v[36],
                v[37],
                v[38],
                v[39],
                v[40],
                v[41],
                v[42],
                v[43],
                v[44],
                v[45],
                v[46],
                v[47],
                v[48],
                v[49],
                v[50],
                v[51]);
    }
}
