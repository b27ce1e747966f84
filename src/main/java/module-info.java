/**
 * lori-ffm: a TCP/TLS socket runtime for JDK 22+ on the Foreign Function and Memory API.
 *
 * <p>The public API packages arrive with the reactor and connections (issue #3). The packages
 * below {@code dev.loriffm.internal} are not exported: {@code internal.bindings} holds the
 * generated FFM downcalls and layouts, and {@code internal.sys} is the only package that calls them.
 */
module dev.loriffm {
}
