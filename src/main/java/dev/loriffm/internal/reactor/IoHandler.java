package dev.loriffm.internal.reactor;

/** Receives epoll readiness for one registered fd. Called on the loop thread only. */
public interface IoHandler {
    /**
     * @param fd     the registered fd the event is for
     * @param events the epoll event mask ({@code EPOLLIN}, {@code EPOLLOUT}, {@code EPOLLERR}, ...)
     */
    void onIo(int fd, int events);
}
