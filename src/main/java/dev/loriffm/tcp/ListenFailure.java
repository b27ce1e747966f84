package dev.loriffm.tcp;

/**
 * Why a listener could not start.
 *
 * @param stage   what failed: {@code "resolve"}, {@code "socket"}, {@code "bind"}, {@code "listen"} or {@code "register"}
 * @param message a description, e.g. {@code "bind 127.0.0.1:80: EACCES (Permission denied)"}
 */
public record ListenFailure(String stage, String message) { }
