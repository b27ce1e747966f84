/**
 * lori-ffm: a TCP/TLS socket runtime for JDK 22+ on the Foreign Function and Memory API.
 *
 * <p>API: {@code dev.loriffm.loop} (event loops), {@code dev.loriffm.tcp} (connections and
 * listeners) and {@code dev.loriffm.tls} (TLS contexts). The packages
 * below {@code dev.loriffm.internal} are not exported: {@code internal.bindings} holds the
 * generated FFM downcalls and layouts, and {@code internal.sys} is the only package that calls them.
 */
module dev.loriffm {
    exports dev.loriffm.loop;
    exports dev.loriffm.tcp;
    exports dev.loriffm.tls;
}
