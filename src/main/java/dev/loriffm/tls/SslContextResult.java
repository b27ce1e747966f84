package dev.loriffm.tls;

/**
 * The outcome of {@link SslContextBuilder#build()}: a usable context or the reason there is none.
 * Match it with an exhaustive {@code switch}:
 * {@snippet :
 * switch (SslContext.server().certificateChain(chain, key).build()) {
 *     case SslContextResult.Built(SslContext context) -> serve(context);
 *     case SslContextError error -> log(error.message());
 * }
 * }
 */
public sealed interface SslContextResult permits SslContextResult.Built, SslContextError {
    /**
     * The context was built: every input was checked and loaded.
     *
     * @param context the new context; the caller owns it and closes it
     */
    record Built(SslContext context) implements SslContextResult { }
}
