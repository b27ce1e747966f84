/* lori-ffm header group linux_tcp: the kernel UAPI struct tcp_info. */
#include <linux/tcp.h>
