package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.openssl_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads what a TLS peer presented: its certificate's subject and subject alternative names, and
 * the subjects of the chain it sent. Every OpenSSL object taken here is freed here.
 *
 * <p>Loop-confined like the session it reads from; stateless otherwise.
 */
public final class SslPeerCertificates {
    private static final int MAX_NAME_BYTES = 16 * 1024;
    private static final int MAX_SAN_BYTES = 1024;
    private static final int MAX_CHAIN = 64;

    /**
     * The peer's certificate as Java values.
     *
     * @param subject       RFC 2253 subject, e.g. {@code "CN=localhost"}, or "" without a certificate
     * @param altNames      DNS names and IP addresses of the subject alternative name extension
     * @param chainSubjects RFC 2253 subjects of the chain the peer sent, leaf first (as OpenSSL reports it)
     */
    public record Peer(String subject, List<String> altNames, List<String> chainSubjects) { }

    private SslPeerCertificates() { }

    /** {@return what the peer of {@code ssl} presented} */
    public static Peer read(MemorySegment ssl) {
        MemorySegment certificate = openssl_h.SSL_get1_peer_certificate(ssl);
        String subject = "";
        List<String> altNames = List.of();
        if (!certificate.equals(MemorySegment.NULL)) {
            try {
                subject = subject(certificate);
                altNames = altNames(certificate);
            } finally {
                openssl_h.X509_free(certificate);
            }
        }
        List<String> chain = new ArrayList<>();
        MemorySegment stack = openssl_h.SSL_get_peer_cert_chain(ssl); // owned by the session
        if (!stack.equals(MemorySegment.NULL)) {
            int n = Math.min(openssl_h.OPENSSL_sk_num(stack), MAX_CHAIN);
            for (int i = 0; i < n; i++) {
                chain.add(subject(openssl_h.OPENSSL_sk_value(stack, i)));
            }
        }
        openssl_h.ERR_clear_error();
        return new Peer(subject, List.copyOf(altNames), List.copyOf(chain));
    }

    private static String subject(MemorySegment certificate) {
        MemorySegment bio = openssl_h.BIO_new(openssl_h.BIO_s_mem());
        if (bio.equals(MemorySegment.NULL)) {
            return "";
        }
        try {
            openssl_h.X509_NAME_print_ex(bio, openssl_h.X509_get_subject_name(certificate), 0,
                    Integer.toUnsignedLong(openssl_h.XN_FLAG_RFC2253()));
            int pending = (int) Math.min(openssl_h.BIO_ctrl_pending(bio), MAX_NAME_BYTES);
            byte[] text = new byte[pending];
            int n = pending == 0 ? 0 : openssl_h.BIO_read(bio, MemorySegment.ofArray(text), pending);
            return new String(text, 0, Math.max(n, 0), StandardCharsets.UTF_8);
        } finally {
            openssl_h.BIO_free(bio);
        }
    }

    @SuppressWarnings("restricted")
    private static List<String> altNames(MemorySegment certificate) {
        MemorySegment names = openssl_h.X509_get_ext_d2i(certificate, openssl_h.NID_subject_alt_name(),
                MemorySegment.NULL, MemorySegment.NULL);
        if (names.equals(MemorySegment.NULL)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment type = arena.allocate(ValueLayout.JAVA_INT);
            int count = Math.min(openssl_h.OPENSSL_sk_num(names), MAX_CHAIN * 16);
            for (int i = 0; i < count; i++) {
                MemorySegment value = openssl_h.GENERAL_NAME_get0_value(openssl_h.OPENSSL_sk_value(names, i), type);
                int kind = type.get(ValueLayout.JAVA_INT, 0);
                if (value.equals(MemorySegment.NULL) || kind != openssl_h.GEN_DNS() && kind != openssl_h.GEN_IPADD()) {
                    continue;
                }
                int length = openssl_h.ASN1_STRING_length(value);
                if (length <= 0 || length > MAX_SAN_BYTES) {
                    continue;
                }
                // ASN1_STRING_length is the exact size of the data ASN1_STRING_get0_data points at.
                byte[] bytes = openssl_h.ASN1_STRING_get0_data(value).reinterpret(length).toArray(ValueLayout.JAVA_BYTE);
                out.add(kind == openssl_h.GEN_DNS() ? new String(bytes, StandardCharsets.US_ASCII) : ip(bytes));
            }
        } finally {
            openssl_h.GENERAL_NAMES_free(names);
        }
        return out;
    }

    private static String ip(byte[] address) {
        try {
            return InetAddress.getByAddress(address).getHostAddress();
        } catch (UnknownHostException wrongLength) {
            return "(invalid IP address of " + address.length + " bytes)";
        }
    }
}
