/* lori-ffm header group epoll: epoll, eventfd, timerfd and clocks for the event loop. */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
