package dev.loriffm.tcp;

import java.lang.foreign.MemorySegment;

/**
 * Calls a connection's receiver, isolating failures: a callback that throws is reported to the
 * loop (logged, counted) and the connection is hard-closed; nothing escapes into the event loop.
 *
 * <p>Loop-confined: not thread-safe.
 */
final class ReceiverCalls {
    private final TcpConnection connection;
    private final LifecycleReceiver receiver;
    private final ClientLifecycleReceiver client;
    private final ServerLifecycleReceiver server;

    ReceiverCalls(TcpConnection connection, ClientLifecycleReceiver client, ServerLifecycleReceiver server) {
        this.connection = connection;
        this.client = client;
        this.server = server;
        this.receiver = client != null ? client : server;
    }

    void connecting(int inflight) {
        try {
            client.onConnecting(connection, inflight);
        } catch (Throwable t) {
            connection.callbackFailed("onConnecting", t);
        }
    }

    void connected() {
        try {
            client.onConnected(connection);
        } catch (Throwable t) {
            connection.callbackFailed("onConnected", t);
        }
    }

    void started() {
        try {
            server.onStarted(connection);
        } catch (Throwable t) {
            connection.callbackFailed("onStarted", t);
        }
    }

    void connectionFailure(ConnectionFailure reason) {
        try {
            client.onConnectionFailure(connection, reason);
        } catch (Throwable t) {
            connection.callbackFailed("onConnectionFailure", t);
        }
    }

    void received(MemorySegment data) {
        try {
            receiver.onReceived(connection, data);
        } catch (Throwable t) {
            connection.callbackFailed("onReceived", t);
        }
    }

    void sent(SendToken token) {
        try {
            receiver.onSent(connection, token);
        } catch (Throwable t) {
            connection.callbackFailed("onSent", t);
        }
    }

    void throttled() {
        try {
            receiver.onThrottled(connection);
        } catch (Throwable t) {
            connection.callbackFailed("onThrottled", t);
        }
    }

    void unthrottled() {
        try {
            receiver.onUnthrottled(connection);
        } catch (Throwable t) {
            connection.callbackFailed("onUnthrottled", t);
        }
    }

    void sendFailed(SendToken token) {
        try {
            receiver.onSendFailed(connection, token);
        } catch (Throwable t) {
            connection.callbackFailed("onSendFailed", t);
        }
    }

    void idleTimeout() {
        try {
            receiver.onIdleTimeout(connection);
        } catch (Throwable t) {
            connection.callbackFailed("onIdleTimeout", t);
        }
    }

    void idleTimerFailure() {
        try {
            receiver.onIdleTimerFailure(connection);
        } catch (Throwable t) {
            connection.callbackFailed("onIdleTimerFailure", t);
        }
    }

    void timer(TimerToken token) {
        try {
            receiver.onTimer(connection, token);
        } catch (Throwable t) {
            connection.callbackFailed("onTimer", t);
        }
    }

    void timerFailure() {
        try {
            receiver.onTimerFailure(connection);
        } catch (Throwable t) {
            connection.callbackFailed("onTimerFailure", t);
        }
    }

    void tlsReady() {
        try {
            receiver.onTlsReady(connection);
        } catch (Throwable t) {
            connection.callbackFailed("onTlsReady", t);
        }
    }

    void tlsFailure(TlsFailure reason) {
        try {
            receiver.onTlsFailure(connection, reason);
        } catch (Throwable t) {
            connection.callbackFailed("onTlsFailure", t);
        }
    }

    void startFailure(StartFailure reason) {
        try {
            server.onStartFailure(connection, reason);
        } catch (Throwable t) {
            connection.callbackFailed("onStartFailure", t);
        }
    }

    void closed() {
        try {
            receiver.onClosed(connection);
        } catch (Throwable t) {
            connection.callbackFailed("onClosed", t);
        }
    }
}
