package dev.loriffm.internal.reactor;

import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.internal.sys.EventFd;
import dev.loriffm.internal.sys.Fds;
import dev.loriffm.internal.sys.NativeAccounting;
import dev.loriffm.internal.sys.NativeScratch;
import dev.loriffm.internal.sys.SysException;
import dev.loriffm.loop.EventLoop;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The event loop: one platform thread, one epoll instance, an eventfd for wake-ups, a
 * multi-producer task queue, a loop-local task queue for deferred work, and a timer heap whose
 * earliest deadline bounds {@code epoll_wait}.
 *
 * <p>Registrations are edge-triggered; each carries {@code generation << 32 | fd} as its epoll
 * data, so an event for an fd that was deregistered (or closed and reused) in the same batch is
 * recognised as stale and dropped in one place (lori#349).
 *
 * <p>Thread-safe: {@link #execute}, {@link #inEventLoop}, {@link #name} and {@link #shutdown}.
 * Every other method is loop-confined and asserts it.
 */
public final class Reactor implements EventLoop {
    private static final System.Logger LOG = System.getLogger("dev.loriffm.loop");
    private static final int AWAKE = 0;
    private static final int SLEEPING = 1;
    private static final int MAX_EVENTS = 512;
    private static final int MAX_INBOX_PER_TURN = 4096;
    private static final long NANOS_PER_MILLI = 1_000_000L;
    /** The default bound on timers pending on one loop. */
    public static final int DEFAULT_TIMER_LIMIT = 1 << 24;
    /** The size of the loop's shared receive area (see {@link #borrowReceiveArea}). */
    public static final int RECEIVE_AREA_BYTES = 65536;
    /** How often the loop sweeps its {@link Trimmable}s: idle memory goes back within two periods. */
    public static final long SWEEP_PERIOD_NS = 1_000_000_000L;

    private final String name;
    private final Executor blockingExecutor;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    // AWAKE or SLEEPING: a producer writes the eventfd only when the loop may be blocked in epoll_wait.
    private final AtomicInteger wakeState = new AtomicInteger(AWAKE);
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile boolean shutdownRequested;
    private volatile boolean acceptingTasks = true;
    private volatile RuntimeException startFailure;
    private volatile EventFd.Signaller signaller;
    // Threads inside execute(): the loop frees the wake-up fd and memory only once none is.
    private final AtomicInteger producers = new AtomicInteger();

    // -- loop thread only
    private final ArrayDeque<Runnable> deferred = new ArrayDeque<>();
    private final TimerHeap timers = new TimerHeap();
    private final Set<LoopResource> resources = new LinkedHashSet<>();
    // Owners of memory to free while idle, swept every SWEEP_PERIOD_NS while any is registered.
    private final ArrayList<Trimmable> trimmables = new ArrayList<>();
    private long nextSweepNs = Long.MAX_VALUE;
    // The shared receive area, allocated at the first borrow, freed with the loop; lent to one
    // connection's read turn at a time.
    private Arena receiveArena;
    private MemorySegment receiveArea;
    private boolean receiveAreaLent;
    private NativeScratch scratch;
    private MemorySegment events;
    private int epfd = -1;
    private int wakeFd = -1;
    private Registration[] registrations = new Registration[256];
    private int nextGeneration = 1;
    private long callbackFailures;
    // Timers beyond this many are refused (schedule returns null), bounding memory per loop.
    private int timerLimit = DEFAULT_TIMER_LIMIT;

    private record Registration(int fd, int generation, IoHandler handler) { }

    /**
     * Starts the loop thread and waits until its epoll instance exists.
     *
     * @param name             the thread name
     * @param blockingExecutor where blocking work (name resolution) runs, off the loop
     * @throws SysException if epoll or the eventfd cannot be created
     */
    public Reactor(String name, Executor blockingExecutor) {
        this.name = name;
        this.blockingExecutor = blockingExecutor;
        this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
        thread.start();
        try {
            started.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + name, e);
        }
        if (startFailure != null) {
            throw startFailure;
        }
    }

    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (inEventLoop()) {
            // From the loop itself: one FIFO with defer(), so a task queued before a yield or an
            // unmute runs before the resumed read (lori's self-sent behaviours keep their order).
            if (!acceptingTasks) {
                throw new RejectedExecutionException(name + " has shut down");
            }
            deferred.add(task);
            return;
        }
        producers.incrementAndGet();
        try {
            if (!acceptingTasks) {
                throw new RejectedExecutionException(name + " has shut down");
            }
            inbox.offer(task);
            if (!inEventLoop() && wakeState.getAndSet(AWAKE) == SLEEPING) {
                EventFd.Signaller s = signaller;
                if (s != null) {
                    s.signal();
                }
            }
        } finally {
            producers.decrementAndGet();
        }
    }

    @Override
    public boolean inEventLoop() {
        return Thread.currentThread() == thread;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "EventLoop[" + name + "]";
    }

    /**
     * Throws unless called on this loop's thread.
     *
     * @param what the operation, named in the message
     * @throws IllegalStateException on any other thread
     */
    public void assertInLoop(String what) {
        assertInLoop("", what);
    }

    /**
     * As {@link #assertInLoop(String)} for {@code owner + what}; the two parts are joined only when
     * the check fails, so the check allocates nothing on the hot path (every {@code send} runs it).
     */
    public void assertInLoop(String owner, String what) {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException(owner + what + " must be called on its event loop thread " + name
                    + ", not on " + Thread.currentThread().getName()
                    + "; use execute(Runnable) to run code there");
        }
    }

    /** {@return the loop's native scratch memory; loop thread only} */
    public NativeScratch scratch() {
        return scratch;
    }

    /** {@return the executor for blocking work such as name resolution} */
    public Executor blockingExecutor() {
        return blockingExecutor;
    }

    /** {@return how many callback failures this loop has caught and logged} */
    public long callbackFailures() {
        return callbackFailures;
    }

    /**
     * Registers {@code fd} edge-triggered for {@code events}.
     *
     * @return 0, or {@code -errno} if {@code epoll_ctl} failed (the fd is then not registered)
     */
    public int register(int fd, int events, IoHandler handler) {
        if (fd >= registrations.length) {
            registrations = Arrays.copyOf(registrations, Math.max(fd + 1, registrations.length * 2));
        }
        int generation = nextGeneration++;
        if (nextGeneration == 0) {
            nextGeneration = 1;
        }
        long data = ((long) generation << 32) | (fd & 0xFFFF_FFFFL);
        int r = Epoll.ctl(scratch, epfd, Epoll.CTL_ADD, fd, events | Epoll.EPOLLET, data);
        if (r == 0) {
            registrations[fd] = new Registration(fd, generation, handler);
        }
        return r;
    }

    /** Forgets {@code fd}'s registration and closes it (which also removes it from epoll). */
    public void closeRegistered(int fd) {
        if (fd >= 0 && fd < registrations.length) {
            registrations[fd] = null;
        }
        if (fd >= 0) {
            int r = Fds.close(scratch, fd);
            if (r < 0 && r != -Errno.EINTR) {
                LOG.log(System.Logger.Level.WARNING, "close({0}) failed: {1}", fd, Errno.describe(-r));
            }
        }
    }

    /**
     * Schedules {@code task} to run once, about {@code delayNs} from now, on this loop.
     *
     * @return the timer, or null if the loop already has {@link #setTimerLimit its limit} of
     *         pending timers (the caller reports the failure)
     */
    public Timer schedule(long delayNs, Runnable task) {
        if (timers.size() >= timerLimit) {
            return null;
        }
        long now = System.nanoTime();
        long deadline = delayNs > Long.MAX_VALUE - now ? Long.MAX_VALUE : now + delayNs;
        return timers.add(deadline, task);
    }

    /** Sets how many timers may be pending on this loop at once (loop thread only). */
    public void setTimerLimit(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("timer limit must not be negative");
        }
        timerLimit = limit;
    }

    /** {@return the number of timers pending on this loop (loop thread only)} */
    public int pendingTimers() {
        return timers.size();
    }

    /** Runs {@code task} in a later turn of this loop (loop thread only; no wake-up needed). */
    public void defer(Runnable task) {
        deferred.add(task);
    }

    /** Tracks a resource to release if the loop shuts down while it is open. */
    public void track(LoopResource resource) {
        resources.add(resource);
    }

    /** Stops tracking a released resource. */
    public void untrack(LoopResource resource) {
        resources.remove(resource);
    }

    /**
     * Asks the loop to stop: it releases every tracked resource (firing their close callbacks),
     * runs the tasks that produces, frees its fds and memory, and exits. Thread-safe, idempotent.
     */
    public void shutdown() {
        shutdownRequested = true;
        if (!inEventLoop()) {
            try {
                execute(() -> { });
            } catch (RejectedExecutionException alreadyStopping) {
                // Nothing to wake.
            }
        }
    }

    /** {@return whether {@link #shutdown()} was requested} Thread-safe. */
    public boolean isShuttingDown() {
        return shutdownRequested;
    }

    /** Waits up to {@code timeout} for the loop thread to exit; {@return whether it has} */
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        if (!terminated.await(timeout, unit)) {
            return false;
        }
        if (Thread.currentThread() == thread) {
            return true;
        }
        // The latch opens in the thread's last moments: join it too, so that "terminated" means
        // the thread is gone (a caller counting the process's threads sees it gone).
        long left = Math.max(1, deadline - System.nanoTime());
        return thread.join(java.time.Duration.ofNanos(left));
    }

    private void run() {
        try {
            open();
        } catch (RuntimeException e) {
            startFailure = e;
            acceptingTasks = false;
            releaseNative();
            started.countDown();
            terminated.countDown();
            return;
        }
        started.countDown();
        try {
            while (!shutdownRequested) {
                turn();
            }
            closeResources();
        } catch (Throwable fatal) {
            LOG.log(System.Logger.Level.ERROR, name + " stopped by an unexpected error", fatal);
        } finally {
            acceptingTasks = false;
            // Producers already past the acceptingTasks check may still enqueue (and write the
            // eventfd): wait them out, so the drain below sees every task ever accepted.
            while (producers.get() != 0) {
                Thread.onSpinWait();
            }
            try {
                drainTasksAfterShutdown();
                releaseNative();
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.ERROR, name + " failed to release its resources", t);
            } finally {
                terminated.countDown();
            }
        }
    }

    private void open() {
        scratch = new NativeScratch();
        events = Epoll.allocateEvents(scratch, MAX_EVENTS);
        epfd = SysException.check("epoll_create1", Epoll.create(scratch));
        wakeFd = SysException.check("eventfd", EventFd.create(scratch));
        SysException.check("epoll_ctl", Epoll.ctl(scratch, epfd, Epoll.CTL_ADD, wakeFd,
                Epoll.EPOLLIN | Epoll.EPOLLET, -1L));
        signaller = new EventFd.Signaller(wakeFd);
    }

    /** One loop turn: wait for I/O (bounded by timers and pending tasks), dispatch, run timers, run tasks. */
    private void turn() {
        int timeoutMs = timeoutMs();
        if (timeoutMs != 0) {
            wakeState.set(SLEEPING);
            if (!inbox.isEmpty() || shutdownRequested) {
                timeoutMs = 0;
            }
        }
        int n = Epoll.await(scratch, epfd, events, timeoutMs);
        wakeState.set(AWAKE);
        if (n < 0) {
            if (n != -Errno.EINTR) {
                throw new SysException("epoll_wait", -n);
            }
            n = 0;
        }
        MemorySegment batch = events;
        for (int i = 0; i < n; i++) {
            long data = Epoll.eventData(batch, i);
            int mask = Epoll.eventMask(batch, i);
            dispatch(data, mask);
        }
        runTimers();
        runTasks();
        if (nextSweepNs != Long.MAX_VALUE && System.nanoTime() - nextSweepNs >= 0) {
            sweep();
        }
    }

    /**
     * Lends the loop's shared receive area ({@link #RECEIVE_AREA_BYTES} of native memory) to one
     * read turn; {@return whether it was lent, false if it already is (a read nested in another
     * connection's callback)} The borrower reaches it through {@link #receiveAreaView}.
     * Connections read into it when they hold no unprocessed bytes and deliver straight from it, so a connection needs memory of its own only for bytes left over after its turn:
     * the C reference server's design, which keeps idle connections free of buffers and the
     * loop's whole receive footprint one area. Loop thread only; give it back with
     * {@link #returnReceiveArea} before the turn ends.
     */
    public boolean borrowReceiveArea() {
        if (receiveAreaLent) {
            return false;
        }
        if (receiveArea == null) {
            receiveArena = NativeAccounting.confinedArena();
            receiveArea = receiveArena.allocate(RECEIVE_AREA_BYTES, 64);
        }
        receiveAreaLent = true;
        return true;
    }

    /**
     * {@return the first {@code size} bytes of the receive area, as a segment whose lifetime is
     * {@code scope}'s} Closing {@code scope} makes every slice of the view throw, while the area
     * itself lives on for the other connections: a connection closes its scope when it is done,
     * so slices it handed out cannot be used after that. Sound because the area is freed only
     * when the loop ends, after every connection (and so every scope) has closed. Loop thread only.
     *
     * @throws IllegalArgumentException if {@code size} exceeds {@link #RECEIVE_AREA_BYTES}
     */
    @SuppressWarnings("restricted") // same address and length as a checked slice: only the scope changes
    public MemorySegment receiveAreaView(long size, Arena scope) {
        if (receiveArea == null) {
            throw new IllegalStateException("the receive area was never borrowed");
        }
        return receiveArea.asSlice(0, size).reinterpret(scope, null);
    }

    /** Takes back the area {@link #borrowReceiveArea} lent. Loop thread only. */
    public void returnReceiveArea() {
        receiveAreaLent = false;
    }

    /**
     * Registers {@code owner} to be swept about once per {@link #SWEEP_PERIOD_NS} until its
     * {@link Trimmable#sweep} returns false (loop thread only). The loop's sleep is bounded by the
     * next sweep only while something is registered; an idle loop with nothing to trim sleeps on.
     */
    public void trimWhenIdle(Trimmable owner) {
        if (trimmables.isEmpty()) {
            nextSweepNs = System.nanoTime() + SWEEP_PERIOD_NS;
        }
        trimmables.add(owner);
    }

    private void sweep() {
        int kept = 0;
        for (int i = 0, n = trimmables.size(); i < n; i++) {
            Trimmable owner = trimmables.get(i);
            boolean keep;
            try {
                keep = owner.sweep();
            } catch (Throwable t) {
                reportFailure("idle memory sweep", t);
                keep = false;
            }
            if (keep) {
                trimmables.set(kept++, owner);
            }
        }
        trimmables.subList(kept, trimmables.size()).clear();
        nextSweepNs = trimmables.isEmpty() ? Long.MAX_VALUE : System.nanoTime() + SWEEP_PERIOD_NS;
    }

    private int timeoutMs() {
        if (!deferred.isEmpty() || !inbox.isEmpty()) {
            return 0;
        }
        long next = Math.min(timers.nextDeadlineNs(), nextSweepNs);
        if (next == Long.MAX_VALUE) {
            return -1;
        }
        long waitNs = next - System.nanoTime();
        if (waitNs <= 0) {
            return 0;
        }
        // Round up so the loop does not wake a little early and spin until the deadline.
        long ms = (waitNs + NANOS_PER_MILLI - 1) / NANOS_PER_MILLI;
        return (int) Math.min(ms, Integer.MAX_VALUE);
    }

    private void dispatch(long data, int mask) {
        if (data == -1L) {
            EventFd.drain(scratch, wakeFd);
            return;
        }
        int fd = (int) data;
        int generation = (int) (data >>> 32);
        Registration[] table = registrations;
        Registration registration = fd >= 0 && fd < table.length ? table[fd] : null;
        if (registration == null || registration.generation != generation) {
            return; // stale: deregistered (and maybe reused) since the kernel queued this event
        }
        try {
            registration.handler.onIo(fd, mask);
        } catch (Throwable t) {
            reportFailure("I/O handler for fd " + fd, t);
        }
    }

    private void runTimers() {
        long now = System.nanoTime();
        Timer timer;
        while ((timer = timers.pollExpired(now)) != null) {
            safeRun(timer.task, "timer");
        }
    }

    private void runTasks() {
        Runnable task;
        for (int i = 0; i < MAX_INBOX_PER_TURN && (task = inbox.poll()) != null; i++) {
            deferred.add(task);
        }
        // Only the tasks present now: tasks they add run next turn, after I/O gets its chance.
        for (int pending = deferred.size(); pending > 0; pending--) {
            safeRun(deferred.poll(), "task");
        }
    }

    private void safeRun(Runnable task, String what) {
        try {
            task.run();
        } catch (Throwable t) {
            reportFailure(what, t);
        }
    }

    /** Logs a failure that escaped a callback or task; the loop keeps running. */
    public void reportFailure(String what, Throwable t) {
        callbackFailures++;
        LOG.log(System.Logger.Level.ERROR, name + ": " + what + " threw; the loop continues", t);
        if (t instanceof VirtualMachineError vmError) {
            throw vmError;
        }
    }

    private void closeResources() {
        List<LoopResource> open = new ArrayList<>(resources);
        resources.clear();
        for (LoopResource resource : open) {
            safeRun(resource::shutdown, "shutdown of " + resource);
        }
    }

    private void drainTasksAfterShutdown() {
        // Tasks the shutdown produced (deferred callbacks such as onSendFailed) still run, bounded
        // so a task that keeps re-submitting itself cannot keep the loop alive.
        for (int round = 0; round < 16 && (!deferred.isEmpty() || !inbox.isEmpty()); round++) {
            runTasks();
            closeResources(); // a task may have opened something (a connection initialising)
        }
        deferred.clear();
        inbox.clear();
    }

    private void releaseNative() {
        // No producer is left (run() waited them out), so no thread writes the eventfd any more.
        EventFd.Signaller s = signaller;
        signaller = null;
        if (scratch != null) {
            if (wakeFd >= 0) {
                Fds.close(scratch, wakeFd);
            }
            if (epfd >= 0) {
                Fds.close(scratch, epfd);
            }
            scratch.close();
        }
        if (s != null) {
            s.close();
        }
        if (receiveArena != null) {
            receiveArena.close();
            receiveArena = null;
            receiveArea = null;
        }
    }
}
